"""What a careless user or an attacker can pass to the front door: every case ends in an answer, a
refusal or a documented error (``BadQuestion``/``BadArgument``), within 5 seconds, and nothing the
bot echoes back carries a surrogate, a control character or a bidi override."""
import json
import os
import subprocess
import sys
import time
import unicodedata
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from bot import validation
from bot.errors import BadArgument, BadQuestion
from bot.records import Answer
from bot.retrieval import Filters

pytestmark = pytest.mark.slow

BOT = Path(sys.executable).with_name("bot")
# No input may hang the front door; a bound, not a speed figure (a 407-character English
# question took 5.2 s on a 2-core AMD EPYC in session 22: docs/benchmarks.md).
BUDGET_S = 15.0
LIMIT = 500  # Settings.max_question_chars
INVISIBLE = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u200e\u200f\ufeff\u00ad"
CONTROLS = "".join(map(chr, range(0x20))) + "\x7f\x85"
SURROGATES = "\ud800\udbff\udc00\udfff"
KOREAN = ["헬스케어", "분야", "기업은", "몇 곳", "협약식", "어디에서", "열렸나", "지아이랩", "대표는", "누구",
          "광주", "인공지능", "언제", "?", " ", "그럼", "자동차"]
WORKS = "헬스케어 분야 기업은 몇 곳인가요?"
HYPOTHESIS = hypothesis_settings(max_examples=100, deadline=None, derandomize=True, database=None,
                                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                        HealthCheck.too_slow, HealthCheck.data_too_large])


def _outcome(call):
    """Run ``call`` under the time budget: ("answer", value) or ("error", the documented error)."""
    started = time.perf_counter()
    try:
        result = ("answer", call())
    except (BadQuestion, BadArgument) as error:
        assert str(error) and "\n" not in str(error)
        result = ("error", error)
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET_S, f"took {elapsed:.1f} s"
    return result


def _clean_echo(text: str) -> None:
    assert not any(unicodedata.category(ch) in ("Cs", "Cc", "Cf") and ch not in "\n\t" for ch in text), text
    text.encode("utf-8")  # no lone surrogate survives


def _check_answer(answer: Answer) -> None:
    assert isinstance(answer, Answer) and answer.text
    _clean_echo(answer.question)
    json.dumps(asdict(answer), ensure_ascii=False).encode("utf-8")


def _ask(bot, question, **kwargs):
    kind, value = _outcome(lambda: bot.ask(question, **kwargs))
    if kind == "answer":
        _check_answer(value)
    return kind, value


def _search(bot, question, **kwargs):
    kind, value = _outcome(lambda: bot.search(question, **kwargs))
    if kind == "answer":
        assert len(value) <= kwargs.get("k", 10)
    return kind, value


@pytest.fixture(scope="module")
def bot(corpus_bot):
    return corpus_bot


@pytest.fixture(scope="module")
def earlier(bot):
    """A real earlier turn for histories."""
    return WORKS, bot.ask(WORKS)


# -- the question ---------------------------------------------------------------------------------

NOT_TEXT = [None, 1, 1.5, True, b"\xed\x97\xac", bytearray(b"q"), [], ["질문"], {}, {"q": 1}, ("q",),
            object(), Path("질문"), Exception("질문")]
EMPTY = ["", " ", "\n\t ", "\u200b", "\ufeff", "\u202e", "\x00", "\x00\x01\x02", SURROGATES, "\ud800" * 50,
         "\u2066\u2069", CONTROLS, "\u00ad", " \u3000 "]


@pytest.mark.parametrize("question", NOT_TEXT, ids=lambda q: type(q).__name__)
def test_a_question_that_is_not_text_is_refused_by_name(bot, question):
    kind, error = _ask(bot, question)
    assert kind == "error" and isinstance(error, BadQuestion) and "question must be text" in str(error)
    kind, error = _search(bot, question)
    assert kind == "error" and isinstance(error, BadQuestion)


@pytest.mark.parametrize("question", EMPTY, ids=repr)
def test_a_question_of_nothing_visible_is_empty(bot, question):
    for call in (_ask, _search):
        kind, error = call(bot, question)
        assert kind == "error" and "empty" in str(error)


