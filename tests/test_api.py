"""The HTTP API and the Kakao skill endpoint (bot/api.py), started for real: uvicorn in a subprocess on
a free 127.0.0.1 port, over a small index of real documents from corpus/, called over HTTP."""
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest
from servers import free_port, serving

from test_kakao import FIXTURES, assert_skill_response

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SEED = "gwangju-gilab-mou-2020-11"
TOKEN = "test-staff-token-0123456789abcdef"
ALLOWED_ORIGIN = "https://www.gwangju.go.kr"
RATE_LIMIT = 3  # questions a minute per client; each test asks from its own address (X-Forwarded-For)
HEALTHCARE = "헬스케어 분야 기업은 몇 개인가?"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, embedder, settings, model_dir) -> Path:
    """The seed release and four Wikinews articles (2009-01 to 2009-08) from corpus/, indexed."""
    from bot.documents import read_file
    from bot.ingest import ingest_documents
    from bot.model_build import model_fingerprint

    seed, _ = read_file(ROOT / "corpus" / f"{SEED}.txt", ROOT / "corpus")
    articles, _ = read_file(ROOT / "corpus" / "kowikinews" / "articles.jsonl", ROOT / "corpus")
    index_dir = tmp_path_factory.mktemp("api") / "index"
    ingest_documents(seed + articles[:4], index_dir, embedder, settings, model_fingerprint(model_dir))
    return index_dir


@pytest.fixture(scope="module")
def api(small_index, model_dir, tmp_path_factory):
    """``uvicorn --factory bot.api:create_app`` (what `make api` runs) in a subprocess."""
    folder = tmp_path_factory.mktemp("api-server")
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", BOT_INDEX_DIR=str(small_index),
               BOT_MODEL_DIR=str(model_dir), BOT_CORPUS_DIR=str(folder / "corpus"), BOT_API_TOKEN=TOKEN,
               BOT_CORS_ORIGINS=ALLOWED_ORIGIN, BOT_RATE_LIMIT_PER_MINUTE=str(RATE_LIMIT),
               BOT_RATE_LIMIT_TOTAL_PER_MINUTE="1000", BOT_TRUSTED_PROXIES="1")
    command = [sys.executable, "-m", "uvicorn", "--factory", "bot.api:create_app", "--host", "127.0.0.1",
               "--port", str(port)]
    with serving(command, env, "/healthz", folder / "server.log", port) as url:
        yield url


def call(url: str, method: str, path: str, body=None, client: str = "10.0.0.1", headers=None, data=None):
    """(status, headers, parsed JSON or text) of one request from ``client`` (through the trusted proxy)."""
    sent = {"X-Forwarded-For": client, **(headers or {})}
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url + path, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, got, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, got, raw = error.code, error.headers, error.read()
    text = raw.decode("utf-8")
    is_json = (got.get("Content-Type") or "").startswith("application/json")
    return status, got, json.loads(text) if is_json else text


def assert_error(status_and_body, status: int, code: str) -> dict:
    got, _, body = status_and_body
    assert got == status, body
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    assert "Traceback" not in message and 'File "' not in message and "site-packages" not in message
    return body["error"]


def _kakao(url: str, name: str, utterance: str | None = None):
    """Post a recorded skill request as Kakao does: every reply must be a valid 2.0 response within
    5 s. On a busy machine the answer may not be ready by the skill's deadline; the reply then asks
    to send the question again, and the user's retry (at most three here) gets it."""
    payload = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    if utterance is not None:
        payload["userRequest"]["utterance"] = utterance
    for _ in range(4):
        started = time.monotonic()
        status, _, body = call(url, "POST", "/kakao/skill", payload, client="211.249.220.24")  # Kakao's servers
        elapsed = time.monotonic() - started
        assert status == 200, body
        assert elapsed < 5.0, f"{name}: {elapsed:.1f} s is over Kakao's 5 s"
        assert_skill_response(body)
        text = body["template"]["outputs"][0]["simpleText"]["text"]
        if not text.startswith(("답을 찾는 데 시간이", "Finding the answer is taking")):
            return text, body["template"].get("quickReplies", [])
    raise AssertionError(f"{name}: no answer after three retries")


