"""KorQuAD 1.0 (SQuAD 1.1 format) as an external benchmark, read in place.

Its licence (CC BY-ND 2.0 KR) forbids committing a modified or subset copy, so the file is only
ever read from where it lies (``../shared/data/korquad1/KorQuAD_v1.0_dev.json``); a sample is a
list of question ids drawn with a fixed seed, never a file. Its paragraphs are indexed into a
temporary index (``build_bot``) and every question asked through the one front door
(``run_korquad``): paragraph recall@k and MRR for retrieval, containment and token-F1 for answers.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import metrics
from .errors import BadDocument
from .records import Document

SOURCE = "KorQuAD 1.0"
SAMPLE_SEED = 20240101
# Retrieved beyond top_k so that enough passages of other articles remain when a question's own
# article is left out (``open_domain_margins``).
OTHER_ARTICLES_DEPTH = 30


@dataclass(frozen=True)
class KorQuADQuestion:
    """One KorQuAD question with the id of its gold paragraph and its gold answer texts."""

    qid: str
    question: str
    paragraph_id: str
    answers: tuple[str, ...]


def paragraph_id(article: int, paragraph: int) -> str:
    """Document id of a KorQuAD paragraph: ``korquad-<article idx>-<paragraph idx>`` (0-based)."""
    return f"korquad-{article}-{paragraph}"


def load_korquad(path: str | Path) -> tuple[list[Document], list[KorQuADQuestion]]:
    """Every paragraph of the file as a ``Document`` (title = article title) and every question.

    Raises ``BadDocument`` naming the file when it is missing or not in SQuAD 1.1 format.
    """
    path = Path(path)
    try:
        dataset = json.loads(path.read_text(encoding="utf-8"))
        articles = dataset["data"]
    except OSError as exc:
        raise BadDocument(f"{path}: cannot read KorQuAD file ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError):
        raise BadDocument(f"{path}: not a KorQuAD/SQuAD 1.1 JSON file (expected a 'data' list)") from None
    return parse_korquad(articles, path.name)


def parse_korquad(articles: list[dict], name: str = "KorQuAD") -> tuple[list[Document], list[KorQuADQuestion]]:
    """The pure half of ``load_korquad``: SQuAD ``data`` entries to documents and questions."""
    documents: list[Document] = []
    questions: list[KorQuADQuestion] = []
    try:
        for a, article in enumerate(articles):
            title = article["title"]
            for p, paragraph in enumerate(article["paragraphs"]):
                doc_id = paragraph_id(a, p)
                documents.append(Document(doc_id=doc_id, title=title, text=paragraph["context"],
                                          source=SOURCE, path=name))
                for qa in paragraph["qas"]:
                    answers = tuple(dict.fromkeys(answer["text"] for answer in qa["answers"]))
                    questions.append(KorQuADQuestion(qa["id"], qa["question"], doc_id, answers))
    except (KeyError, TypeError) as exc:
        raise BadDocument(f"{name}: malformed SQuAD 1.1 entry (missing {exc})") from None
    return documents, questions


def load_english_questions(path: str | Path, documents: list[Document]) -> list[KorQuADQuestion]:
    """The project's English questions over KorQuAD paragraphs (``qa.data.read_written``: answers
    as offsets into the paragraphs, read in place) as questions of the open-domain evaluation."""
    from .qa.data import read_written

    examples = read_written(path, {d.doc_id: d.text for d in documents}, "en", "en-")
    return [KorQuADQuestion(e.qid, e.question, e.passage_id, e.answers) for e in examples]


def sample_questions(questions: list[KorQuADQuestion], n: int | None,
                     seed: int = SAMPLE_SEED) -> list[KorQuADQuestion]:
    """A fixed, seeded sample of ``n`` questions in file order (all of them when ``n`` is None or too big).

    The same file, ``n`` and seed always give the same questions, so runs stay comparable.
    """
    if n is None or n >= len(questions):
        return list(questions)
    chosen = set(random.Random(seed).sample(range(len(questions)), n))
    return [q for i, q in enumerate(questions) if i in chosen]


def of_articles(questions: list[KorQuADQuestion], articles: range) -> list[KorQuADQuestion]:
    """The questions of the articles in ``articles`` (0-based file order)."""
    return [q for q in questions if int(q.paragraph_id.split("-")[1]) in articles]


def run_gold(reader, questions: list[KorQuADQuestion], documents: list[Document]) -> dict:
    """The reader alone on each question's gold paragraph: exact match and character-F1 of its
    best span (never refusing), and latency per question (ms, read in batches of 32)."""
    from .qa.data import Example

    text = {d.doc_id: d.text for d in documents}
    examples = [Example(q.qid, q.question, text[q.paragraph_id], -1, "", q.answers, q.paragraph_id, "ko")
                for q in questions]
    started = time.perf_counter()
    readings = reader.read_examples(examples, n_best=1)
    seconds = time.perf_counter() - started
    predictions = [r.best.text if r.best else "" for r in readings]
    return {"questions": len(questions),
            "exact_match": round(metrics.mean(metrics.exact_match(p, q.answers)
                                              for p, q in zip(predictions, questions)), 4),
            "char_f1": round(metrics.mean(metrics.best_char_f1(p, q.answers)
                                          for p, q in zip(predictions, questions)), 4),
            "ms_per_question": round(1000.0 * seconds / max(1, len(questions)), 1)}


def build_bot(documents: list[Document], index_dir: str | Path, embedder, settings):
    """Index ``documents`` into ``index_dir`` and load a ``Bot`` on it; returns (bot, IngestReport)."""
    from .ingest import ingest_documents
    from .model_build import model_fingerprint
    from .service import Bot

    report = ingest_documents(documents, index_dir, embedder, settings,
                              model_fingerprint(embedder.model_dir))
    return Bot.load(index_dir, settings=settings, embedder=embedder), report


def run_korquad(bot, questions: list[KorQuADQuestion], depth: int = 10,
                on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Ask every question; paragraph recall@1/5/10 and MRR (``bot.search``, passage ranks),
    answer containment and token-F1 of the short answer (a refusal scores 0), refusal share and
    answer latency p50/p95 (ms)."""
    ranks, contained, f1s, refused, latencies, kinds = [], [], [], [], [], []
    span_f1s, span_ems = [], []
    for number, q in enumerate(questions, start=1):
        started = time.perf_counter()
        answer = bot.ask(q.question)
        latencies.append((time.perf_counter() - started) * 1000.0)
        hits = bot.search(q.question, k=depth)
        ranks.append(metrics.gold_rank((h.doc_id for h in hits), q.paragraph_id))
        refused.append(answer.refused)
        kinds.append(answer.answer_type)
        text = "" if answer.refused else answer.text
        contained.append(float(metrics.contains_answer(text, q.answers)))
        f1s.append(metrics.best_f1(text, q.answers))
        span = _highlighted(bot, answer)
        span_f1s.append(metrics.best_char_f1(span, q.answers))
        span_ems.append(metrics.exact_match(span, q.answers))
        if on_progress:
            on_progress(number, len(questions))
    values = {f"paragraph_recall_at_{k}": metrics.recall_at_k(ranks, k) for k in (1, 5, 10) if k <= depth}
    values.update({"mrr": metrics.mrr(ranks), "answer_containment": metrics.mean(contained),
                   "span_char_f1": metrics.mean(span_f1s), "span_exact_match": metrics.mean(span_ems),
                   "token_f1": metrics.mean(f1s), "refused": metrics.mean(map(float, refused)),
                   "latency_p50_ms": metrics.percentile(latencies, 50),
                   "latency_p95_ms": metrics.percentile(latencies, 95)})
    by_type = {}
    for kind in sorted(set(kinds), key=lambda k: -kinds.count(k)):
        rows = [i for i, k in enumerate(kinds) if k == kind]
        by_type[kind] = {"questions": len(rows),
                         "answer_containment": round(metrics.mean(contained[i] for i in rows), 4),
                         "token_f1": round(metrics.mean(f1s[i] for i in rows), 4),
                         "refused": round(metrics.mean(float(refused[i]) for i in rows), 4),
                         "gold_paragraph_first": round(metrics.mean(float(ranks[i] == 1) for i in rows), 4)}
    return {"questions": len(questions), **{k: round(v, 4) for k, v in values.items()}, "by_type": by_type}


