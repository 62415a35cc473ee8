"""The embeddable widget (``web/widget.html``) in headless Chromium against the real HTTP API: the
API runs in a uvicorn subprocess on a free 127.0.0.1 port over a small index of real releases and
serves the widget at ``/widget/``; the widget asks, shows the answer with its numbered, highlighted
source, follows up by conversation id, and shows a document's markup as text."""
import os
import sys
from pathlib import Path

import pytest
from servers import free_port, serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
SEED_TITLE = "이용섭 시장 “AI 생태계 조성 지원 통한 일자리 창출에 역량 집중할 것”"
QUESTION = "헬스케어 분야 기업은 몇 개인가?"
MARKUP_RELEASE = (
    "date 2024-05 광주시, 드론 배송 시범사업 착수\n\n"
    "[테스트일보 사회부 홍길동 기자] 광주광역시는 3일 시청에서 드론 배송 시범사업 출범식을 열었다고 밝혔다.\n\n"
    "이번 드론 배송 시범사업에는 <img src=x onerror=\"document.title='hacked'\"> 물류 기업 17개사가 "
    "참여하며, 내년 3월까지 광산구 일대에서 의약품을 배송한다.\n"
)


@pytest.fixture(scope="module")
def widget_index(tmp_path_factory, embedder, settings, model_dir) -> Path:
    """The seed release, four news articles and a release whose text holds an HTML tag."""
    from bot.documents import read_file
    from bot.ingest import ingest_documents
    from bot.model_build import model_fingerprint

    corpus = tmp_path_factory.mktemp("widget-corpus")
    (corpus / "drone-2024.txt").write_text(MARKUP_RELEASE, encoding="utf-8")
    seed, _ = read_file(ROOT / "corpus" / "gwangju-gilab-mou-2020-11.txt", ROOT / "corpus")
    articles, _ = read_file(ROOT / "corpus" / "kowikinews" / "articles.jsonl", ROOT / "corpus")
    markup, _ = read_file(corpus / "drone-2024.txt", corpus)
    index_dir = tmp_path_factory.mktemp("widget") / "index"
    ingest_documents(seed + articles[:4] + markup, index_dir, embedder, settings, model_fingerprint(model_dir))
    return index_dir


@pytest.fixture(scope="module")
def api(widget_index, tmp_path_factory):
    """``uvicorn --factory bot.api:create_app`` (as ``make api``) on a free port over the small
    index, no CORS configured; its URL."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: run scripts/install-browser.sh")
    port = free_port()
    env = dict(os.environ, BOT_INDEX_DIR=str(widget_index), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("BOT_CORS_ORIGINS", None)
    command = [sys.executable, "-m", "uvicorn", "--factory", "bot.api:create_app", "--host", "127.0.0.1",
               "--port", str(port)]
    with serving(command, env, "/healthz", tmp_path_factory.mktemp("api") / "api.log", port) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture
def widget(browser, api):
    """The widget page as an iframe would open it, with every page error and console error kept."""
    context = browser.new_context(viewport={"width": 720, "height": 900}, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(120_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.goto(f"{api}/widget/widget.html")
    page.locator("#question").wait_for()
    yield page, errors
    context.close()


def _ask(page, question: str) -> None:
    before = page.locator(".turn").count()
    page.fill("#question", question)
    page.click("#ask")
    page.locator(".turn").nth(before).wait_for()


def test_widget_shows_the_answer_with_its_highlighted_source(widget):
    page, errors = widget
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _ask(page, QUESTION)
    assert page.locator(".turn .answer").first.inner_text() == "8"
    sources = page.locator(".turn").first.locator(".source")
    assert sources.count() == 1  # only the passage that states the answer
    assert sources.first.locator(".source-title").inner_text() == f"1. {SEED_TITLE}"
    assert "아시아경제" in sources.first.locator(".source-meta").inner_text()
    mark = sources.first.locator("mark.answer-span")
    assert mark.is_visible() and mark.inner_text() == "8"
    assert "헬스케어 분야 8" in sources.first.locator(".quote").inner_text()

    _ask(page, "그럼 자동차 분야는?")  # a follow-up, by the conversation id the API gave
    assert page.locator(".turn .answer").nth(1).inner_text() == "6"
    assert page.locator(".turn").nth(1).locator("mark.answer-span").inner_text() == "6"
    page.screenshot(path=str(SCREENSHOTS / "widget.png"), full_page=True)
    assert errors == []


def test_widget_shows_document_markup_as_text_and_refuses_plainly(widget):
    page, errors = widget
    _ask(page, "드론 배송 시범사업에 참여하는 기업은 몇 개인가?")
    turn = page.locator(".turn").first
    assert "17" in turn.locator(".answer").inner_text()
    assert "<img src=x onerror=" in turn.locator(".quote").inner_text()
    assert page.locator(".widget img").count() == 0 and page.title() != "hacked"

    _ask(page, "부산의 인구는 몇 명인가?")
    refused = page.locator(".turn").nth(1)
    assert refused.locator(".refusal").is_visible() and refused.locator(".answer").count() == 0
    assert refused.locator(".hint").inner_text() != refused.locator(".refusal").inner_text()
    assert errors == []
