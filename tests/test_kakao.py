"""The Kakao skill format (bot/kakao.py) and the API's conversation store (bot/conversation_store.py):
pure functions, no model."""
import json
from pathlib import Path

import pytest

from bot import kakao
from bot.conversation_store import ConversationStore, sources_of
from bot.errors import BadArgument
from bot.records import Answer, Citation

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "kakao"

# Kakao's published limits (skill guide, "응답 타입별 JSON 포맷"), written out again here rather than
# read from bot.kakao, so that a wrong constant there fails a test.
SPEC_MAX_OUTPUTS = 3
SPEC_SIMPLE_TEXT_CHARS = 1000
SPEC_MAX_QUICK_REPLIES = 10
SPEC_LABEL_CHARS = 14
SPEC_CARD_TITLE_CHARS = 50
SPEC_BASIC_CARD_DESCRIPTION_CHARS = 230
SPEC_CARD_BUTTONS = 3
COMPONENTS = {"simpleText", "simpleImage", "textCard", "basicCard", "commerceCard", "listCard", "itemCard",
              "carousel"}


def assert_skill_response(body) -> None:
    """A valid ``version: "2.0"`` skill response: keys, types and length limits of the spec."""
    assert isinstance(body, dict) and set(body) <= {"version", "template", "context", "data"}, body
    assert body["version"] == "2.0"
    template = body["template"]
    assert isinstance(template, dict) and set(template) <= {"outputs", "quickReplies"}, template
    outputs = template["outputs"]
    assert isinstance(outputs, list) and 1 <= len(outputs) <= SPEC_MAX_OUTPUTS
    for component in outputs:
        assert isinstance(component, dict) and len(component) == 1, component
        (kind, value), = component.items()
        assert kind in COMPONENTS, kind
        if kind == "simpleText":
            assert set(value) == {"text"}
            assert isinstance(value["text"], str) and 1 <= len(value["text"]) <= SPEC_SIMPLE_TEXT_CHARS
        if kind == "basicCard":
            assert isinstance(value["thumbnail"]["imageUrl"], str)  # required by the spec
            assert len(value.get("title", "")) <= SPEC_CARD_TITLE_CHARS
            assert len(value.get("description", "")) <= SPEC_BASIC_CARD_DESCRIPTION_CHARS
            assert len(value.get("buttons", [])) <= SPEC_CARD_BUTTONS
    replies = template.get("quickReplies", [])
    assert isinstance(replies, list) and len(replies) <= SPEC_MAX_QUICK_REPLIES
    for reply in replies:
        assert isinstance(reply["label"], str) and 1 <= len(reply["label"]) <= SPEC_LABEL_CHARS
        assert reply["action"] in ("message", "block")
        if reply["action"] == "message":
            assert isinstance(reply["messageText"], str) and reply["messageText"]
        else:
            assert isinstance(reply["blockId"], str)


def _citation(n: int, quote: str = "분야별로는 빅데이터 분야 28, 헬스케어 분야 8") -> Citation:
    return Citation(doc_id=f"doc-{n}", title=f"보도자료 {n}", date="2020-11", source="아시아경제",
                    quote=quote, start=0, end=len(quote), score=1.0, url=f"https://example.go.kr/{n}")


def _answer(text="8개", refused=False, citations=(), evidence=(), language="ko") -> Answer:
    return Answer(question="헬스케어 분야 기업은 몇 개인가?", text=text, refused=refused,
                  citations=tuple(citations), evidence=tuple(evidence), language=language)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_every_recorded_payload_is_read(name):
    payload = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    request = kakao.skill_request(payload)
    assert request.utterance == payload["userRequest"]["utterance"]
    assert request.user_id == payload["userRequest"]["user"]["id"] and request.lang == "ko"


@pytest.mark.parametrize("payload,message", [
    ([], "JSON object"),
    ({}, "userRequest is missing"),
    ({"userRequest": {"utterance": 3, "user": {"id": "u"}}}, "utterance must be text"),
    ({"userRequest": {"utterance": "질문", "user": {}}}, "user.id"),
    ({"userRequest": {"utterance": "질문", "user": {"id": "u" * 201}}}, "user.id"),
    ({"userRequest": {"utterance": "질" * 5001, "user": {"id": "u"}}}, "over 5000"),
])
def test_a_payload_that_is_not_a_skill_request_is_refused(payload, message):
    with pytest.raises(BadArgument, match=message):
        kakao.skill_request(payload)


