"""Real servers for the tests that need one (the Streamlit app, the HTTP API): started in a
subprocess on a free 127.0.0.1 port, waited for until their health URL answers, stopped after, and
their log checked for a traceback."""
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(command: list[str], env: dict, health_path: str, log: Path, port: int, timeout: float = 180):
    """Run ``command`` (which listens on ``port``) until the block ends; yields its base URL once
    ``health_path`` answers 200. The server's output goes to ``log``, which must hold no traceback."""
    with open(log, "wb") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url + health_path, server, log, timeout)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in text, text


def _wait_until_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{server.args[0]} exited with code {server.returncode}: {log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"nothing served {url} within {timeout:.0f} s: {log.read_text()}")