def test_health_says_what_is_loaded(api):
    status, _, body = call(api, "GET", "/healthz")
    assert status == 200 and body["status"] == "ok"
    assert body["model"]["name"] == "intfloat/multilingual-e5-small"
    assert body["index"]["documents"] == 5 and body["index"]["passages"] > 5
    assert body["index"]["chunk_size"] == 400 and body["reader"]["precision"] in ("float32", "bfloat16")


def test_ask_answers_with_a_quote_at_its_offsets_then_a_follow_up(api):
    status, _, answer = call(api, "POST", "/v1/ask", {"question": HEALTHCARE}, client="10.1.0.1")
    assert status == 200 and not answer["refused"], answer
    assert "8" in answer["text"]
    first = answer["citations"][0]
    assert first["doc_id"] == SEED and first["date"] == "2020-11"
    status, _, document = call(api, "GET", f"/v1/documents/{SEED}")
    assert status == 200 and document["text"][first["start"]:first["end"]] == first["quote"]
    assert document["text"][first["span_start"]:first["span_end"]] in ("8", "헬스케어 분야 8")
    status, _, follow_up = call(api, "POST", "/v1/ask", {"question": "그럼 자동차 분야는?",
                                                         "conversation_id": answer["conversation_id"]},
                                client="10.1.0.1")
    assert status == 200 and not follow_up["refused"], follow_up
    assert follow_up["conversation_id"] == answer["conversation_id"]
    assert "자동차" in follow_up["rewritten_question"] and "6" in follow_up["text"]


def test_a_follow_up_from_the_clients_own_history(api):
    history = [{"question": HEALTHCARE, "answer": "헬스케어 분야 8개"}]
    status, _, answer = call(api, "POST", "/v1/ask", {"question": "그럼 보안 분야는?", "history": history},
                             client="10.1.0.2")
    assert status == 200 and not answer["refused"], answer
    assert "보안" in answer["rewritten_question"] and "4" in answer["text"]
    assert_error(call(api, "POST", "/v1/ask", {"question": "보안은?", "history": history,
                                               "conversation_id": answer["conversation_id"]},
                      client="10.1.0.2"), 422, "bad_argument")


def test_an_unknown_conversation_starts_a_new_one(api):
    status, _, answer = call(api, "POST", "/v1/ask", {"question": HEALTHCARE, "conversation_id": "expired-id"},
                             client="10.1.0.3")
    assert status == 200 and answer["conversation_id"] != "expired-id" and answer["rewritten_question"] is None


def test_a_question_the_releases_do_not_answer_is_refused_in_its_language(api):
    status, _, korean = call(api, "POST", "/v1/ask", {"question": "2030년 월드컵 우승국은 어디인가?"},
                             client="10.1.0.4")
    assert status == 200 and korean["refused"] and korean["citations"] == []
    assert korean["text"] == "보도자료에서 이 질문에 대한 답을 찾을 수 없습니다."
    status, _, english = call(api, "POST", "/v1/ask", {"question": "Who won the 2030 World Cup?"},
                              client="10.1.0.4")
    assert status == 200 and english["refused"] and english["text"] == "I can't find that in the press materials."
    status, _, asked_in = call(api, "POST", "/v1/ask", {"question": "2030년 월드컵 우승국은?", "lang": "en"},
                               client="10.1.0.4")
    assert asked_in["refused"] and asked_in["text"] == "I can't find that in the press materials."


