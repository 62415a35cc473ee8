"""The evaluation runner: ask every gold question through ``Bot``, score it, gate and report it.

``run_eval(bot, questions)`` replays ``eval/questions.jsonl`` (dialog turns in order, each dialog
in its own conversation) and scores every answer with ``bot.metrics``. A run saves to JSON, compares
with another run and is checked against ``eval/baseline.json`` by ``gate``; ``bot.eval_report``
renders it into ``eval/reports/``. ``bench_retrieval`` times and scores the three retrieval modes.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable

from . import metrics
from .errors import BadDocument
from .settings import ROOT

QUESTIONS_FILE = ROOT / "eval" / "questions.jsonl"
# The development sets whose English questions choose the reader's English threshold.
ENGLISH_DEV_FILES = (QUESTIONS_FILE, ROOT / "eval" / "english_dev.jsonl")
BASELINE_FILE = ROOT / "eval" / "baseline.json"
REPORTS_DIR = ROOT / "eval" / "reports"
METRIC_KEYS = ("questions", "answer_accuracy", "citation_accuracy", "recall_at_1", "recall_at_5",
               "mrr", "refusal_precision", "refusal_recall", "wrong_answer_rate", "latency_p50_ms",
               "latency_p95_ms")
# The gated metrics and, for each, which questions it is a share of.
GATED = {"answer_accuracy": "answerable", "citation_accuracy": "answerable",
         "refusal_recall": "unanswerable"}
SEARCH_DEPTH = 10  # hits retrieved for recall@k and MRR
CITED_DEPTH = 3  # the gold document must be among this many first citations
WRONGLY_REFUSED, WRONG_DOC, WRONG_SPAN, SHOULD_REFUSE = (
    "wrongly refused", "wrong doc", "wrong span", "should have refused")


@dataclass(frozen=True)
class EvalQuestion:
    """One line of ``eval/questions.jsonl`` (the format is documented in ``eval/README.md``)."""

    id: str
    question: str
    answers: tuple[str, ...] = ()
    doc: str | None = None
    unanswerable: bool = False
    type: str = "other"
    lang: str = "ko"
    dialog: str | None = None
    turn: int | None = None


@dataclass(frozen=True)
class QuestionResult:
    """How the bot did on one question, with enough detail to say why it failed."""

    id: str
    question: str
    unanswerable: bool
    correct: bool  # answerable: gold string in the answer and gold doc cited early; else: refused
    cited: bool  # answerable: first citation is the gold doc and quotes a gold string
    refused: bool
    answer: str
    citation_rank: int | None  # gold doc among the citations (1-based)
    search_rank: int | None  # gold doc among the top SEARCH_DEPTH hits of bot.search
    latency_ms: float
    failure: str | None = None  # WRONGLY_REFUSED, WRONG_DOC, WRONG_SPAN or SHOULD_REFUSE
    rewritten: str | None = None
    gold_doc: str | None = None
    answers: tuple[str, ...] = ()
    cited_docs: tuple[str, ...] = ()  # doc ids of the first CITED_DEPTH citations

    @property
    def outcome(self) -> str:
        return "ok" if self.correct else (self.failure or "wrong")


@dataclass
class EvalRun:
    """One evaluation: the metrics, every question's result, when and on what it ran."""

    metrics: dict
    results: list[QuestionResult]
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    info: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RunComparison:
    """What changed between two runs: metric deltas (new - old) and questions whose outcome moved."""

    deltas: dict
    changed: list[tuple[str, str, str]]  # (id, old outcome, new outcome)


