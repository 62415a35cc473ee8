"""The decision stage: the answer is the reader's best span across the passages read, or a refusal.

Every span the reader found becomes a ``Candidate`` with document offsets. Candidates are ranked
by their margin (span score minus the passage's no-answer score) less a prior for their passage's
retrieval position (``rank_prior`` per place below the first; ``Settings.reader_rank_prior``, chosen
on held-out KorQuAD articles: docs/benchmarks.md), and passages are re-ranked by their best span.
The reader answers when some span's margin reaches the threshold (``Settings.reader_threshold``):
whether the passages hold an answer is the reader's alone, which span answers weighs retrieval too.
When the question gives a year, the answer's document must speak of that year.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..records import Hit
from .query import Query
from .reader import Reading

YEAR, NO_SPAN, LOW_MARGIN = "year_not_in_document", "no_span", "no_answer_score"


@dataclass(frozen=True)
class Candidate:
    """A reader span in a retrieved passage; ``start``/``end`` are document offsets."""

    hit: Hit
    start: int
    end: int
    text: str
    margin: float

    @property
    def doc_id(self) -> str:
        return self.hit.doc_id


@dataclass(frozen=True)
class Decision:
    """The answer (None: refuse, with ``reason``), every candidate best first, and the passages
    read, re-ranked by the reader's confidence."""

    answer: Candidate | None
    candidates: tuple[Candidate, ...]
    passages: tuple[Hit, ...]
    reason: str
    margin: float

    @property
    def surest(self) -> float:
        """The highest margin of any candidate: what the threshold is compared with."""
        return max((c.margin for c in self.candidates), default=float("-inf"))


def candidates_of(hits: list[Hit], readings: list[Reading], rank_prior: float = 0.0) -> list[tuple[float, Candidate]]:
    """Every span of every passage with its ranking score (margin less ``rank_prior`` per
    retrieval place), best first (ties: the better retrieved passage)."""
    out = []
    for rank, (hit, reading) in enumerate(zip(hits, readings)):
        for span in reading.spans:
            out.append((span.margin - rank_prior * rank, -rank,
                        Candidate(hit, hit.chunk.start + span.start, hit.chunk.start + span.end,
                                  span.text, span.margin)))
    return [(score, c) for score, _, c in sorted(out, key=lambda x: (-x[0], -x[1]))]


def decide(query: Query, hits: list[Hit], readings: list[Reading], threshold: float,
           years_of: Callable[[str], frozenset[str]], rank_prior: float = 0.0) -> Decision:
    """Choose the answer among the reader's spans, or refuse."""
    scored = candidates_of(hits, readings, rank_prior)
    best_of = {}
    for score, c in scored:
        best_of.setdefault(id(c.hit), score)
    ranked = [c for _, c in scored]
    order = sorted(range(len(hits)), key=lambda i: (-best_of.get(id(hits[i]), -1e9), i))
    passages = tuple(hits[i] for i in order)
    if query.years:
        # Who won the 2030 World Cup?: a document that never speaks of 2030 does not answer it.
        ranked = [c for c in ranked if set(query.years) <= years_of(c.doc_id)]
        if not ranked:
            return Decision(None, (), passages, YEAR, float("-inf"))
    if not ranked:
        return Decision(None, (), passages, NO_SPAN, float("-inf"))
    best, surest = ranked[0], max(c.margin for c in ranked)
    if surest < threshold:
        return Decision(None, tuple(ranked), passages, LOW_MARGIN, surest)
    return Decision(best, tuple(ranked), passages, "", best.margin)
