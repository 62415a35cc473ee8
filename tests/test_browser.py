"""The served app in a real browser: Chromium (Debian's, driven by Playwright) asks the kiosk a
question, finds the answer and the highlighted source, and saves screenshots of every page to
``docs/screenshots/``. ``scripts/install-browser.sh`` installs Chromium and a Korean font."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "browser-test-password"
QUESTION = "헬스케어 분야 기업은 몇 개인가?"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(url: str, server: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not serve {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def served_app(corpus_index, tmp_path_factory):
    """``streamlit run app.py`` on a free port over the corpus index, with a staff password."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: run scripts/install-browser.sh (the Makefile's test target does)")
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = dict(os.environ, BOT_INDEX_DIR=str(corpus_index), BOT_STAFF_PASSWORD=PASSWORD,
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    streamlit = Path(sys.executable).with_name("streamlit")
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [str(streamlit), "run", "app.py", "--server.port", str(port), "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace"), log.read_text()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    tab = context.new_page()
    tab.set_default_timeout(180_000)
    yield tab
    context.close()


def _settle(page) -> None:
    """Wait until Streamlit has finished the current script run and drawn its elements."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'", timeout=180_000)
    page.wait_for_timeout(1500)


def _screenshot(page, name: str) -> None:
    """The whole page: the viewport grows to the main area's height (it scrolls inside itself)."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
        "[data-testid=\"stMainBlockContainer\"]')].map(e => e.scrollHeight), 900)")
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 160, 8000)})
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SCREENSHOTS / name))
    page.set_viewport_size({"width": 1280, "height": 900})


def _ask(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    page.locator(".answer-text, .refusal").first.wait_for()
    _settle(page)


def _login(page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}")
    page.get_by_text("English").wait_for()  # app.py ran: the page is inside its navigation
    page.get_by_label("직원 비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.locator("h1").filter(has_not_text="보도자료 Q&A").first.wait_for()
    _settle(page)


def test_kiosk_answers_with_a_highlighted_source(served_app, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(served_app)
    page.get_by_test_id("stChatInputTextArea").wait_for()
    _settle(page)
    _ask(page, QUESTION)
    _screenshot(page, "kiosk.png")
    answer = page.locator(".answer-text").first.inner_text()
    assert "8" in answer
    mark = page.locator(".quote mark.answer-span").first
    assert mark.is_visible() and "8" in mark.inner_text()
    assert "헬스케어 분야" in page.locator(".quote").first.inner_text()
    assert "생태계" in page.locator(".card-title").first.inner_text()


def test_document_text_is_never_markup(served_app, page):
    """Every card and document block holds text only: no links, scripts or images from documents."""
    page.goto(served_app)
    page.get_by_test_id("stChatInputTextArea").wait_for()
    _ask(page, "사람인이 조사한 기업은 몇 개사인가?")
    blocks = page.locator(".quote, .doc-text, .card-title, .plain-text")
    assert blocks.count() > 0
    assert page.locator(".quote a, .doc-text a, .quote script, .doc-text img, .card-title a").count() == 0


def test_staff_pages(served_app, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _login(page, served_app, "fact_check")
    page.get_by_label("확인할 질문").fill(QUESTION)
    page.get_by_role("button", name="확인", exact=True).click()
    page.locator(".answer-text").first.wait_for()
    _settle(page)
    _screenshot(page, "fact-check.png")
    fact_checked = page.locator(".answer-text").first.inner_text()
    assert page.get_by_role("button", name="CSV로 내려받기").is_visible()

    _login(page, served_app, "documents")
    page.get_by_label("제목·본문 검색").fill("지아이랩")
    page.get_by_label("제목·본문 검색").press("Enter")
    _settle(page)
    _screenshot(page, "documents.png")

    _login(page, served_app, "evaluation")
    _screenshot(page, "evaluation.png")
    assert "8" in fact_checked