def load_questions(path: str | Path = QUESTIONS_FILE) -> list[EvalQuestion]:
    """The gold questions of a JSONL file; ``BadDocument`` names the line that is malformed."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadDocument(f"{path}: cannot read question file ({exc.strerror})") from None
    known = {f.name for f in fields(EvalQuestion)}
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            record = {k: v for k, v in record.items() if k in known}
            record["answers"] = tuple(record.get("answers") or ())
            questions.append(EvalQuestion(**record))
        except (ValueError, TypeError) as exc:
            raise BadDocument(f"{path}:{number}: not a question record ({exc})") from None
    return questions


def score_answer(question: EvalQuestion, answer) -> tuple[bool, bool, int | None, str | None]:
    """(correct, cited, citation rank, failure reason) of one ``Answer`` against its gold question."""
    if question.unanswerable:
        return answer.refused, False, None, None if answer.refused else SHOULD_REFUSE
    citations = list(answer.citations)
    rank = metrics.gold_rank((c.doc_id for c in citations), question.doc)
    if answer.refused:
        return False, False, rank, WRONGLY_REFUSED
    cited = bool(citations) and citations[0].doc_id == question.doc and \
        metrics.contains_answer(citations[0].quote, question.answers)
    if rank is None or rank > CITED_DEPTH:
        return False, cited, rank, WRONG_DOC
    if not metrics.contains_answer(answer.text, question.answers):
        return False, cited, rank, WRONG_SPAN
    return True, cited, rank, None


def dialog_order(questions: list[EvalQuestion]) -> list[EvalQuestion]:
    """Questions in file order, except that each dialog's turns come together, in turn order."""
    first: dict[str, int] = {}
    for position, q in enumerate(questions):
        first.setdefault(q.dialog or q.id, position)
    return sorted(questions, key=lambda q: (first[q.dialog or q.id], q.turn or 0))


def run_eval(bot, questions: list[EvalQuestion],
             on_progress: Callable[[int, int, QuestionResult], None] | None = None) -> EvalRun:
    """Ask every question (dialogs as conversations) and score the answers and the retrieval."""
    histories: dict[str, list] = {}
    results: list[QuestionResult] = []
    ordered = dialog_order(questions)
    for number, q in enumerate(ordered, start=1):
        history = histories.setdefault(q.dialog, []) if q.dialog else []
        started = time.perf_counter()
        answer = bot.ask(q.question, history=list(history))
        latency_ms = (time.perf_counter() - started) * 1000.0
        if q.dialog:
            history.append((q.question, answer))
        correct, cited, citation_rank, failure = score_answer(q, answer)
        search_rank = None
        if not q.unanswerable:
            # A second retrieval through the front door: ask() keeps only top_k passages, recall@5
            # and MRR need the ranked top 10 (not timed: latency is the answer's alone).
            hits = bot.search(answer.rewritten_question or q.question, k=SEARCH_DEPTH)
            search_rank = metrics.gold_rank((h.doc_id for h in hits), q.doc)
        result = QuestionResult(
            id=q.id, question=q.question, unanswerable=q.unanswerable, correct=correct,
            cited=cited, refused=answer.refused, answer=answer.text, citation_rank=citation_rank,
            search_rank=search_rank, latency_ms=round(latency_ms, 1), failure=failure,
            rewritten=answer.rewritten_question, gold_doc=q.doc, answers=q.answers,
            cited_docs=tuple(c.doc_id for c in answer.citations[:CITED_DEPTH]))
        results.append(result)
        if on_progress:
            on_progress(number, len(ordered), result)
    settings = bot.settings
    info = {"index": str(settings.index_dir),
            "settings": {name: getattr(settings, name) for name in (
                "reader_threshold", "read_passages", "top_k", "candidates", "dense_weight", "chunk_size", "chunk_overlap")}}
    return EvalRun(compute_metrics(results), results, info=info)


def reader_margins(bot, questions: list[EvalQuestion], language: str) -> tuple[list[float], list[bool], list[float]]:
    """The reader's surest margin (as ``qa.decide`` compares it) for each question in ``language``
    that stands alone (no dialog turn) and is not about a document itself, whether its best span
    answers it right (answerable questions), and the margins of the unanswerable ones."""
    from .qa import compose

    pos_margins, pos_good, neg_margins = [], [], []
    for q in questions:
        query = bot.understand(q.question)
        if q.dialog or query.language != language or query.field is not None:
            continue
        _, decision = bot.read_question(query, float("-inf"))
        if q.unanswerable:
            neg_margins.append(decision.surest)
            continue
        answer = compose.answer(query, decision, bot.data.documents, float("inf"))
        pos_margins.append(decision.surest)
        pos_good.append(score_answer(q, answer)[0])
    return pos_margins, pos_good, neg_margins


