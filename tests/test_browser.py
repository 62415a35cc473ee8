"""The served app in a real browser: Chromium (Debian's, driven by Playwright) asks the kiosk a
question, finds the answer and the highlighted source, and saves screenshots of every page to
``docs/screenshots/``. ``scripts/install-browser.sh`` installs Chromium and a Korean font."""
import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from servers import free_port, serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "browser-test-password"
QUESTION = "헬스케어 분야 기업은 몇 개인가?"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run"]


@contextmanager
def _serve(index_dir: Path, log_dir: Path, **settings: str):
    """``streamlit run app.py`` on a free port over ``index_dir``, with ``BOT_*`` ``settings``."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: run scripts/install-browser.sh (the Makefile's test target does)")
    port = free_port()
    log = log_dir / "server.log"
    env = dict(os.environ, BOT_INDEX_DIR=str(index_dir), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               **{f"BOT_{name.upper()}": value for name, value in settings.items()})
    streamlit = Path(sys.executable).with_name("streamlit")
    command = [str(streamlit), "run", "app.py", "--server.port", str(port), "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]
    with serving(command, env, "/_stcore/health", log, port) as url:
        yield url


@pytest.fixture(scope="module")
def served_app(corpus_index, tmp_path_factory):
    """The app over the corpus index, with a staff password."""
    with _serve(corpus_index, tmp_path_factory.mktemp("streamlit"), staff_password=PASSWORD) as url:
        yield url


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
    """Ask in the kiosk and wait for this question's answer or refusal (one more than before)."""
    before = page.locator(".answer-text, .refusal").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    page.locator(".answer-text, .refusal").nth(before).wait_for()
    _settle(page)


def _login(page, url: str, path: str) -> None:
    """Log in on a staff page and wait for the login's cookie (later pages of the browser use it)."""
    page.goto(f"{url}/{path}")
    page.get_by_text("English").wait_for()  # app.py ran: the page is inside its navigation
    page.get_by_label("직원 비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.locator("h1").filter(has_not_text="보도자료 Q&A").first.wait_for()
    _settle(page)
    deadline = time.monotonic() + 30
    while _staff_cookie(page.context) is None and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert _staff_cookie(page.context) is not None, "the login did not set its cookie"


def _open_staff_page(page, url: str, path: str) -> None:
    """Open a staff page of a browser that logged in earlier: no password asked."""
    page.goto(f"{url}/{path}")
    page.locator("h1").filter(has_not_text="보도자료 Q&A").first.wait_for()
    _settle(page)
    assert page.get_by_label("직원 비밀번호").count() == 0


def _staff_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == "bot_staff"), None)


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
    assert answer == "8"  # the span as written, no raw quote fragment after it
    assert page.locator(".card-title").count() == 1  # only the passage that states the answer

    _ask(page, "그럼 자동차 분야는?")
    _screenshot(page, "kiosk-follow-up.png")
    assert "6" in page.locator(".answer-text").nth(1).inner_text()
    assert page.locator(".card-title").count() == 2
    assert page.locator(".quote mark.answer-span").nth(1).inner_text() == "6"