@pytest.mark.parametrize("length", [LIMIT + 1, 2_000, 100_000, 10_000_000])
def test_a_question_over_the_limit_is_refused_quickly(bot, length):
    for call in (_ask, _search):
        kind, error = call(bot, ("가나다 " * length)[:length])
        assert kind == "error" and f"limit is {LIMIT}" in str(error)


def test_whitespace_and_invisibles_do_not_count_against_the_limit(bot):
    kind, answer = _ask(bot, WORKS + " " * 800 + "\u200b" * 100)
    assert kind == "answer" and answer.question == WORKS


def test_decomposed_hangul_is_read_as_syllables(bot, earlier):
    decomposed = unicodedata.normalize("NFD", WORKS)
    assert decomposed != WORKS
    kind, answer = _ask(bot, decomposed)
    assert kind == "answer" and answer.question == WORKS
    assert answer.text == earlier[1].text


def test_bidi_overrides_and_controls_are_dropped_from_what_is_echoed(bot, earlier):
    tampered = "헬스\u202e케어 분야\x07 기업은\u2066 몇 곳\u200b인가요?\ud800"
    kind, answer = _ask(bot, tampered)
    assert kind == "answer" and answer.question == WORKS
    assert answer.text == earlier[1].text


ODD = ["<script>alert(1)</script> 헬스케어 기업은?", "'; DROP TABLE documents; --", "{0} {question} %s %d",
       "(((((((((((((((((((((((", "\\" * 300, "../../../../etc/passwd", "**굵게** _기울임_ `코드` # 제목",
       "🙂" * 100, "😀👍🏽👩‍👩‍👧 헬스케어?", "光州 人工智能 企業", "光州のAI企業は何社ですか", "كم عدد الشركات",
       "∑∫√∞ ≠ ≤", "ﾍﾙｽｹｱ 기업", "ＡＩ　기업은　몇　곳？", "Ｈｅａｌｔｈｃａｒｅ", "헬스케어" * 120,
       "?" * 400, "!" * 499, "1" * 500, "0x" + "f" * 498, "가" * 500, "a " * 250, "www." + "a" * 490,
       "https://example.com/?q=헬스케어&x=<b>", "mailto:a@b.c", "\u1100\u1161" * 200, "ᄒᆡᆫ스케어",
       "null", "None", "undefined", "NaN", "true", "[]", "{}", "0", "-1", "1e309",
       "헬스케어\n분야\n기업은\n몇\n곳", "\t헬스케어\t기업\t", "헬스케어 기업은 몇 곳" + "\r\n" * 100,
       "How many healthcare companies signed?", "HOW MANY HEALTHCARE COMPANIES SIGNED", "how",
       "Who is " + "Kim " * 100, "and automotive?", "what about it?", "그럼?", "누구?", "몇?", "언제?",
       "2030년 월드컵 우승국은?", "9999년에 무슨 일이?", "0000년", "-2024년 기업 수는?",
       "헬스케어 분야 기업은 몇 곳인가요?" * 14]


@pytest.mark.parametrize("question", ODD, ids=lambda q: repr(q[:20]))
def test_odd_questions_end_in_an_answer_or_a_refusal(bot, question):
    kind, value = _ask(bot, question)
    assert kind == "answer" or "limit" in str(value) or "empty" in str(value)
    kind, value = _search(bot, question, k=5)
    assert kind == "answer" or "limit" in str(value) or "empty" in str(value)


# -- the other arguments ---------------------------------------------------------------------------

@pytest.mark.parametrize("k", [0, -1, 1.5, "5", None, True, False, 10 ** 9, 101, float("nan"), [5], 2 ** 70],
                         ids=repr)
def test_k_out_of_range_or_of_another_type_is_refused_by_name(bot, k):
    kind, error = _search(bot, WORKS, k=k)
    assert kind == "error" and isinstance(error, BadArgument) and str(error).startswith("k must be")


@pytest.mark.parametrize("k", [1, 3, 100])
def test_k_in_range_gives_at_most_k_passages(bot, k):
    kind, hits = _search(bot, WORKS, k=k)
    assert kind == "answer" and 1 <= len(hits) <= k


