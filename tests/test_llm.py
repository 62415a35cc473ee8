"""The optional LLM backend against a local chat-completions server: the request it sends, the
grounding check on the reply, and every way the endpoint can fail. No network beyond 127.0.0.1."""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.llm import LLMUnavailable, Passage, check, complete, llm_answer, sentences

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "corpus" / "gwangju-gilab-mou-2020-11.txt").read_text(encoding="utf-8")
TITLE = "이용섭 시장 “AI 생태계 조성 지원 통한 일자리 창출에 역량 집중할 것”"
QUESTION = "헬스케어 분야 기업은 몇 곳인가?"
REFUSAL = "보도자료에서 이 질문에 대한 답을 찾을 수 없습니다."


def paragraph(text: str, needle: str) -> tuple[int, int]:
    """The offsets of the paragraph (here: one sentence) of ``text`` that contains ``needle``."""
    at = text.index(needle)
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return start, len(text) if end == -1 else end


def article_passage(number: int, needle: str) -> Passage:
    start, end = paragraph(ARTICLE, needle)
    return Passage(number=number, doc_id="gwangju-gilab-mou-2020-11", title=TITLE,
                   date="2020-11", text=ARTICLE[start:end])


# [1]: 50개사는 기업이 43개, ... 빅데이터 분야 28, 헬스케어 분야 8, 자동차 분야 6, ...
# [2]: 전창호 ㈜지아이랩 대표는 “광주의 우수한 산·학·연 협력을 통해 ...”고 말했다.
PASSAGES = [article_passage(1, "헬스케어 분야 8"), article_passage(2, "전창호 ㈜지아이랩 대표는")]


def test_passages_are_slices_of_the_seed_article():
    first, second = PASSAGES
    assert first.text.startswith("50개사는 기업이 43개") and "헬스케어 분야 8," in first.text
    assert second.text.startswith("전창호 ㈜지아이랩 대표는") and second.text.endswith("말했다.")
    for passage in PASSAGES:
        start = ARTICLE.index(passage.text)
        assert ARTICLE[start:start + len(passage.text)] == passage.text


# A local chat-completions server ------------------------------------------------------------

