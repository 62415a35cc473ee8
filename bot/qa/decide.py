"""The decision stage: the answer is the reader's best span across the passages read, or a refusal.

Every span the reader found becomes a ``Candidate`` with document offsets; passages are re-ranked
by their best span's margin (span score minus the passage's no-answer score). The best candidate
answers when its margin reaches the threshold (``Settings.reader_threshold``, chosen on held-out
data: docs/benchmarks.md) and, when the question gives a year, its document speaks of that year.
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


def candidates_of(hits: list[Hit], readings: list[Reading]) -> list[Candidate]:
    """Every span of every passage, best margin first (ties: the better retrieved passage)."""
    out = []
    for rank, (hit, reading) in enumerate(zip(hits, readings)):
        for span in reading.spans:
            out.append((span.margin, -rank, Candidate(hit, hit.chunk.start + span.start,
                                                      hit.chunk.start + span.end, span.text, span.margin)))
    return [c for _, _, c in sorted(out, key=lambda x: (-x[0], -x[1]))]


def decide(query: Query, hits: list[Hit], readings: list[Reading], threshold: float,
           years_of: Callable[[str], frozenset[str]]) -> Decision:
    """Choose the answer among the reader's spans, or refuse."""
    ranked = candidates_of(hits, readings)
    best_of = {}
    for c in ranked:
        best_of.setdefault(id(c.hit), c.margin)
    order = sorted(range(len(hits)), key=lambda i: (-best_of.get(id(hits[i]), -1e9), i))
    passages = tuple(hits[i] for i in order)
    if query.years:
        # Who won the 2030 World Cup?: a document that never speaks of 2030 does not answer it.
        ranked = [c for c in ranked if set(query.years) <= years_of(c.doc_id)]
        if not ranked:
            return Decision(None, (), passages, YEAR, float("-inf"))
    if not ranked:
        return Decision(None, (), passages, NO_SPAN, float("-inf"))
    best = ranked[0]
    if best.margin < threshold:
        return Decision(None, tuple(ranked), passages, LOW_MARGIN, best.margin)
    return Decision(best, tuple(ranked), passages, "", best.margin)