@pytest.mark.parametrize("mode", ["bogus", None, "", "HYBRID", 1, ("dense",), "dense "], ids=repr)
def test_an_unknown_mode_is_refused_by_name(bot, mode):
    kind, error = _search(bot, WORKS, mode=mode)
    assert kind == "error" and str(error).startswith("mode must be one of hybrid, dense, lexical")


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_each_mode_finds_the_seed_release(bot, mode):
    kind, hits = _search(bot, WORKS, k=5, mode=mode)
    assert kind == "answer" and any(h.doc_id == "gwangju-gilab-mou-2020-11" for h in hits)


BAD_FILTERS = ["str", {}, {"date_from": "2020"}, 5, Filters(date_from=2020), Filters(date_to="2020/11/01"),
               Filters(date_from="2020-11-01T00:00:00"), Filters(sources="광주광역시"), Filters(sources=(1, 2)),
               Filters(date_from="'; DROP"), Filters(sources=None)]


@pytest.mark.parametrize("filters", BAD_FILTERS, ids=repr)
def test_malformed_filters_are_refused_by_name(bot, filters):
    for call in (_ask, _search):
        kind, error = call(bot, WORKS, filters=filters)
        assert kind == "error" and isinstance(error, BadArgument) and "filters" in str(error)


@pytest.mark.parametrize("filters", [Filters(), Filters(date_from="2099"), Filters(date_to="1900-01-01"),
                                     Filters(sources=("없는 언론사",)), Filters(date_from="2020-11", date_to="2020-11")],
                         ids=repr)
def test_well_formed_filters_answer_or_refuse(bot, filters):
    kind, answer = _ask(bot, WORKS, filters=filters)
    assert kind == "answer"
    assert all(c.date is None or not filters.date_from or c.date >= filters.date_from[:len(c.date)]
               for c in answer.citations)


# -- the history -----------------------------------------------------------------------------------

def _histories(earlier):
    question, answer = earlier
    return {
        "a string": "헬스케어 분야 기업은 몇 곳인가요?",
        "bytes": b"history",
        "a dict": {"question": question, "answer": answer},
        "numbers": [1, 2, 3],
        "a one-tuple": [(question,)],
        "a triple": [(question, answer, "x")],
        "no question": [(None, answer)],
        "a number as question": [(5, answer)],
        "bytes as question": [(b"q", answer)],
        "no answer": [(question, None)],
        "answer as text": [(question, "8곳입니다")],
        "answer as dict": [(question, {"text": "8곳"})],
        "swapped": [(answer, question)],
        "a set": {question},
        "a generator": ((q, a) for q, a in [earlier]),
        "a string pair": ["ab"],
        "an empty question": [("", answer)],
        "a surrogate question": [("\ud800", answer)],
        "a long question": [("가" * (LIMIT + 1), answer)],
        "a huge question": [("가나 " * 400_000, answer)],
        "a huge answer": [(question, Answer(question=question, text="가" * 10_000_000, refused=False))],
        "a huge rewrite": [(question, Answer(question=question, text="8곳", refused=False,
                                             rewritten_question="가" * 100_000))],
        "a good turn after a bad one": [(None, None), earlier],
    }


BAD_HISTORIES = ["a string", "bytes", "a dict", "numbers", "a one-tuple", "a triple", "no question",
                 "a number as question", "bytes as question", "no answer", "answer as text",
                 "answer as dict", "swapped", "a set", "a generator", "a string pair",
                 "an empty question", "a surrogate question", "a long question", "a huge question",
                 "a huge answer", "a huge rewrite", "a good turn after a bad one"]


@pytest.mark.parametrize("name", BAD_HISTORIES)
def test_a_malformed_history_is_refused_by_name(bot, earlier, name):
    kind, error = _ask(bot, "그럼 자동차 분야는?", history=_histories(earlier)[name])
    assert kind == "error", name
    assert "history" in str(error)


