"""The compose stage: the ``Answer`` a user sees, built only from the documents' own text.

The short answer is the reader's span exactly as the document writes it; the first citation
quotes the sentence that holds it and marks it (``span_start``/``span_end``). Other passages that
state the same value are evidence; for a figure, other documents that confidently state a
different one are a disagreement, shown newest release first; a figure whose sentence dates it
to other years than the question asks about is another period's figure, not a disagreement.
"""
from __future__ import annotations

import re

from ..chunking import sentences
from ..records import Answer, Citation, Hit
from ..years import may_be_about
from .decide import Candidate, Decision
from .query import Query

REFUSAL = {
    "ko": "보도자료에서 이 질문에 대한 답을 찾을 수 없습니다.",
    "en": "I can't find that in the press materials.",
}
MAX_ANSWER_CHARS = 200
# A different figure counts as a disagreement when its margin is within this of the answer's.
CONFLICT_MARGIN = 2.0
# A figure: a number with at most a short counter (57개사, 1,200대, 3만 톤, 100여 명), nothing else.
_FIGURE = re.compile(r"[총약]?\s*\d[\d,.]*\s*(만|억|천)?\s*(여)?\s*[가-힣A-Za-z%]{0,3}")
_DATE_UNIT = re.compile(r"[년월일시분초]")


def answer(query: Query, decision: Decision, documents, threshold: float,
           retrieved: tuple[Hit, ...] = ()) -> Answer:
    """The answer with its citations, or the refusal with the closest passages as related.
    ``retrieved``: the passages the search returned, of which those that do not state the answer
    are related too (after the ones read)."""
    if decision.answer is None:
        related = tuple(passage_citation(h) for h in decision.passages[:3])
        return Answer(question=query.asked, text=REFUSAL[query.language], refused=True,
                      rewritten_question=query.rewritten, language=query.language, related=related,
                      answer_type="refused", confidence={"margin": _round(decision.margin),
                                                         decision.reason: 1.0})
    best = decision.answer
    confident = [c for c in decision.candidates if c is not best and c.margin >= threshold]
    same = [c for c in confident if _same_value(c.text, best.text)]
    different = _disagreeing(best, confident, query.years, documents)
    lead = best
    text = best.text
    if different:
        stated = sorted([best, *different], key=lambda c: c.hit.chunk.meta.get("date") or "", reverse=True)
        lead = stated[0]
        text = lead.text + " " + disagreement(query.language, stated)
    citations = [span_citation(lead, documents)]
    evidence, seen = [], {(lead.doc_id, lead.start)}
    for other in [c for c in (best, *different) if c is not lead] + same:
        if (other.doc_id, other.start) not in seen:
            seen.add((other.doc_id, other.start))
            evidence.append(span_citation(other, documents))
    # Further sources: the other passages where the reader found an answer too (margin over the
    # threshold), in its order; a passage that was only read is no source, only related (staff
    # see it as retrieved, not support).
    supporting = {id(c.hit) for c in confident}
    cited_chunks = {(lead.doc_id, lead.hit.chunk.start)}
    related = []
    for hit in (*decision.passages, *retrieved):
        if (hit.doc_id, hit.chunk.start) in cited_chunks:
            continue
        cited_chunks.add((hit.doc_id, hit.chunk.start))
        (citations if id(hit) in supporting else related).append(passage_citation(hit))
    return Answer(question=query.asked, text=_clip(text), refused=False, citations=tuple(citations),
                  rewritten_question=query.rewritten, answer_type="span", language=query.language,
                  evidence=tuple(evidence), conflict=bool(different), related=tuple(related),
                  confidence={"margin": _round(best.margin)})


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) of ``text`` that hold ``text[start:end]``."""
    spans = [s for s in sentences(text) if s[0] < end and start < s[1]]
    if not spans:
        return start, end
    return min(spans[0][0], start), max(spans[-1][1], end)


def span_citation(candidate: Candidate, documents) -> Citation:
    """A citation quoting the sentence that holds the candidate's span, the span marked."""
    document = documents.get(candidate.doc_id)
    meta = candidate.hit.chunk.meta
    if document is not None:
        start, end = sentence_bounds(document.text, candidate.start, candidate.end)
        quote = document.text[start:end]
    else:  # pragma: no cover - a hit always has its document in a loaded index
        start, end, quote = candidate.start, candidate.end, candidate.text
    return Citation(doc_id=candidate.doc_id, title=meta.get("title", ""), date=meta.get("date"),
                    source=meta.get("source"), quote=quote, start=start, end=end,
                    score=_round(candidate.margin), span_start=candidate.start,
                    span_end=candidate.end, url=meta.get("url"))


def passage_citation(hit: Hit) -> Citation:
    """A retrieved passage quoted whole."""
    chunk = hit.chunk
    return Citation(doc_id=chunk.doc_id, title=chunk.meta.get("title", ""), date=chunk.meta.get("date"),
                    source=chunk.meta.get("source"), quote=chunk.text, start=chunk.start,
                    end=chunk.end, score=_round(hit.score), url=chunk.meta.get("url"))


def disagreement(language: str, stated: list[Candidate]) -> str:
    """The sentence that says releases disagree, each figure with its document and date."""
    parts = []
    for c in stated:
        meta = c.hit.chunk.meta
        where = " ".join(x for x in (meta.get("date") or "", meta.get("title") or c.doc_id) if x)
        parts.append(f"{c.text} ({_clip(where, 60)})")
    if language == "en":
        return "Note: the documents disagree: " + "; ".join(parts) + "."
    return "다만 문서마다 수치가 다릅니다: " + "; ".join(parts) + "."


def _disagreeing(best: Candidate, confident: list[Candidate], years, documents) -> list[Candidate]:
    """Other documents' confident figures for the same question that differ from the answer's
    (a number with the same unit, not a date or a time), one per value; a figure whose sentence
    dates it to other years than the question's (``years``) is another period's, not a rival."""
    if not _FIGURE.fullmatch(best.text) or _DATE_UNIT.search(_unit(best.text)):
        return []
    out: list[Candidate] = []
    for other in confident:
        if other.doc_id == best.doc_id or other.margin < best.margin - CONFLICT_MARGIN:
            continue
        if not _FIGURE.fullmatch(other.text) or _unit(other.text) != _unit(best.text):
            continue
        if _same_value(other.text, best.text) or any(_same_value(other.text, d.text) for d in out):
            continue
        if any(d.doc_id == other.doc_id for d in out) or not _of_years(other, years, documents):
            continue
        out.append(other)
    return out


def _of_years(candidate: Candidate, years, documents) -> bool:
    document = documents.get(candidate.doc_id)
    if not years or document is None:
        return True
    start, end = sentence_bounds(document.text, candidate.start, candidate.end)
    return may_be_about(document.text[start:end], years)


def _same_value(a: str, b: str) -> bool:
    return re.sub(r"[\s,]", "", a) == re.sub(r"[\s,]", "", b)


def _unit(value: str) -> str:
    return re.sub(r"[\d\s,.]", "", value).replace("여", "")


def _round(value: float) -> float:
    return round(float(value), 4) if value not in (float("inf"), float("-inf")) else -99.0


def _clip(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
