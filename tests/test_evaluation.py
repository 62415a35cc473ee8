"""The evaluation runner: metrics with exact numbers, scoring, runs on disk, the gate, KorQuAD."""
import json
from pathlib import Path

import pytest

import bot as bot_package
from bot import metrics
from bot.cli import main
from bot.eval_report import append_history, read_history, write_report
from bot.evaluation import (METRIC_KEYS, SHOULD_REFUSE, WRONG_DOC, WRONG_SPAN, WRONGLY_REFUSED,
                            EvalQuestion, EvalRun, QuestionResult, baseline_from_run, compare_runs,
                            compute_metrics, dialog_order, gate, load_questions, load_run,
                            passing_ids, retrieval_queries, run_eval, save_run, score_answer)
from bot.korquad import load_korquad, parse_korquad, sample_questions
from bot.records import Answer, Citation
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
KORQUAD = ROOT.parent / "shared" / "data" / "korquad1" / "KorQuAD_v1.0_dev.json"
SEED = "gwangju-gilab-mou-2020-11"


# --- metrics ------------------------------------------------------------------------------

def test_recall_and_mrr_from_gold_ranks():
    ranks = [1, 3, None, 2]
    assert metrics.recall_at_k(ranks, 1) == 0.25
    assert metrics.recall_at_k(ranks, 3) == 0.75
    assert metrics.mrr([1, 2, None, 4]) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    assert metrics.recall_at_k([], 5) == metrics.mrr([]) == 0.0


def test_gold_rank_is_the_first_position_of_the_gold_document():
    assert metrics.gold_rank(["a", "b", "b", "c"], "b") == 2
    assert metrics.gold_rank(["a"], "z") is None
    assert metrics.gold_rank(["a"], None) is None


def test_percentile_interpolates_like_numpy():
    assert metrics.percentile([40, 10, 30, 20], 50) == 25.0
    assert metrics.percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert metrics.percentile([7], 95) == 7.0
    assert metrics.percentile([], 50) == 0.0


def test_normalisation_is_korean_aware():
    assert metrics.normalise_answer("《광주》 1,000명·서울/부산") == "광주 1000명 서울 부산"
    assert metrics.normalise_answer("  “전창호”  대표. ") == "전창호 대표"
    assert metrics.normalise_answer("GIST") == "gist"


def test_containment_never_matches_inside_a_longer_number_or_word():
    assert metrics.contains_answer("헬스케어 분야 기업은 8개사입니다.", ["8", "헬스케어 분야 8"])
    assert not metrics.contains_answer("헬스케어 분야 기업은 28곳입니다.", ["8"])
    assert not metrics.contains_answer("2018년입니다.", ["1"])
    assert metrics.contains_answer("총 1,000명", ["1000명"])
    assert not metrics.contains_answer("GAIN", ["AI"])
    assert metrics.contains_answer("㈜지아이랩과 협약", ["지아이랩"])
    assert not metrics.contains_answer("아무 말", [])
    assert not metrics.contains_answer("아무 말", [""])


def test_token_f1_is_squad_style_over_whitespace_tokens():
    assert metrics.token_f1("전창호 대표", "전창호") == pytest.approx(2 / 3)
    assert metrics.token_f1("전창호", "전창호") == 1.0
    assert metrics.token_f1("김대중컨벤션센터", "전창호") == 0.0
    assert metrics.token_f1("", "") == 1.0
    assert metrics.token_f1("", "전창호") == 0.0
    assert metrics.best_f1("1989년 2월 15일", ["1989년", "1989년 2월 15일"]) == 1.0
    assert metrics.best_f1("아무", []) == 0.0