@dataclass
class ChatServer:
    """What the test server replies (``reply``, in ``mode`` "ok", "error", "slow" or "garbage")
    and what it received (``requests``: path and JSON body of each POST)."""

    url: str = ""
    reply: str = ""
    mode: str = "ok"
    requests: list[dict] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class ChatHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (the http.server name)
        state: ChatServer = self.server.state
        length = int(self.headers.get("Content-Length", 0))
        state.requests.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
        if state.mode == "slow":
            state.release.wait(2.0)  # longer than the client's timeout; released at teardown
        if state.mode == "error":
            self._send(500, b'{"error": "model crashed"}')
        elif state.mode == "garbage":
            self._send(200, b"<html>not json</html>")
        else:
            body = {"id": "chatcmpl-test", "object": "chat.completion", "model": "test",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": state.reply}}]}
            self._send(200, json.dumps(body, ensure_ascii=False).encode("utf-8"))

    def _send(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (the timeout test)

    def log_message(self, format, *args) -> None:  # noqa: A002 (the http.server signature)
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ChatHandler)
    httpd.state = ChatServer(url=f"http://127.0.0.1:{httpd.server_address[1]}/v1")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield httpd.state
    httpd.state.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def ask(server: ChatServer, reply: str, question: str = QUESTION, language: str = "ko"):
    server.reply = reply
    return llm_answer(server.url, question, PASSAGES, language, timeout=5)


# The request ----------------------------------------------------------------------------------

def test_the_request_is_a_chat_completion_with_the_numbered_passages_and_the_question(server):
    ask(server, "헬스케어 분야 기업은 8곳입니다 [1].")
    assert len(server.requests) == 1
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    body = request["body"]
    assert body["temperature"] == 0 and body["model"] == "default"
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user"]
    user = body["messages"][1]["content"]
    assert "[1] " + TITLE in user and "[2] " + TITLE in user
    assert user.index("[1]") < user.index(PASSAGES[0].text) < user.index("[2]")
    assert user.index("[2]") < user.index(PASSAGES[1].text) < user.index(QUESTION)
    system = body["messages"][0]["content"]
    assert REFUSAL in system and "Korean" in system


def test_an_english_question_asks_for_english_and_the_english_refusal(server):
    ask(server, "The health care sector has 8 companies [1].",
        question="How many health care companies?", language="en")
    system = server.requests[0]["body"]["messages"][0]["content"]
    assert "Answer in English" in system and "can't find" in system
    assert REFUSAL not in system


# The grounding check on the reply -------------------------------------------------------------

def test_a_grounded_answer_citing_passage_1_is_accepted(server):
    answer = ask(server, "  헬스케어 분야 기업은 8곳이고, 자동차 분야는 6곳입니다 [1].  ")
    assert answer.ok, answer.reason
    assert answer.cited == (1,)
    assert answer.reason == ""
    assert answer.text == "헬스케어 분야 기업은 8곳이고, 자동차 분야는 6곳입니다 [1]."


def test_a_number_the_cited_passage_does_not_state_is_rejected(server):
    answer = ask(server, "헬스케어 분야 기업은 9곳입니다 [1].")
    assert not answer.ok
    assert answer.reason == "number 9 not in cited passages [1]"
    assert answer.cited == (1,)


def test_a_number_inside_a_larger_number_is_not_grounded():
    # Passage 1 writes 5 only inside 50 (50개사): a substring match would wrongly accept it.
    answer = check("인공지능 기업은 5곳입니다 [1].", PASSAGES)
    assert not answer.ok and answer.reason == "number 5 not in cited passages [1]"


def test_numbers_compare_without_commas_and_keep_their_decimals():
    line = next(json.loads(row) for row in (ROOT / "corpus" / "kowikinews" / "articles.jsonl")
                .read_text(encoding="utf-8").splitlines() if "22.6%에 해당" in row)
    start, end = paragraph(line["text"], "22.6%에 해당")
    herd = [Passage(1, line["id"], line["title"], line["date"], line["text"][start:end])]
    assert "약 1,330만 마리" in herd[0].text
    assert check("전체 사육규모는 약 1330만 마리이고, 그 22.6%에 해당합니다 [1].", herd).ok
    assert check("전체 사육규모는 약 1,330만 마리입니다 [1].", herd).ok
    wrong = check("전체 사육규모의 22.5%에 해당합니다 [1].", herd)
    assert not wrong.ok and wrong.reason == "number 22.5 not in cited passages [1]"


def test_a_sentence_without_a_citation_is_rejected(server):
    answer = ask(server, "헬스케어 분야 기업은 8곳입니다 [1]. 자동차 분야는 6곳입니다.")
    assert not answer.ok
    assert answer.reason == "sentence 2 cites no passage"


def test_a_citation_of_a_passage_that_does_not_exist_is_rejected(server):
    answer = ask(server, "헬스케어 분야 기업은 8곳입니다 [7].")
    assert not answer.ok
    assert answer.reason == "sentence 1 cites passage 7, but the passages are [1, 2]"
    assert answer.cited == (7,)


def test_a_name_the_cited_passage_does_not_mention_is_rejected(server):
    answer = ask(server, "김철수 대표는 광주의 일자리 창출에 기여하겠다고 말했습니다 [2].")
    assert not answer.ok
    assert answer.reason == "name 김철수 not in cited passages [2]"


def test_a_name_must_be_in_the_passage_the_sentence_cites():
    said = "전창호 대표는 광주의 일자리 창출에 기여하겠다고 말했습니다"
    assert check(f"{said} [2].", PASSAGES).ok
    wrong = check(f"{said} [1].", PASSAGES)
    assert not wrong.ok and wrong.reason.startswith("name 전창호 not in cited passages [1]")


def test_latin_names_are_checked_but_sentence_openers_are_not():
    assert check("The health care sector has 8 companies [1].", PASSAGES).ok
    wrong = check("The health care sector has 8 companies, said Samsung [1].", PASSAGES)
    assert not wrong.ok and wrong.reason == "name Samsung not in cited passages [1]"


def test_the_korean_refusal_alone_is_accepted(server):
    answer = ask(server, REFUSAL)
    assert answer.ok, answer.reason
    assert answer.cited == ()


def test_an_english_refusal_is_accepted():
    answer = check("I can't find the answer to this question in the press releases.", PASSAGES)
    assert answer.ok and answer.cited == ()


def test_an_empty_reply_is_rejected():
    assert check("  \n ", PASSAGES) == check("", PASSAGES)
    assert check("", PASSAGES).reason == "the answer is empty"


def test_markers_after_the_stop_stay_with_their_sentence_and_decimals_do_not_split():
    assert sentences("기업은 8곳입니다. [1] 자동차는 6곳입니다.[1][2]\n비율은 22.6%입니다 [3].") == [
        "기업은 8곳입니다. [1]", "자동차는 6곳입니다.[1][2]", "비율은 22.6%입니다 [3]."]
    answer = check("헬스케어 분야 기업은 8곳입니다. [1]\n전창호 대표가 말했습니다. [2]", PASSAGES)
    assert answer.ok, answer.reason
    assert answer.cited == (1, 2)


# The endpoint failing -------------------------------------------------------------------------

def test_an_http_error_raises_llm_unavailable(server):
    server.mode = "error"
    with pytest.raises(LLMUnavailable, match=r"127\.0\.0\.1.*HTTP 500"):
        ask(server, "unused")


def test_a_reply_that_is_not_json_raises_llm_unavailable(server):
    server.mode = "garbage"
    with pytest.raises(LLMUnavailable, match="malformed"):
        complete(server.url, [{"role": "user", "content": "hi"}], timeout=5)


def test_a_slow_endpoint_times_out_with_llm_unavailable(server):
    server.mode = "slow"
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match=r"127\.0\.0\.1.*timed out"):
        complete(server.url, [{"role": "user", "content": "hi"}], timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_a_closed_port_raises_llm_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(LLMUnavailable, match=f"127.0.0.1:{port}/v1/chat/completions"):
        complete(f"http://127.0.0.1:{port}/v1/", [{"role": "user", "content": "hi"}], timeout=2)


def test_a_url_that_is_not_http_raises_llm_unavailable():
    with pytest.raises(LLMUnavailable, match="not an http"):
        complete("file:///etc", [{"role": "user", "content": "hi"}])