def test_kiosk_refusal_and_a_follow_up_after_it(served_app, page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(served_app)
    page.get_by_test_id("stChatInputTextArea").wait_for()
    _settle(page)
    _ask(page, "화성 탐사선은 언제 발사되었나?")
    _ask(page, "그럼 달 탐사선은?")
    _screenshot(page, "kiosk-refusal.png")
    refusals = page.locator(".refusal")
    assert refusals.count() == 2 and page.locator(".answer-text").count() == 0
    hints = page.locator(".hint")
    assert "이름이나 날짜를 넣어" in hints.nth(0).inner_text()
    assert "앞 질문에도 답을 찾지 못해서" in hints.nth(1).inner_text()
    assert refusals.nth(0).inner_text() not in hints.nth(0).inner_text()


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
    assert page.get_by_role("heading", name="답을 뒷받침하는 문단 (1건)").is_visible()
    assert page.get_by_text("근거가 한 건뿐입니다").is_visible()  # the verdict
    assert "8" == page.locator(".quote mark.answer-span").first.inner_text()
    # Every retrieved passage's whole quote is on the page, inside its width.
    quotes = page.locator(".retrieved td:last-child")
    assert quotes.count() >= 3
    width = page.viewport_size["width"]
    for n in range(quotes.count()):
        box = quotes.nth(n).bounding_box()
        assert box and box["width"] > 300 and box["x"] + box["width"] <= width, box

    _open_staff_page(page, served_app, "documents")
    page.get_by_label("제목·본문 검색").fill("지아이랩")
    page.get_by_label("제목·본문 검색").press("Enter")
    _settle(page)
    _screenshot(page, "documents.png")

    _open_staff_page(page, served_app, "evaluation")
    charts = page.get_by_test_id("stVegaLiteChart")
    charts.first.wait_for()
    page.wait_for_timeout(1500)  # vega draws after the element appears
    _screenshot(page, "evaluation.png")
    assert charts.count() == 2 and charts.first.is_visible()
    assert "8" in fact_checked


# --- guards that hold across reloads (app_guards.py, bot/guards.py) ---------------------------
# A server of their own: a small index of real documents, 2 questions a minute, and one trusted
# proxy, so that each browser context is a client of its own through its X-Forwarded-For header
# (every context connects from 127.0.0.1).

RATE_LIMIT = 2


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, embedder, settings, model_dir) -> Path:
    """The seed release and four news articles from corpus/, indexed in a temporary folder."""
    from bot.documents import read_file
    from bot.ingest import ingest_documents
    from bot.model_build import model_fingerprint

    documents, _ = read_file(ROOT / "corpus" / "gwangju-gilab-mou-2020-11.txt", ROOT / "corpus")
    articles, _ = read_file(ROOT / "corpus" / "kowikinews" / "articles.jsonl", ROOT / "corpus")
    index_dir = tmp_path_factory.mktemp("guarded") / "index"
    ingest_documents(documents + articles[:4], index_dir, embedder, settings, model_fingerprint(model_dir))
    return index_dir


@pytest.fixture(scope="module")
def guarded_app(small_index, tmp_path_factory):
    with _serve(small_index, tmp_path_factory.mktemp("guarded-streamlit"), staff_password=PASSWORD,
                rate_limit_per_minute=str(RATE_LIMIT), trusted_proxies="1") as url:
        yield url