def test_character_f1_and_exact_match_are_korquad_style():
    # KorQuAD's F1 is over characters with spaces removed: a particle costs little, a wrong word much.
    assert metrics.char_f1("여의도 농민 폭력 시위", "여의도 농민 폭력 시위") == 1.0
    assert metrics.char_f1("시위를", "시위") == pytest.approx(2 * (2 / 3) * 1.0 / (2 / 3 + 1.0))
    assert metrics.char_f1("서울", "부산") == 0.0
    assert metrics.best_char_f1("3명", ["3명의", "3명"]) == 1.0
    assert metrics.exact_match("1,000 명", ["1000명"]) == 1.0 and metrics.exact_match("", ["a"]) == 0.0
    assert metrics.exact_match("3명의", ["3명"]) == 0.0


def test_refusal_precision_and_recall():
    assert metrics.refusal_precision_recall([True, True, False, False], [True, False, True, False]) == (0.5, 0.5)
    assert metrics.refusal_precision_recall([True, True, True], [True, False, False]) == (pytest.approx(1 / 3), 1.0)
    assert metrics.refusal_precision_recall([False, False], [True, False]) == (0.0, 0.0)
    with pytest.raises(ValueError):
        metrics.refusal_precision_recall([True], [])


# --- scoring one answer ---------------------------------------------------------------------

def _citation(doc_id: str, quote: str) -> Citation:
    return Citation(doc_id=doc_id, title="", date=None, source=None, quote=quote, start=0,
                    end=len(quote), score=1.0)


def _answer(text: str, *citations: Citation, refused: bool = False) -> Answer:
    return Answer(question="q", text=text, refused=refused, citations=tuple(citations))


HEALTHCARE = EvalQuestion("seed-003", "헬스케어 분야 기업은 몇 곳인가요?", ("8", "헬스케어 분야 8"), SEED)
UNANSWERABLE = EvalQuestion("un-001", "부산의 인구는?", (), None, unanswerable=True)


def test_scoring_says_why_an_answer_failed():
    good = _citation(SEED, "헬스케어 분야 8, 자동차 분야 6")
    other = _citation("kowikinews-0001", "다른 기사")
    assert score_answer(HEALTHCARE, _answer("8개사입니다.", good)) == (True, True, 1, None)
    assert score_answer(HEALTHCARE, _answer("8개사입니다.", other, other, good)) == (True, False, 3, None)
    assert score_answer(HEALTHCARE, _answer("8개사입니다.", other, other, other, good)) == (False, False, 4, WRONG_DOC)
    assert score_answer(HEALTHCARE, _answer("28곳입니다.", good)) == (False, True, 1, WRONG_SPAN)
    assert score_answer(HEALTHCARE, _answer("모름", refused=True)) == (False, False, None, WRONGLY_REFUSED)
    assert score_answer(UNANSWERABLE, _answer("모름", refused=True)) == (True, False, None, None)
    assert score_answer(UNANSWERABLE, _answer("4명", good)) == (False, False, None, SHOULD_REFUSE)


def test_dialog_turns_are_asked_together_in_turn_order():
    questions = [EvalQuestion("a", "?"), EvalQuestion("d-2", "?", dialog="d", turn=2),
                 EvalQuestion("b", "?"), EvalQuestion("d-1", "?", dialog="d", turn=1)]
    assert [q.id for q in dialog_order(questions)] == ["a", "d-1", "d-2", "b"]


def test_the_gold_question_file_loads():
    questions = load_questions()
    assert len(questions) == 203
    assert len({q.id for q in questions}) == 203
    assert sum(q.unanswerable for q in questions) == 24
    assert all(q.doc for q in questions if not q.unanswerable)
    queries = retrieval_queries(questions)
    assert len(queries) == 179 - sum(1 for q in questions if (q.turn or 1) > 1 and not q.unanswerable)


# --- runs, comparison, the gate -------------------------------------------------------------

def _result(qid: str, correct: bool = True, unanswerable: bool = False, rank: int | None = 1,
            latency: float = 100.0) -> QuestionResult:
    refused = unanswerable and correct
    return QuestionResult(
        id=qid, question=f"{qid}?", unanswerable=unanswerable, correct=correct,
        cited=correct and not unanswerable, refused=refused, answer="답", citation_rank=None if unanswerable else rank,
        search_rank=None if unanswerable else rank, latency_ms=latency,
        failure=None if correct else (SHOULD_REFUSE if unanswerable else WRONG_SPAN), gold_doc=None if unanswerable else SEED)