def test_an_answer_gives_its_source_and_a_quick_reply_per_source():
    sources = (_citation(1), _citation(2))
    body = kakao.answer_response(_answer(citations=sources[:1], evidence=sources[1:]), sources)
    assert_skill_response(body)
    assert body["template"]["outputs"][0]["simpleText"]["text"] == "8개\n\n출처: 보도자료 1 (2020-11, 아시아경제)"
    assert [r["messageText"] for r in body["template"]["quickReplies"]] == ["출처 1", "출처 2"]
    english = kakao.answer_response(_answer(text="8", language="en", citations=sources[:1]), sources[:1])
    assert english["template"]["outputs"][0]["simpleText"]["text"].endswith("Source: 보도자료 1 (2020-11, 아시아경제)")
    assert english["template"]["quickReplies"][0]["label"] == "Source 1"


def test_a_refusal_is_its_text_alone():
    body = kakao.answer_response(_answer(text="보도자료에서 이 질문에 대한 답을 찾을 수 없습니다.", refused=True), ())
    assert_skill_response(body)
    assert "quickReplies" not in body["template"]


def test_long_text_is_cut_to_the_limit_and_a_source_shows_its_quote():
    body = kakao.text_response("가" * 5000)
    assert_skill_response(body)
    assert body["template"]["outputs"][0]["simpleText"]["text"].endswith("…")
    sources = (_citation(1, "인공지능 " * 400), _citation(2))
    shown = kakao.source_response(sources, 1, "ko")
    assert_skill_response(shown)
    text = shown["template"]["outputs"][0]["simpleText"]["text"]
    assert text.startswith("[1] 보도자료 1\n2020-11 · 아시아경제\n\n“인공지능")
    assert kakao.source_response(sources, 2, "ko")["template"]["outputs"][0]["simpleText"]["text"].endswith(
        "https://example.go.kr/2")
    assert "먼저 질문해" in kakao.source_response(sources, 3, "ko")["template"]["outputs"][0]["simpleText"]["text"]


@pytest.mark.parametrize("utterance,number", [("출처 1", 1), ("출처2", 2), ("Source 3", 3), (" source 1. ", 1),
                                              ("출처는?", None), ("출처 1 보여줘", None), ("헬스케어", None)])
def test_a_source_quick_reply_is_recognised(utterance, number):
    assert kakao.source_asked(utterance) == number


def test_every_message_is_a_valid_response_in_both_languages():
    for name in kakao.MESSAGES:
        for language in ("ko", "en", None):
            assert_skill_response(kakao.message(name, language, seconds=30, limit=500))


def test_conversations_keep_their_last_turns_and_expire():
    store = ConversationStore(max_conversations=10, ttl=60, max_turns=4)
    sources = (_citation(1), _citation(2))
    for n in range(6):
        store.add_turn("a", f"질문 {n}", _answer(citations=sources + (_citation(3),), evidence=sources[1:]), now=n)
    held = store.get("a", now=10)
    assert [q for q, _ in held.turns] == ["질문 2", "질문 3", "질문 4", "질문 5"]
    assert all(len(a.citations) == 1 and not a.evidence for _, a in held.turns)  # kept slim
    assert [c.doc_id for c in held.sources] == ["doc-1", "doc-2"]  # the answer's and its evidence
    assert store.get("a", now=5 + 60) is None and len(store) == 0  # idle a minute: forgotten
    store.add_turn("b", "질문", _answer(refused=True), now=100)
    assert store.get("b", now=101).sources == ()  # a refusal has no sources


def test_the_store_is_bounded_least_recently_used_first():
    store = ConversationStore(max_conversations=3, ttl=1000)
    for n, key in enumerate("abcd"):
        store.add_turn(key, "질문", _answer(), now=n)
    assert len(store) == 3 and store.get("a", now=5) is None
    store.add_turn("b", "질문", _answer(), now=6)  # b used again: c is now the oldest
    store.add_turn("e", "질문", _answer(), now=7)
    assert store.get("c", now=8) is None and store.get("b", now=8) is not None


def test_sources_are_the_quote_and_its_evidence_only():
    answer = _answer(citations=(_citation(1), _citation(2)), evidence=(_citation(3),))
    assert [c.doc_id for c in sources_of(answer)] == ["doc-1", "doc-3"]