def test_search_with_a_date_filter(api):
    status, _, everything = call(api, "POST", "/v1/search", {"question": "사망", "k": 20}, client="10.1.0.5")
    assert status == 200 and {p["date"][:4] for p in everything["passages"]} >= {"2009", "2020"}
    status, _, summer = call(api, "POST", "/v1/search", {"question": "사망", "k": 20, "date_from": "2009-06",
                                                         "date_to": "2009-08"}, client="10.1.0.5")
    assert status == 200 and summer["passages"], summer
    assert {p["date"] for p in summer["passages"]} <= {"2009-06-25", "2009-08-09"}
    status, _, document = call(api, "GET", f"/v1/documents/{summer['passages'][0]['doc_id']}")
    passage = summer["passages"][0]
    assert document["text"][passage["start"]:passage["end"]] == passage["text"]


@pytest.mark.parametrize("body,status,code", [
    ({"question": "헬스케어 " * 101}, 413, "question_too_long"),
    ({"question": "가" * 5000}, 413, "question_too_long"),
    ({"question": "   \u200b  "}, 422, "bad_question"),
    ({"question": 123}, 422, "malformed_request"),
    ({"query": HEALTHCARE}, 422, "malformed_request"),
    ({"question": HEALTHCARE, "history": [{"question": "x"}]}, 422, "malformed_request"),
    ({"question": HEALTHCARE, "lang": "fr"}, 422, "malformed_request"),
    ({"question": HEALTHCARE, "history": [{"question": "가" * 3000, "answer": "8개"}]}, 422, "bad_question"),
])
def test_a_bad_question_is_a_json_error(api, body, status, code):
    client = f"10.2.{status % 256}.{zlib.crc32(json.dumps(body).encode()) % 250}"
    error = assert_error(call(api, "POST", "/v1/ask", body, client=client), status, code)
    if code == "question_too_long":
        assert "500" in error["message"]


@pytest.mark.parametrize("body", [{"question": "사망", "k": 0}, {"question": "사망", "k": "many"},
                                  {"question": "사망", "date_from": "yesterday"},
                                  {"question": "사망", "date_to": "2009-13-45-01"}])
def test_bad_search_arguments_are_named(api, body):
    assert_error(call(api, "POST", "/v1/search", body, client="10.3.0.1"), 422, "malformed_request")


def test_bodies_that_are_not_json_or_too_big_are_refused(api):
    assert_error(call(api, "POST", "/v1/ask", data=b"{not json", client="10.4.0.1",
                      headers={"Content-Type": "application/json"}), 422, "malformed_request")
    huge = json.dumps({"question": "가" * 70_000}).encode()
    assert_error(call(api, "POST", "/v1/ask", data=huge, client="10.4.0.1",
                      headers={"Content-Type": "application/json"}), 413, "payload_too_large")
    assert_error(call(api, "GET", "/v1/nowhere"), 404, "not_found")


def test_the_rate_limit_answers_429_with_retry_after(api):
    for _ in range(RATE_LIMIT):
        status, _, _ = call(api, "POST", "/v1/search", {"question": "협약"}, client="10.5.0.1")
        assert status == 200
    status, headers, body = call(api, "POST", "/v1/ask", {"question": HEALTHCARE}, client="10.5.0.1")
    assert_error((status, headers, body), 429, "rate_limited")
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert call(api, "POST", "/v1/search", {"question": "협약"}, client="10.5.0.2")[0] == 200  # another client


def test_documents_by_id(api):
    status, _, document = call(api, "GET", f"/v1/documents/{SEED}")
    assert status == 200 and document["doc_id"] == SEED and "지아이랩" in document["text"]
    assert_error(call(api, "GET", "/v1/documents/no/such-document"), 404, "document_not_found")