def _run(results: list[QuestionResult]) -> EvalRun:
    return EvalRun(compute_metrics(results), results, created="2024-01-01T00:00:00Z")


def _ten_question_run() -> EvalRun:
    results = [_result(f"q{i}", rank=i) for i in range(1, 9)]  # 8 answerable, ranks 1..8
    results += [_result("u1", unanswerable=True), _result("u2", correct=False, unanswerable=True)]
    return _run(results)


def test_metrics_of_a_run_are_exact():
    m = _ten_question_run().metrics
    assert list(m) == list(METRIC_KEYS)
    assert m["questions"] == 10
    assert m["answer_accuracy"] == m["citation_accuracy"] == 1.0
    assert m["recall_at_1"] == 0.125 and m["recall_at_5"] == 0.625
    assert m["mrr"] == round(sum(1 / r for r in range(1, 9)) / 8, 4)
    assert m["refusal_precision"] == 1.0 and m["refusal_recall"] == 0.5
    assert m["wrong_answer_rate"] == 0.1  # u2 was answered; nothing else was answered wrongly
    assert m["latency_p50_ms"] == m["latency_p95_ms"] == 100.0


def test_a_run_saves_loads_and_compares(tmp_path):
    run = _ten_question_run()
    assert load_run(save_run(run, tmp_path / "run.json")).results == run.results
    worse = _run([_result("q1", correct=False)] + run.results[1:])
    comparison = compare_runs(run, worse)
    assert comparison.changed == [("q1", "ok", WRONG_SPAN)]
    assert comparison.deltas["answer_accuracy"] == -0.125


def test_the_gate_passes_on_its_baseline_and_allows_one_question():
    run = _ten_question_run()
    baseline = baseline_from_run(run)
    assert gate(run, baseline) == []
    one_worse = _run([_result("q1", correct=False)] + run.results[1:])
    assert gate(one_worse, baseline) == []


def test_the_gate_fails_naming_the_regressed_questions():
    run = _ten_question_run()
    baseline = baseline_from_run(run)
    worse = _run([_result("q1", correct=False), _result("q5", correct=False)] + run.results[1:4]
                 + run.results[5:])
    failures = gate(worse, baseline)
    assert len(failures) == 2  # answer_accuracy and citation_accuracy
    assert all("q1, q5" in message for message in failures)
    refusing_less = _run(run.results[:8] + [_result("u1", correct=False, unanswerable=True), run.results[9]])
    assert gate(refusing_less, baseline) == []  # one of two unanswerable: exactly one question
    never = _run(run.results[:8] + [_result(u, correct=False, unanswerable=True) for u in ("u1", "u2")])
    assert gate(never, dict(baseline, metrics=dict(baseline["metrics"], refusal_recall=1.0))) != []
    without_ids = {"metrics": baseline["metrics"]}
    assert "regressed" not in gate(worse, without_ids)[0]


def test_the_report_lists_failures_and_draws_the_trend(tmp_path):
    run = _ten_question_run()
    append_history(run, tmp_path / "history.jsonl", label="abc123")
    worse = _run([_result("q1", correct=False)] + run.results[1:])
    paths = write_report(worse, tmp_path, baseline=baseline_from_run(run), gate_failures=[])
    assert [p.name for p in paths] == ["latest.md", "metrics.png"]
    markdown = paths[0].read_text(encoding="utf-8")
    assert "### wrong span (1)" in markdown and "| q1 |" in markdown
    assert "### should have refused (1)" in markdown and "| u2 |" in markdown
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(read_history(tmp_path / "history.jsonl")) == 1


# --- the CLI with a stand-in bot (fast); the real bot is in the slow tests below ----------

