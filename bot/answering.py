"""Extractive answers: pick the answering sentence among the retrieved passages, then the span.

Every fact shown is a quote: the short answer is built from a span of a document, and the first
citation carries that span's exact offsets. The bot refuses when no sentence is good enough
(``refusal_threshold``) or the expected type has no candidate span.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .chunking import sentences
from .lexical import kiwi, tokens_many
from .question import COUNT, DATE, NUMBER, ORG, PERSON, PLACE, Question
from .records import Citation, Hit

_NUMERIC = {COUNT, NUMBER}
_PLACE_SUFFIX = re.compile(r"(센터|홀|회관|청사|시청|구청|공항|호텔|대학교|대학|광장|공원|경기장|본부|역|[시군구도읍면동리])$")
_ORG_SUFFIX = re.compile(r"(부|청|처|원|시|회|단|공사|공단|재단|협회|협의체|위원회|은행|㈜|대학교|대학|경제|신문|방송|일보)$")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, scored against the question."""

    hit: Hit
    start: int  # document offsets
    end: int
    text: str
    score: float
    dense: float
    coverage: float


@dataclass(frozen=True)
class Span:
    """The answering span inside a sentence (document offsets) and the phrase around it."""

    start: int
    end: int
    value: str
    context: str


def candidates(question: Question, hits: list[Hit], sentence_vectors: np.ndarray,
               query_vector: np.ndarray, spans: list[tuple[Hit, int, int]]) -> list[Candidate]:
    """Score every sentence of the top passages: cosine to the question plus keyword coverage."""
    if not spans:
        return []
    dense = sentence_vectors @ query_vector.reshape(-1)
    sentence_tokens = tokens_many([hit.chunk.text[s - hit.chunk.start:e - hit.chunk.start]
                                   for hit, s, e in spans])
    keywords = set(question.keywords)
    scored = []
    for (hit, start, end), cos, toks in zip(spans, dense.tolist(), sentence_tokens):
        text = hit.chunk.text[start - hit.chunk.start:end - hit.chunk.start]
        if question.language == "en":
            coverage = 0.0
        else:
            present = set(toks) | set(_title_tokens(hit))
            coverage = len(keywords & present) / len(keywords) if keywords else 0.0
        scored.append(Candidate(hit, start, end, text, cos + 0.15 * coverage, cos, coverage))
    scored.sort(key=lambda c: -c.score)
    return scored


def sentence_spans(hits: list[Hit], per_hit: int = 12) -> list[tuple[Hit, int, int]]:
    """Sentences (document offsets) of each retrieved passage, at most ``per_hit`` each."""
    out = []
    for hit in hits:
        for start, end in sentences(hit.chunk.text, hit.chunk.start)[:per_hit]:
            out.append((hit, start, end))
    return out


def _title_tokens(hit: Hit) -> tuple[str, ...]:
    return ()


def find_span(question: Question, candidate: Candidate) -> Span | None:
    """The answering span of the expected type inside the sentence, or None."""
    if question.answer_type in _NUMERIC:
        return _number_span(question, candidate)
    if question.answer_type == DATE:
        return _date_span(candidate)
    if question.answer_type in (PERSON, PLACE, ORG):
        return _entity_span(question, candidate)
    return None


def _morphemes(candidate: Candidate):
    return kiwi().tokenize(candidate.text)


def _number_span(question: Question, candidate: Candidate) -> Span | None:
    morphemes = _morphemes(candidate)
    keywords = set(question.keywords) - {question.counter}
    numbers = [i for i, m in enumerate(morphemes) if m.tag == "SN"]
    if not numbers:
        return None
    # The number right after the question's keywords (`헬스케어 분야 8`) wins; else the one closest.
    keyword_ends = [m.start + m.len for m in morphemes if m.form in keywords]
    counter = question.counter

    def distance(i: int) -> tuple:
        m = morphemes[i]
        before = [m.start - e for e in keyword_ends if e <= m.start]
        gap = min(before) if before else 10_000
        has_counter = i + 1 < len(morphemes) and counter and morphemes[i + 1].form.startswith(counter)
        return (0 if has_counter and gap < 40 else 1, gap)

    best = min(numbers, key=distance) if keyword_ends else numbers[0]
    first = morphemes[best]
    end_index = best
    # Extend over the value's own tail: 9억 9000만 원, 100여 명, 32개사, 7개소.
    while end_index + 1 < len(morphemes):
        nxt = morphemes[end_index + 1]
        if nxt.tag in ("NR", "SN", "NNB", "XSN") or (nxt.tag == "NNG" and nxt.form in ("사", "명", "개소", "곳")):
            if nxt.start - (morphemes[end_index].start + morphemes[end_index].len) > 1:
                break
            end_index += 1
            if nxt.tag == "NNB" and nxt.form not in ("개", "억", "만", "천"):
                if end_index + 1 < len(morphemes) and morphemes[end_index + 1].form == "사":
                    end_index += 1
                break
            continue
        break
    last = morphemes[end_index]
    start, end = first.start, last.start + last.len
    context_start = start
    for m in reversed(morphemes[:best]):
        if m.form in keywords and start - (m.start + m.len) < 30:
            context_start = m.start
        elif m.tag in ("SP", "SF") or start - m.start > 30:
            break
    return Span(candidate.start + start, candidate.start + end, candidate.text[start:end],
                candidate.text[context_start:end])