def compute_metrics(results: list[QuestionResult]) -> dict:
    """The ``METRIC_KEYS`` of a list of results (rates over answerable or over all questions)."""
    answerable = [r for r in results if not r.unanswerable]
    ranks = [r.search_rank for r in answerable]
    precision, recall = metrics.refusal_precision_recall(
        [r.refused for r in results], [r.unanswerable for r in results])
    latencies = [r.latency_ms for r in results]
    values = {
        "questions": len(results),
        "answer_accuracy": metrics.mean(float(r.correct) for r in answerable),
        "citation_accuracy": metrics.mean(float(r.cited) for r in answerable),
        "recall_at_1": metrics.recall_at_k(ranks, 1),
        "recall_at_5": metrics.recall_at_k(ranks, 5),
        "mrr": metrics.mrr(ranks),
        "refusal_precision": precision,
        "refusal_recall": recall,
        # What a visitor must never get: an answer that is not right, to either kind of question.
        "wrong_answer_rate": metrics.mean(float(not r.refused and not r.correct) for r in results),
        "latency_p50_ms": metrics.percentile(latencies, 50),
        "latency_p95_ms": metrics.percentile(latencies, 95),
    }
    return {k: (v if isinstance(v, int) else round(v, 4)) for k, v in values.items()}


# --- runs on disk ---------------------------------------------------------------------------

def run_to_json(run: EvalRun) -> dict:
    """A run as a JSON-ready dict (metrics, per-question results, creation time, info)."""
    return {"created": run.created, "info": run.info, "metrics": run.metrics,
            "results": [asdict(r) for r in run.results]}


def run_from_json(record: dict) -> EvalRun:
    """The inverse of ``run_to_json``."""
    known = {f.name for f in fields(QuestionResult)}
    results = []
    for r in record.get("results", []):
        r = {k: v for k, v in r.items() if k in known}
        r["answers"], r["cited_docs"] = tuple(r.get("answers", ())), tuple(r.get("cited_docs", ()))
        results.append(QuestionResult(**r))
    return EvalRun(dict(record["metrics"]), results, record.get("created", ""), record.get("info", {}))


def save_run(run: EvalRun, path: str | Path) -> Path:
    """Write a run as UTF-8 JSON (Korean kept readable); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run_to_json(run), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def load_run(path: str | Path) -> EvalRun:
    """A run saved by ``save_run``; ``BadDocument`` when the file is not one."""
    try:
        return run_from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    except OSError as exc:
        raise BadDocument(f"{path}: cannot read saved run ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BadDocument(f"{path}: not a saved evaluation run ({exc})") from None


def compare_runs(old: EvalRun, new: EvalRun) -> RunComparison:
    """Metric deltas (new minus old) and the questions whose outcome changed between two runs."""
    deltas = {k: round(new.metrics[k] - old.metrics[k], 4)
              for k in METRIC_KEYS if k in old.metrics and k in new.metrics}
    before = {r.id: r.outcome for r in old.results}
    changed = [(r.id, before[r.id], r.outcome) for r in new.results
               if r.id in before and before[r.id] != r.outcome]
    return RunComparison(deltas, changed)


# --- the gate -------------------------------------------------------------------------------

def passing_ids(run: EvalRun) -> dict[str, list[str]]:
    """For each gated metric, the ids of the questions that count towards it in ``run``."""
    passes = {"answer_accuracy": lambda r: not r.unanswerable and r.correct,
              "citation_accuracy": lambda r: not r.unanswerable and r.cited,
              "refusal_recall": lambda r: r.unanswerable and r.refused}
    return {name: sorted(r.id for r in run.results if test(r)) for name, test in passes.items()}


def baseline_from_run(run: EvalRun, note: str = "") -> dict:
    """The accepted metrics of ``run`` plus, per gated metric, the ids of the questions passing."""
    answerable = sum(1 for r in run.results if not r.unanswerable)
    relevant = {"answerable": answerable, "unanswerable": len(run.results) - answerable}
    return {"created": run.created, "note": note, "metrics": run.metrics,
            "relevant": {name: relevant[kind] for name, kind in GATED.items()},
            "passing": passing_ids(run)}


def write_baseline(run: EvalRun, path: str | Path = BASELINE_FILE, note: str = "") -> Path:
    """Write ``baseline_from_run(run)`` to ``path`` (deliberately: ``bot eval --write-baseline``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(baseline_from_run(run, note), ensure_ascii=False, indent=1) + "\n",
                    encoding="utf-8")
    return path