def _highlighted(bot, answer) -> str:
    """The span the answer's first citation marks (empty for a refusal or no span)."""
    if answer.refused or not answer.citations or answer.citations[0].span_start is None:
        return ""
    c = answer.citations[0]
    return bot.documents[c.doc_id].text[c.span_start:c.span_end]


def open_domain_threshold(bot, questions: list[KorQuADQuestion]) -> dict:
    """The reader's threshold chosen in the product's own setting: each question asked over the
    whole index (right when answered with a span of character-F1 >= 0.5) and over the index
    without its own article (right when refused: the document that answers is not in the corpus)."""
    from .qa.train import best_threshold

    return best_threshold(*open_domain_margins(bot, questions))


def open_domain_margins(bot, questions: list[KorQuADQuestion]) -> tuple[list[float], list[bool], list[float]]:
    """Each question's surest margin among the passages read (as ``qa.decide`` compares it) over the
    whole index, whether its answer there is good, and its surest margin without its own article."""
    settings = bot.settings
    pos_margins, pos_good, neg_margins = [], [], []
    for q in questions:
        query = bot.understand(q.question)
        retrieved, answered = bot.read_question(query, float("-inf"))
        deeper = bot.retrieval(query, settings.top_k + OTHER_ARTICLES_DEPTH, vector=retrieved.vector)
        article = "-".join(q.paragraph_id.split("-")[:2]) + "-"
        others = [h for h in deeper.hits if not h.doc_id.startswith(article)]
        pos_margins.append(answered.surest)
        pos_good.append(metrics.best_char_f1(answered.answer.text if answered.answer else "", q.answers) >= 0.5)
        neg_margins.append(bot.read_and_decide(query, deeper, others[:settings.read_passages], float("-inf")).surest)
    return pos_margins, pos_good, neg_margins