class _StandInBot:
    """Answers every question from its gold record (or refuses everything)."""

    def __init__(self, questions, refuse_all=False):
        self.gold = {q.question: q for q in questions}
        self.refuse_all = refuse_all
        self.settings = Settings()

    def ask(self, question, history=()):
        q = self.gold[question]
        if self.refuse_all or q.unanswerable:
            return _answer("찾을 수 없습니다", refused=True)
        return _answer(f"{q.answers[0]}입니다", _citation(q.doc, q.answers[0]))

    def search(self, question, k=10, mode="hybrid"):
        return []


def test_eval_cli_writes_a_baseline_and_the_gate_exits_1_naming_questions(tmp_path, monkeypatch, capsys):
    questions = [q for q in load_questions() if q.id in ("seed-001", "seed-002", "wn-001", "un-001")]
    question_file = tmp_path / "questions.jsonl"
    question_file.write_text("".join(json.dumps({"id": q.id, "question": q.question, "answers": list(q.answers),
                                                 "doc": q.doc, "unanswerable": q.unanswerable}, ensure_ascii=False) + "\n"
                                     for q in questions), encoding="utf-8")
    baseline = tmp_path / "baseline.json"
    oracle = _StandInBot(questions)
    monkeypatch.setattr(bot_package, "Bot", type("Load", (), {"load": staticmethod(lambda **_: oracle)}), raising=False)
    assert main(["eval", str(question_file), "--json", "--write-baseline", "--baseline", str(baseline)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["answer_accuracy"] == 1.0 and printed["refusal_recall"] == 1.0
    assert json.loads(baseline.read_text(encoding="utf-8"))["passing"]["answer_accuracy"] == ["seed-001", "seed-002", "wn-001"]
    assert main(["eval", str(question_file), "--gate", "--baseline", str(baseline)]) == 0
    refusing = _StandInBot(questions, refuse_all=True)
    monkeypatch.setattr(bot_package, "Bot", type("Load", (), {"load": staticmethod(lambda **_: refusing)}), raising=False)
    assert main(["eval", str(question_file), "--gate", "--baseline", str(baseline)]) == 1
    out = capsys.readouterr().out
    assert "gate: answer_accuracy" in out and "regressed: seed-001, seed-002, wn-001" in out


# --- KorQuAD --------------------------------------------------------------------------------

def test_korquad_parsing_gives_paragraph_documents_and_questions():
    articles = [{"title": "임종석", "paragraphs": [
        {"context": "1989년 2월 15일 지명수배.", "qas": [
            {"id": "1-0", "question": "언제?", "answers": [{"text": "1989년 2월 15일", "answer_start": 0}]}]},
        {"context": "두 번째 문단.", "qas": []}]}]
    documents, questions = parse_korquad(articles)
    assert [(d.doc_id, d.title, d.text) for d in documents] == [
        ("korquad-0-0", "임종석", "1989년 2월 15일 지명수배."), ("korquad-0-1", "임종석", "두 번째 문단.")]
    assert [(q.qid, q.paragraph_id, q.answers) for q in questions] == [("1-0", "korquad-0-0", ("1989년 2월 15일",))]


@pytest.mark.skipif(not KORQUAD.is_file(), reason="KorQuAD 1.0 dev file not present")
def test_the_korquad_test_articles_are_articles_100_to_139():
    from bot.korquad import of_articles
    from bot.qa.data import KORQUAD_TEST, KORQUAD_TRAIN, KORQUAD_TUNE, read_squad

    _, questions = load_korquad(KORQUAD)
    test = of_articles(questions, KORQUAD_TEST)
    assert len(test) == 1719 and {q.paragraph_id.split("-")[1] for q in test} == {str(a) for a in range(100, 140)}
    # The reader's training and tuning never read a test article.
    trained = read_squad(KORQUAD, "ko", KORQUAD_TRAIN) + read_squad(KORQUAD, "ko", KORQUAD_TUNE)
    assert not {e.qid for e in trained} & {q.qid for q in test}
    assert set(KORQUAD_TRAIN) | set(KORQUAD_TUNE) == set(range(100))


def test_the_real_korquad_dev_file_is_read_in_place():
    documents, questions = load_korquad(KORQUAD)
    assert len(documents) == 964 and len(questions) == 5774
    assert documents[0].doc_id == "korquad-0-0" and documents[0].title == "임종석"
    text = {d.doc_id: d.text for d in documents}
    assert all(any(a in text[q.paragraph_id] for a in q.answers) for q in questions)
    sample = sample_questions(questions, 100)
    assert len(sample) == 100 and sample == sample_questions(questions, 100)
    assert sample_questions(questions, None) == questions


def test_english_questions_over_korquad_paragraphs_take_their_answers_by_offsets(tmp_path):
    from bot.errors import BadDocument
    from bot.korquad import load_english_questions

    documents, _ = parse_korquad([{"title": "임종석", "paragraphs": [
        {"context": "1989년 2월 15일 지명수배되었다.", "qas": []}]}])
    path = tmp_path / "en.jsonl"
    path.write_text(json.dumps({"paragraph_id": "korquad-0-0", "question": "When was he put on the wanted list?",
                                "start": 0, "end": 12}) + "\n", encoding="utf-8")
    [question] = load_english_questions(path, documents)
    assert (question.paragraph_id, question.answers) == ("korquad-0-0", ("1989년 2월 15일",))
    path.write_text(json.dumps({"paragraph_id": "korquad-0-0", "question": "When?", "start": 5, "end": 99}),
                    encoding="utf-8")
    with pytest.raises(BadDocument, match="en.jsonl:1"):
        load_english_questions(path, documents)


@pytest.mark.skipif(not KORQUAD.is_file(), reason="KorQuAD 1.0 dev file not present")
def test_the_english_korquad_questions_ask_only_tune_articles():
    from bot.korquad import load_english_questions, of_articles
    from bot.qa.data import KORQUAD_TUNE, KORQUAD_TUNE_EN

    documents, _ = load_korquad(KORQUAD)
    questions = load_english_questions(KORQUAD_TUNE_EN, documents)
    assert len(questions) >= 150 and of_articles(questions, KORQUAD_TUNE) == questions
    assert all(q.answers[0].strip() == q.answers[0] and q.answers[0] for q in questions)


@pytest.mark.skipif(not KORQUAD.is_file(), reason="KorQuAD 1.0 dev file not present")
def test_english_korquad_questions_are_not_asked_of_the_test_articles(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["eval", "--korquad", str(KORQUAD), "--articles", "test", "--english"])
    assert stopped.value.code != 0 and "--articles tune" in str(stopped.value.code)


# --- the real bot over the bundled corpus ---------------------------------------------------

@pytest.mark.slow
def test_eval_json_prints_exactly_the_metric_object(corpus_index, capsys):
    assert main(["eval", "--index", str(corpus_index), "--json"]) == 0
    metrics_object = json.loads(capsys.readouterr().out)
    assert set(metrics_object) == set(METRIC_KEYS)
    assert metrics_object["questions"] >= 120


@pytest.mark.slow
def test_gate_names_the_questions_a_bot_that_refuses_everything_loses(corpus_bot, corpus_index, embedder, settings):
    from bot import Bot

    # Korean questions only: English ones are held to their own threshold.
    questions = [q for q in load_questions() if q.id.startswith("seed-") and q.lang == "ko"][:40]
    run = run_eval(corpus_bot, questions)
    baseline = baseline_from_run(run)
    assert gate(run, baseline) == []
    refusing = Bot.load(corpus_index, settings=settings.with_(reader_threshold=100),
                        embedder=embedder)
    refused_run = run_eval(refusing, questions)
    failures = gate(refused_run, baseline)
    assert failures and failures[0].startswith("answer_accuracy")
    # Byline questions (이 기사를 쓴 기자는?) are answered from metadata, not by evidence score: they
    # survive the threshold. Every other question it passed is lost, and each is named.
    still = set(passing_ids(refused_run)["answer_accuracy"])
    lost = [qid for qid in baseline["passing"]["answer_accuracy"] if qid not in still]
    assert len(lost) >= 20 and all(qid in failures[0] for qid in lost)