def load_baseline(path: str | Path = BASELINE_FILE) -> dict:
    """The accepted baseline; ``BadDocument`` says how to write one when it is missing."""
    path = Path(path)
    if not path.is_file():
        raise BadDocument(f"no baseline at {path}: write one with `bot eval --write-baseline`")
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
        baseline["metrics"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadDocument(f"{path}: not an evaluation baseline ({exc})") from None
    return baseline


def gate(run: EvalRun, baseline: dict) -> list[str]:
    """Failures of ``run`` against ``baseline`` (empty when it passes).

    A gated metric fails when it falls below the baseline by more than one question's worth
    (1 / the number of questions it is a share of); the message names the questions that passed
    in the baseline and fail now, when the baseline lists them.
    """
    answerable = sum(1 for r in run.results if not r.unanswerable)
    relevant = {"answerable": answerable, "unanswerable": len(run.results) - answerable}
    now = passing_ids(run)
    asked = {r.id for r in run.results}
    failures = []
    for name, kind in GATED.items():
        accepted = baseline["metrics"].get(name)
        if accepted is None:
            continue
        slack = 1.0 / max(1, relevant[kind])
        value = run.metrics[name]
        if value >= accepted - slack - 1e-9:
            continue
        message = (f"{name} {value:.3f} is below the baseline {accepted:.3f} by more than one "
                   f"question ({slack:.3f} of {relevant[kind]} {kind} questions)")
        before = baseline.get("passing", {}).get(name)
        if before is not None:
            passing_now = set(now[name])
            regressed = [qid for qid in before if qid in asked and qid not in passing_now]
            message += f"; regressed: {', '.join(regressed) if regressed else '(none named)'}"
        failures.append(message)
    return failures


# --- retrieval benchmark --------------------------------------------------------------------

BENCH_DEPTHS = (1, 3, 5, 10)
MODES = ("dense", "lexical", "hybrid")


def retrieval_queries(questions: list[EvalQuestion]) -> list[tuple[str, str]]:
    """(question, gold doc) of the answerable questions that stand alone (no dialog follow-ups).

    Follow-up turns are left out: without the conversation they are elliptical by design.
    """
    return [(q.question, q.doc) for q in questions
            if not q.unanswerable and q.doc and (q.turn or 1) == 1]


def bench_retrieval(bot, queries: list[tuple[str, str]], modes: tuple[str, ...] = MODES,
                    k: int = 10, on_progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Per mode: recall@1/3/5/10 and MRR of the gold document, and per-query latency p50/p95 (ms).

    Every query goes through ``bot.search(query, k, mode=...)``, so the latency includes the
    query embedding; one warm-up search per mode is not timed.
    """
    table = {}
    for mode in modes:
        if queries:
            bot.search(queries[0][0], k=k, mode=mode)
        ranks, latencies = [], []
        for number, (query, gold_doc) in enumerate(queries, start=1):
            started = time.perf_counter()
            hits = bot.search(query, k=k, mode=mode)
            latencies.append((time.perf_counter() - started) * 1000.0)
            ranks.append(metrics.gold_rank((h.doc_id for h in hits), gold_doc))
            if on_progress:
                on_progress(mode, number, len(queries))
        row = {"queries": len(queries)}
        row.update({f"recall_at_{depth}": round(metrics.recall_at_k(ranks, depth), 4)
                    for depth in BENCH_DEPTHS if depth <= k})
        row.update({"mrr": round(metrics.mrr(ranks), 4),
                    "latency_p50_ms": round(metrics.percentile(latencies, 50), 1),
                    "latency_p95_ms": round(metrics.percentile(latencies, 95), 1)})
        table[mode] = row
    return table


def bench_query_embedding(embedder, queries: list[str]) -> dict:
    """Latency (ms) of embedding one question alone: the model's forward pass inside every search."""
    if queries:
        embedder.encode_queries([queries[0]])
    latencies = []
    for query in queries:
        started = time.perf_counter()
        embedder.encode_queries([query])
        latencies.append((time.perf_counter() - started) * 1000.0)
    return {"queries": len(queries), "latency_p50_ms": round(metrics.percentile(latencies, 50), 1),
            "latency_p95_ms": round(metrics.percentile(latencies, 95), 1)}