def _date_span(candidate: Candidate) -> Span | None:
    pattern = re.compile(
        r"(\d{4}\s*년\s*)?(\d{1,2}\s*월\s*)?\d{1,2}\s*일(\s*(오전|오후|새벽|저녁|밤))?(\s*\d{1,2}\s*시(\s*\d{1,2}\s*분)?)?"
        r"|\d{4}\s*년(\s*\d{1,2}\s*월)?|\d{4}[.-]\s?\d{1,2}[.-]\s?\d{1,2}|지난해\s*\d{1,2}\s*월|(지난|올해|이날)\s*\S+")
    match = pattern.search(candidate.text)
    if not match:
        return None
    start, end = match.span()
    return Span(candidate.start + start, candidate.start + end, match.group().strip(), match.group().strip())


def _entity_span(question: Question, candidate: Candidate) -> Span | None:
    morphemes = _morphemes(candidate)
    keywords = set(question.keywords)
    best = None
    for i, m in enumerate(morphemes):
        if m.tag not in ("NNP", "SL", "NNG") or m.form in keywords:
            continue
        # Join a run of nouns / foreign words into one name (㈜지아이랩, 김대중컨벤션센터).
        j = i
        while j + 1 < len(morphemes) and morphemes[j + 1].tag in ("NNP", "NNG", "SL", "SW", "SN") \
                and morphemes[j + 1].start == morphemes[j].start + morphemes[j].len:
            j += 1
        start, end = m.start, morphemes[j].start + morphemes[j].len
        name = candidate.text[start:end]
        if question.answer_type == PERSON:
            ok = m.tag == "NNP" and 2 <= len(name) <= 4 and re.fullmatch(r"[가-힣]+", name)
        elif question.answer_type == PLACE:
            ok = bool(_PLACE_SUFFIX.search(name)) or m.tag == "NNP"
        else:
            ok = bool(_ORG_SUFFIX.search(name)) or m.tag in ("NNP", "SL")
        if not ok:
            continue
        near = min((abs(k.start - start) for k in morphemes if k.form in keywords), default=100)
        key = (near, i)
        if best is None or key < best[0]:
            best = (key, start, end, name)
    if best is None:
        return None
    _, start, end, name = best
    # Context: the name with its role noun right after (전창호 ㈜지아이랩 대표).
    tail = re.match(r"[^,.\n“”\"]{0,14}?(대표|시장|사무국장|장관|대통령|위원장|회장|교수|기자|총리|감독|선수|의원|센터|에서)",
                    candidate.text[end:])
    context_end = end + (tail.end() if tail else 0)
    return Span(candidate.start + start, candidate.start + end, name, candidate.text[start:context_end])


def short_answer(question: Question, span: Span | None, candidate: Candidate) -> str:
    """The short answer shown first, built only from the quoted span (at most 200 characters)."""
    if span is None:
        return _clip(f"“{candidate.text}”")
    value = span.value
    if question.language == "en":
        return _clip(f"{value} ({span.context})" if span.context != value else value)
    if question.answer_type in _NUMERIC and question.counter and not re.search(r"[가-힣]$", value):
        value = f"{value}{question.counter}"
    if question.subject and len(question.subject) <= 60:
        text = f"{question.subject} {value}입니다."
    else:
        text = f"{value}입니다."
    if span.context and span.context != span.value:
        text += f" (“{span.context}”)"
    return _clip(text)


def citation(candidate: Candidate, span: Span | None = None, score: float | None = None) -> Citation:
    """A citation quoting the sentence (document offsets), with the answering span if any."""
    meta = candidate.hit.chunk.meta
    return Citation(doc_id=candidate.hit.doc_id, title=meta.get("title", ""), date=meta.get("date"),
                    source=meta.get("source"), quote=candidate.text, start=candidate.start,
                    end=candidate.end, score=round(float(candidate.score if score is None else score), 4),
                    span_start=span.start if span else None, span_end=span.end if span else None,
                    url=meta.get("url"))


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
