"""Durable file operations of the index folder: the writers' lock, fsync, publish by rename.

``writing`` holds ``index/.lock`` (``fcntl.flock``, re-entrant within a process) for a writer;
``publish`` writes a file or folder under a ``.tmp-`` name, fsyncs it and renames it into place,
so that a reader sees the old one or the new one, never a part.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

LOCK = ".lock"


@contextmanager
def writing(index_dir: str | Path):
    """Hold the writers' lock of ``index_dir`` (created if missing): one writer at a time, across
    threads and processes; re-entrant within a thread, so ``bot.updates`` can hold it from its
    read to ``write_index``'s pointer swap."""
    index_dir = Path(index_dir).resolve()
    if not index_dir.is_dir():
        index_dir.mkdir(parents=True, exist_ok=True)
        fsync_folder(index_dir.parent)
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(index_dir, _WriterLock())
    with lock.in_process:
        if lock.depth == 0:
            handle = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
            except BaseException:
                os.close(handle)
                raise
            lock.handle = handle
        lock.depth += 1
        try:
            yield index_dir
        finally:
            lock.depth -= 1
            if lock.depth == 0:
                os.close(lock.handle)  # releases the flock
                lock.handle = None


class _WriterLock:
    """This process's side of one index's lock: a thread lock and the open, flocked lock file."""

    def __init__(self) -> None:
        self.in_process = threading.RLock()
        self.depth = 0
        self.handle: int | None = None


_LOCKS: dict[Path, _WriterLock] = {}
_LOCKS_GUARD = threading.Lock()


def publish(folder: Path, name: str, save) -> None:
    """``save(path)`` into ``.tmp-<name>``, fsync, rename to ``name``, fsync the folder."""
    pending = folder / f".tmp-{name}"
    remove(pending)
    save(pending)
    if pending.is_dir():
        fsync_tree(pending)
    else:
        with open(pending, "rb") as handle:
            os.fsync(handle.fileno())
    remove(folder / name)
    os.rename(pending, folder / name)
    fsync_folder(folder)


def remove(path: Path) -> None:
    """Remove a file or folder; best effort (what cannot be removed now is tried again later)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        pass


def fsync_tree(folder: Path) -> None:
    """fsync every file under ``folder``, then every folder (deepest first), so the names stick too."""
    folders = [folder]
    for path in sorted(folder.rglob("*")):
        if path.is_dir():
            folders.append(path)
        elif path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    for path in reversed(folders):
        fsync_folder(path)


def fsync_folder(folder: Path) -> None:
    """fsync a folder, so that the names created or renamed in it stick."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
