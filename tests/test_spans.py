"""Typed spans from kiwi morphemes: places need to be where, counts know what they count."""
from bot.question import COUNT, PLACE, analyse, counted_noun
from bot.spans import typed_spans

VENUE = "광주광역시는 6일 오후 김대중컨벤션센터에서 ㈜지아이랩과 광주형 인공지능 비즈니스 기반 조성을 위한 업무협약을 체결했다고 밝혔다."


def _values(sentence, kind, question, **kw):
    q = analyse(question)
    return [s.value for s in typed_spans(sentence, kind, q.keywords, q.counter, True, q.counted, q.where, **kw)]


def test_a_place_is_where_not_an_object():
    values = _values(VENUE, PLACE, "협약식은 어디에서 열렸나요?")
    assert "김대중컨벤션센터" in values
    assert not any("기반 조성" in v or "광주형" in v for v in values)


def test_a_noun_made_into_an_adjective_is_no_place():
    assert _values("상황은 알파고에게 유리하게 돌아갔다.", PLACE, "대국은 어디서 열렸나요?") == []


def test_a_particle_typed_apart_still_marks_its_noun():
    values = _values("2012년 10월 13일 오후 1시에 COEX 에서 기념행사가 개최된다.", PLACE, "기념행사는 어디서 열렸나요?")
    assert values == ["COEX"]


def test_the_counted_noun_of_a_question():
    assert counted_noun("선수는 몇 명이야?") == "선수"
    assert counted_noun("몇 명의 선수가 참가했나?") == "선수"
    assert counted_noun("한국어 위키백과 문서 수는 몇 개야?") == "문서"
    assert counted_noun("첫 대국 몇 수 만에 끝났어?") is None  # no topic particle: 대국 is not counted


def test_a_count_prefers_the_value_beside_the_counted_noun():
    sentence = "성화는 총 7명이 이어받았고, 총 91개국, 2,861명의 선수가 참여했다."
    q = analyse("선수는 몇 명이야?")
    assert q.answer_type == COUNT
    spans = typed_spans(sentence, q.answer_type, q.keywords, q.counter, True, q.counted)
    best = max(spans, key=lambda s: s.bonus)
    assert best.value == "2,861명"


def test_money_is_never_a_bare_number():
    q = analyse("예산은 몇 원인가요?")
    assert typed_spans("빅데이터 분야 28, 헬스케어 분야 8", q.answer_type, q.keywords, q.counter, True) == []