@contextmanager
def _client(browser, address: str):
    """A browser context (its own cookies) whose requests come through the trusted proxy from ``address``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR",
                                  extra_http_headers={"X-Forwarded-For": address})
    context.set_default_timeout(180_000)
    try:
        yield context
    finally:
        context.close()


def _open(context, url: str):
    tab = context.new_page()
    tab.goto(url)
    tab.get_by_text("English").wait_for()  # app.py ran
    _settle(tab)
    return tab


def _ask_refused_for_rate(page, question: str) -> str:
    """Ask and expect the rate-limit warning instead of an answer; returns the warning."""
    answers = page.locator(".answer-text, .refusal").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    warning = page.get_by_text("질문이 너무 잦습니다")
    warning.wait_for()
    _settle(page)
    assert page.locator(".answer-text, .refusal").count() == answers
    return warning.inner_text()


def _submit_password(page, password: str) -> None:
    page.get_by_label("직원 비밀번호").fill(password)
    page.get_by_role("button", name="로그인").click()
    _settle(page)


def test_rate_limit_holds_across_a_reload_and_a_new_tab(guarded_app, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with _client(browser, "203.0.113.10") as context:
        page = _open(context, guarded_app)
        started = time.monotonic()
        _ask(page, QUESTION)
        _ask(page, "그럼 자동차 분야는?")
        warning = _ask_refused_for_rate(page, "협약식은 어디에서 열렸나?")
        assert f"1분에 {RATE_LIMIT}개" in warning and "초 뒤에 다시 시도해 주세요" in warning
        _screenshot(page, "kiosk-rate-limited.png")

        page.reload()
        page.get_by_test_id("stChatInputTextArea").wait_for()
        _settle(page)
        _ask_refused_for_rate(page, "협약식은 어디에서 열렸나?")
        _ask_refused_for_rate(_open(context, guarded_app), "지아이랩 대표는 누구인가?")
        assert time.monotonic() - started < 60, "too slow to see the one-minute window hold"

    with _client(browser, "203.0.113.11") as other:  # another visitor is not limited
        page = _open(other, guarded_app)
        _ask(page, QUESTION)
        assert "8" in page.locator(".answer-text").first.inner_text()


def test_staff_login_holds_across_reloads_and_tabs_of_one_browser(guarded_app, browser):
    with _client(browser, "203.0.113.20") as context:
        page = context.new_page()
        _login(page, guarded_app, "fact_check")
        cookie = _staff_cookie(context)
        assert PASSWORD not in cookie["value"] and cookie["sameSite"] == "Strict"
        assert re.fullmatch(r"\d{10}\.[0-9a-f]{32}\.[0-9a-f]{64}", cookie["value"])

        page.reload()
        page.get_by_role("heading", name="사실 확인").wait_for()
        _settle(page)
        assert page.get_by_label("직원 비밀번호").count() == 0
        second = _open(context, f"{guarded_app}/documents")
        second.get_by_role("heading", name="문서 관리").wait_for()
        assert second.get_by_label("직원 비밀번호").count() == 0

        with _client(browser, "203.0.113.21") as fresh:
            stranger = _open(fresh, f"{guarded_app}/fact_check")
            assert stranger.get_by_label("직원 비밀번호").is_visible()
            expires, nonce, mac = cookie["value"].split(".")
            forged = f"{int(expires) + 86_400}.{nonce}.{mac}"  # a longer session, same signature
            fresh.add_cookies([{"name": "bot_staff", "value": forged, "url": guarded_app}])
            stranger.reload()
            stranger.get_by_label("직원 비밀번호").wait_for()
            assert stranger.get_by_role("heading", name="사실 확인").count() == 0

        second.get_by_test_id("stExpandSidebarButton").click()
        second.get_by_role("button", name="로그아웃").click()
        _settle(second)
        page.reload()  # the other tab: logged out too, its cookie revoked
        page.get_by_label("직원 비밀번호").wait_for()
        assert page.get_by_role("heading", name="사실 확인").count() == 0


def test_wrong_passwords_lock_the_client_out_even_against_the_right_one(guarded_app, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with _client(browser, "203.0.113.30") as context:
        page = _open(context, f"{guarded_app}/fact_check")
        for _ in range(4):
            _submit_password(page, "틀린-비밀번호")
            assert page.get_by_text("비밀번호가 맞지 않습니다.").is_visible()
        _submit_password(page, "틀린-비밀번호")
        locked = page.get_by_text("로그인이 잠겼습니다")
        assert locked.is_visible() and "10분 뒤에" in locked.inner_text()
        _submit_password(page, PASSWORD)
        assert page.get_by_text("로그인이 잠겼습니다").is_visible()
        assert page.get_by_role("heading", name="사실 확인").count() == 0
        _screenshot(page, "staff-locked.png")
        page.reload()
        page.get_by_text("로그인이 잠겼습니다").wait_for()  # said before anyone types
        assert _staff_cookie(context) is None

    with _client(browser, "203.0.113.31") as other:  # another client may still log in
        page = other.new_page()
        _login(page, guarded_app, "fact_check")
        assert page.get_by_role("heading", name="사실 확인").is_visible()