def test_only_the_last_turns_of_a_long_history_are_read(bot, earlier):
    # Ten thousand turns, of which the oldest are not even pairs: only the last few are read.
    history = [("깨진", "턴")] * 5_000 + [earlier] * 5_000
    kind, answer = _ask(bot, "그럼 자동차 분야는?", history=history)
    assert kind == "answer" and answer.rewritten_question == "자동차 분야 기업은 몇 곳인가요?"


@pytest.mark.parametrize("history", [None, (), []], ids=repr)
def test_no_history_is_a_question_on_its_own(bot, history):
    kind, answer = _ask(bot, WORKS, history=history)
    assert kind == "answer" and answer.rewritten_question is None


@pytest.mark.parametrize("length", [100, 300, LIMIT])
def test_a_long_earlier_question_is_read_within_the_budget(bot, earlier, length):
    long_question = ("광주 인공지능 기업 협약 헬스케어 자동차 " * 100)[:length]
    for follow_up in ("그럼 자동차 분야는?", "그 회사 대표는?", "언제였어?", "and automotive?"):
        kind, _ = _ask(bot, follow_up, history=[(long_question, earlier[1])])
        assert kind == "answer"


# -- generated text --------------------------------------------------------------------------------

_piece = st.one_of(
    st.sampled_from(KOREAN), st.text(max_size=12), st.integers(0xD800, 0xDFFF).map(chr),
    st.sampled_from(list(INVISIBLE + CONTROLS)), st.integers(0xAC00, 0xD7A3).map(chr),
    st.integers(0x1100, 0x11FF).map(chr), st.sampled_from(["🙂", "👩‍👩‍👧", "光州", "é", "\U0010ffff"]))
_generated = st.one_of(
    st.lists(_piece, max_size=40).map("".join),
    st.builds(lambda piece, times: piece * times, _piece, st.integers(50, 20_000)))


@HYPOTHESIS
@given(question=_generated)
def test_generated_questions_end_in_an_answer_a_refusal_or_the_documented_error(bot, question):
    kind, value = _ask(bot, question)
    if kind == "error":
        assert isinstance(value, BadQuestion)


@HYPOTHESIS
@given(question=_generated, k=st.one_of(st.integers(-5, 150), st.none(), st.floats(), st.text(max_size=3)),
       mode=st.sampled_from(["hybrid", "dense", "lexical", "other", None]))
def test_generated_search_arguments_end_in_passages_or_the_documented_error(bot, question, k, mode):
    kind, value = _search(bot, question, k=k, mode=mode)
    if kind == "answer":
        assert isinstance(k, int) and 1 <= k <= validation.MAX_K and mode in validation.MODES


@hypothesis_settings(max_examples=40, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(earlier_question=_generated, follow_up=st.sampled_from(["그럼 자동차 분야는?", "그 회사 대표는?",
                                                              "언제였어?", "and automotive?", "보안은?"]))
def test_generated_earlier_questions_end_in_an_answer_or_the_documented_error(bot, earlier, earlier_question,
                                                                             follow_up):
    kind, value = _ask(bot, follow_up, history=[(earlier_question, earlier[1])])
    if kind == "error":
        assert str(value).startswith("history[0] question")


# -- the command line ------------------------------------------------------------------------------

def _bot_command(*args: bytes | str, model_dir: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if model_dir:
        env["BOT_MODEL_DIR"] = model_dir
    return subprocess.run([os.fsencode(str(BOT)), *[a if isinstance(a, bytes) else a.encode() for a in args]],
                          capture_output=True, env=env, timeout=120)


@pytest.mark.parametrize("args", [("ask", ""), ("ask", " \t "), ("ask", b"\xff\xfe"), ("ask", b"\xed\xa0\x80"),
                                  ("search", "가" * 600), ("search", "-k", "0", "헬스케어"),
                                  ("search", "-k", "1000", "헬스케어")], ids=repr)
def test_the_command_line_checks_the_question_before_loading_the_model(tmp_path, args):
    # The model folder does not exist: the only way to get the question's error is to check it first.
    result = _bot_command(*args, model_dir=str(tmp_path / "no-model"))
    assert result.returncode == 1
    lines = result.stderr.decode("utf-8").strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr.decode()