def test_staff_upload_and_remove_need_the_token(api):
    release = SHARED / "formats" / "moef-2024q1-odi.hwpx"
    if not release.exists():
        pytest.skip("../shared/data/formats is not here")
    data = release.read_bytes()
    upload = "/v1/documents?filename=moef-2024q1-odi.hwpx"
    octet = {"Content-Type": "application/octet-stream"}
    # Several megabytes: the 401 must arrive as an answer, not as a connection reset mid-upload.
    large = data * 10
    assert_error(call(api, "POST", upload, data=large, headers=octet, client="10.6.0.1"), 401, "unauthorized")
    assert_error(call(api, "POST", upload, data=large, client="10.6.0.1",
                      headers={**octet, "Authorization": "Bearer wrong-token-0123456789"}), 401, "unauthorized")
    staff = {**octet, "Authorization": f"Bearer {TOKEN}"}
    status, _, added = call(api, "POST", upload, data=data, headers=staff, client="10.6.0.1")
    assert status == 201, added
    (document,) = added["documents"]
    assert document["doc_id"] == "uploads/moef-2024q1-odi.hwpx" and added["passages"] > 0
    assert call(api, "GET", "/healthz")[2]["index"]["documents"] == 6
    status, _, found = call(api, "POST", "/v1/search", {"question": "해외직접투자", "k": 3}, client="10.6.0.2")
    assert found["passages"][0]["doc_id"] == document["doc_id"]
    status, _, answer = call(api, "POST", "/v1/ask", {"question": "2024년 1분기 해외직접투자액은 얼마인가?"},
                             client="10.6.0.2")
    # The uploaded release is read and answers (which of its figures the reader picks is the
    # reader's business: tests/test_formats_ask.py asks for the figure itself).
    assert not answer["refused"], answer
    assert answer["citations"][0]["doc_id"] == document["doc_id"]
    doc_path = f"/v1/documents/{document['doc_id']}"
    assert call(api, "GET", doc_path)[0] == 200
    assert_error(call(api, "DELETE", doc_path, client="10.6.0.1"), 401, "unauthorized")
    status, _, removed = call(api, "DELETE", doc_path, headers=staff, client="10.6.0.1")
    assert status == 200 and removed == {"removed": document["doc_id"], "upload_deleted": True}
    assert_error(call(api, "GET", doc_path), 404, "document_not_found")
    assert_error(call(api, "DELETE", doc_path, headers=staff, client="10.6.0.1"), 404, "document_not_found")


def test_docs_serve_the_openapi_page_with_nothing_from_another_host(api):
    status, headers, page = call(api, "GET", "/docs")
    assert status == 200 and "swagger-ui" in page and "/openapi.json" in page
    # an intranet kiosk reaches no CDN: every script and style comes from this server
    assert not re.findall(r"(?:src|href)=[\"']https?://", page), page
    for asset in re.findall(r"[\"'](/docs-assets/[^\"']+)[\"']", page):
        assert urllib.request.urlopen(api + asset, timeout=10).status == 200, asset
    assert "/docs-assets/swagger-ui-bundle.js" in page
    status, _, redoc = call(api, "GET", "/redoc")
    assert status == 200 and "/docs-assets/redoc.standalone.js" in redoc and "fonts.googleapis" not in redoc
    status, _, schema = call(api, "GET", "/openapi.json")
    assert status == 200 and schema["openapi"].startswith("3.")
    for path in ("/v1/ask", "/v1/search", "/v1/documents/{doc_id}", "/healthz", "/kakao/skill"):
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/v1/documents"]  # the token is set: staff operations exist


def test_cors_only_for_the_configured_origin(api):
    _, allowed, _ = call(api, "POST", "/v1/search", {"question": "협약"}, client="10.7.0.1",
                         headers={"Origin": ALLOWED_ORIGIN})
    assert allowed.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    _, other, _ = call(api, "POST", "/v1/search", {"question": "협약"}, client="10.7.0.2",
                       headers={"Origin": "https://evil.example"})
    assert other.get("Access-Control-Allow-Origin") is None


def test_kakao_korean_answer_with_its_source_then_a_follow_up_and_the_source(api):
    text, replies = _kakao(api, "ko-healthcare.json")
    title = call(api, "GET", f"/v1/documents/{SEED}")[2]["title"]
    assert "8" in text.split("\n")[0] and f"출처: {title} (2020-11" in text
    assert replies and replies[0] == {"label": "출처 1", "action": "message", "messageText": "출처 1"}
    text, _ = _kakao(api, "ko-follow-up.json")
    assert "6" in text.split("\n")[0], text
    text, replies = _kakao(api, "ko-source.json")
    assert text.startswith(f"[1] {title}") and "자동차 분야 6" in text  # the follow-up's quote
    assert replies[0]["label"] == "출처 1"


