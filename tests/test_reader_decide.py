"""The decision stage of the reader answerer: the best span across the passages read, with
document offsets, the threshold and the year check."""
from bot.qa.decide import LOW_MARGIN, YEAR, decide
from bot.qa.query import Query
from bot.qa.reader import Reading, Span
from bot.records import Chunk, Hit

FIRST = "광주시는 2020년 11월 6일 ㈜지아이랩과 업무협약을 체결했다. 협약 기업은 32개사다."
SECOND = "지난해 광주시와 협약한 인공지능 기업은 모두 30개사라고 시는 밝혔다."


def hit(doc_id: str, text: str, offset: int = 100) -> Hit:
    return Hit(Chunk(doc_id, 0, text, offset, offset + len(text)), 1.0)


def reading(text: str, value: str, margin: float) -> Reading:
    start = text.index(value)
    return Reading((Span(0, start, start + len(value), value, margin, margin),), 0.0)


def query(years: tuple[str, ...] = ()) -> Query:
    return Query("협약 기업은 몇 개사?", "협약 기업은 몇 개사?", None, "ko", years, None, "협약 기업은 몇 개사?")


HITS = [hit("a", FIRST), hit("b", SECOND)]


def test_the_answer_is_the_best_margin_with_document_offsets():
    decision = decide(query(), HITS, [reading(FIRST, "32개사", 7.0), reading(SECOND, "30개사", 9.0)],
                      threshold=6.0, years_of=lambda _: frozenset())
    assert decision.answer.text == "30개사" and decision.answer.doc_id == "b"
    assert (decision.answer.start, decision.answer.end) == (100 + SECOND.index("30"), 100 + SECOND.index("30") + 4)
    assert [h.doc_id for h in decision.passages] == ["b", "a"]


def test_below_the_threshold_the_reader_refuses():
    decision = decide(query(), HITS, [reading(FIRST, "32개사", 3.0), reading(SECOND, "30개사", 4.0)],
                      6.0, lambda _: frozenset())
    assert decision.answer is None and decision.reason == LOW_MARGIN and decision.margin == 4.0


def test_a_document_that_never_speaks_of_the_year_asked_does_not_answer():
    years = {"a": frozenset({"2020"}), "b": frozenset({"2019"})}
    readings = [reading(FIRST, "32개사", 7.0), reading(SECOND, "30개사", 9.0)]
    assert decide(query(("2020",)), HITS, readings, 6.0, years.__getitem__).answer.doc_id == "a"
    refused = decide(query(("2031",)), HITS, readings, 6.0, years.__getitem__)
    assert refused.answer is None and refused.reason == YEAR


def test_a_count_keeps_its_counter_and_loses_its_particle():
    from bot.qa.reader import _with_unit, _without_endings

    def cut(text: str, value: str) -> str:
        start = text.index(value)
        return text[start:start + _without_endings(text[start:_with_unit(text, start, start + len(value))])]

    assert cut("총 32개사가 사무실을 열었다", "32") == "32개사"
    assert cut("승객 291명의 대부분", "291") == "291명"
    assert cut("선수 2,861명이 참가했다", "2,861") == "2,861명"
    # A span that already ends at its word or before a space is not extended.
    assert cut("무게는 30 kg이다", "30") == "30"
    assert cut("지아이랩의 대표", "지아이랩") == "지아이랩"


def test_only_particles_and_the_copula_with_its_endings_are_cut_from_a_span():
    from bot.qa.reader import _without_endings

    def cut(text: str) -> str:
        return text[:_without_endings(text)]

    assert cut("학생이다") == "학생"
    assert cut("서울시청이었다") == "서울시청"
    assert cut("시위를") == "시위"
    # A verb keeps its ending; a name Kiwi reads as noun + ending is not cut.
    assert cut("신라王, 왕비와 함께 잠들다") == "신라王, 왕비와 함께 잠들다"
    assert cut("확실함") == "확실함"
    assert cut("트리니다드 토바고") == "트리니다드 토바고"
    assert cut("트리니다드 토바고에서") == "트리니다드 토바고"


def test_a_span_that_starts_inside_a_word_starts_at_the_word():
    from bot.qa.reader import _word_start

    text = "제4차 전국인민대표대회와 장이머우 감독"
    assert text[_word_start(text, 1, 3):3] == "제4차"
    start = text.index("머우")
    assert text[_word_start(text, start, start + 2):start + 2] == "장이머우"
    # A span at a word's start, or after a bracket or a space, stays.
    assert _word_start(text, 0, 3) == 0
    assert _word_start("(주)지아이랩", 3, 7) == 3


def test_the_retrieval_order_weighs_on_which_span_answers_not_on_whether_one_does():
    readings = [reading(FIRST, "32개사", 10.0), reading(SECOND, "30개사", 11.0)]
    # Without the prior the surer span of the lower passage answers; with it, the first passage's.
    assert decide(query(), HITS, readings, 6.0, lambda _: frozenset()).answer.doc_id == "b"
    decision = decide(query(), HITS, readings, 6.0, lambda _: frozenset(), rank_prior=1.5)
    assert decision.answer.doc_id == "a" and [h.doc_id for h in decision.passages] == ["a", "b"]
    # Whether the passages answer at all is the reader's: the surest margin, wherever it stands.
    unsure = [reading(FIRST, "32개사", 5.0), reading(SECOND, "30개사", 7.0)]
    answered = decide(query(), HITS, unsure, 6.0, lambda _: frozenset(), rank_prior=3.0)
    assert answered.answer is not None and answered.answer.doc_id == "a"
    assert decide(query(), HITS, unsure, 7.5, lambda _: frozenset(), rank_prior=3.0).answer is None


def test_a_span_loses_a_bracket_or_quote_whose_partner_is_outside_it():
    from bot.qa.reader import _trimmed

    def trim(text: str) -> str:
        start, end = _trimmed(text, 0, len(text))
        return text[start:end]

    assert trim("(214개사") == "214개사"
    assert trim(" Tu-154M) ") == "Tu-154M"
    assert trim('"새로운 지평') == "새로운 지평"
    # A pair inside the span stays: a title, a company's legal form.
    assert trim("《정의란 무엇인가》") == "《정의란 무엇인가》"
    assert trim("(주)지아이랩") == "(주)지아이랩"


def test_the_span_shown_is_the_one_the_reader_s_likely_spans_agree_on_with_the_best_margin():
    from bot.qa.reader import _least_risk_first

    text = "협약 기업은 모두 32개사이며 헬스케어 분야가 8개사다."

    def span(value: str, score: float) -> Span:
        start = text.index(value)
        return Span(0, start, start + len(value), value, score, score - 1.0)

    long, short, wider = span("32개사이며 헬스케어 분야가 8개사", 5.0), span("32개사", 4.8), span("모두 32개사", 4.7)
    weight = {(s.start, s.end): w for s, w in ((long, 1.0), (short, 0.8), (wider, 0.7))}
    chosen = _least_risk_first([long, short, wider], weight)
    # Two of the three likely spans are the count alone: it is shown, with the passage's best
    # score and margin (whether to answer does not change), and the others follow.
    assert [s.text for s in chosen] == ["32개사", long.text, "모두 32개사"]
    assert (chosen[0].score, chosen[0].margin) == (5.0, 4.0)
    assert text[chosen[0].start:chosen[0].end] == chosen[0].text
    # When the best span is what they agree on, nothing moves.
    assert _least_risk_first([short, wider, long], weight) == [short, wider, long]