def test_kakao_english_answer_and_refusal(api):
    text, replies = _kakao(api, "en-healthcare.json")
    assert "8" in text.split("\n")[0] and "Source: " in text and replies[0]["label"] == "Source 1"
    text, replies = _kakao(api, "en-refusal.json")
    assert text == "I can't find that in the press materials." and replies == []


def test_kakao_empty_utterance_asks_for_a_question(api):
    text, replies = _kakao(api, "empty.json")
    assert text.startswith("보도자료에 대해 궁금한 점을 질문해 주세요") and replies == []
    text, _ = _kakao(api, "empty.json", utterance=" \u200b\n ")
    assert text.startswith("보도자료에 대해 궁금한 점을 질문해 주세요")


def test_kakao_refuses_what_is_not_a_skill_request_as_json(api):
    assert_error(call(api, "POST", "/kakao/skill", {"utterance": "질문"}), 422, "bad_argument")
    assert_error(call(api, "POST", "/kakao/skill", ["질문"]), 422, "malformed_request")


# --- in-process: the same app factory over a Bot loaded here, served by uvicorn in a thread ---

@contextmanager
def _serve_in_thread(app):
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def local_bot(small_index, settings, embedder):
    from bot import Bot

    return Bot.load(small_index, settings=settings, embedder=embedder)


def test_without_a_token_there_are_no_staff_operations(local_bot, settings, small_index):
    from bot.api import create_app

    app = create_app(settings.with_(index_dir=small_index, api_token=None), bot=local_bot)
    with _serve_in_thread(app) as url:
        assert_error(call(url, "POST", "/v1/documents?filename=a.txt", data="보도자료".encode(),
                          headers={"Authorization": f"Bearer {TOKEN}"}), 404, "not_found")
        assert_error(call(url, "DELETE", f"/v1/documents/{SEED}", headers={"Authorization": f"Bearer {TOKEN}"}),
                     405, "method_not_allowed")
        assert "/v1/documents" not in call(url, "GET", "/openapi.json")[2]["paths"]
        _, headers, _ = call(url, "POST", "/v1/search", {"question": "협약"}, headers={"Origin": ALLOWED_ORIGIN})
        assert headers.get("Access-Control-Allow-Origin") is None  # CORS off unless configured


def test_kakao_says_ask_again_at_its_deadline_and_the_retry_gets_the_answer(local_bot, settings, small_index):
    """Every question thread busy: the skill answers "send it again" at its deadline instead of
    letting Kakao time out; the question keeps its place, and the retry gets its answer."""
    from bot.api import WORKERS, create_app

    app = create_app(settings.with_(index_dir=small_index, kakao_answer_seconds=0.5), bot=local_bot)
    service = app.state.service
    release = threading.Event()
    blockers = [service.executor.submit(release.wait) for _ in range(WORKERS)]
    payload = json.loads((FIXTURES / "ko-healthcare.json").read_text(encoding="utf-8"))
    key = "kakao:" + payload["userRequest"]["user"]["id"]
    with _serve_in_thread(app) as url:
        try:
            started = time.monotonic()
            status, _, body = call(url, "POST", "/kakao/skill", payload)
            assert time.monotonic() - started < 2.0
            assert status == 200 and body["template"]["outputs"][0]["simpleText"]["text"].startswith(
                "답을 찾는 데 시간이 조금 더 걸리고 있어요")
            assert_skill_response(body)
        finally:
            release.set()
        for blocker in blockers:
            blocker.result(timeout=10)
        service.running(key).result(timeout=60)
        status, _, body = call(url, "POST", "/kakao/skill", payload)
        assert "8" in body["template"]["outputs"][0]["simpleText"]["text"].split("\n")[0], body
    assert len(service.conversations.get(key, time.monotonic()).turns) == 1  # answered once, not twice
