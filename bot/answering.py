"""Extractive answers: pick the answering sentence among the retrieved passages, then the span.

Every fact shown is a quote: the short answer is built from a span of a document, and the first
citation carries that span's exact offsets. The bot refuses when no sentence is good enough
(``refusal_threshold``) or the expected type has no candidate span.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .chunking import sentences
from .bilingual import LEXICON
from .lexical import kiwi, tokens_many, variants
from .question import content_keywords, COUNT, DATE, NUMBER, ORG, OTHER, PERSON, PLACE, THING, YESNO, Question
from .language import EN_ROLE_PHRASES, EN_ROLES, ROLES
from .spans import counter_names, head_end_at, predicate_end, typed_spans
from .records import Citation, Hit
from .years import years_asked

_NUMERIC = {COUNT, NUMBER}
_UNTYPED = {OTHER, THING, YESNO}
FOCUS_WEIGHT = 3.0  # of a word that restricts what a count counts
FOCAL_WEIGHT = 0.3  # a figure whose clause says the rarest of those words
PREDICATE_WEIGHT = 0.3  # a value followed by the question's own verb (or a word for it)
OTHER_YEAR_WEIGHT = 0.3  # a figure of another year than the one the question gives
EXTRA_WEIGHT = 0.5  # of the share of a clause's words the question does not ask about
_ENTITIES = {PERSON, PLACE, ORG}  # a name that holds the question's own words (내야수 이대호) is not its answer


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
    keywords = set(content_keywords(question))
    scored = []
    for (hit, start, end), cos, toks in zip(spans, dense.tolist(), sentence_tokens):
        text = hit.chunk.text[start - hit.chunk.start:end - hit.chunk.start]
        present = set(toks) | set(_title_tokens(hit))
        found = sum(1 for k in keywords if _among(k, present))
        coverage = found / len(keywords) if keywords else 0.0
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


def prerank(question: Question, spans: list[tuple[Hit, int, int]], idf, keep: int = 12):
    """The ``keep`` sentences most worth embedding: the question's keywords they contain
    (IDF-weighted), then their passage's rank. Cheap: no model call."""
    if len(spans) <= keep:
        return spans
    texts = [hit.chunk.text[s - hit.chunk.start:e - hit.chunk.start] for hit, s, e in spans]
    keywords = set(content_keywords(question))
    weights = {k: idf(k) * (FOCUS_WEIGHT if k in question.focus else 1.0) for k in keywords}
    total = sum(weights.values()) or 1.0
    token_sets = tokens_many(texts) if keywords else [[] for _ in texts]
    order: dict[int, int] = {}
    for hit, _, _ in spans:
        order.setdefault(id(hit), len(order))
    scored = []
    for position, ((hit, s, e), toks) in enumerate(zip(spans, token_sets)):
        present = set(toks)
        lexical = sum(w for k, w in weights.items() if _among(k, present)) / total
        scored.append((-(lexical - 0.1 * order[id(hit)]), position))
    scored.sort()
    return [spans[position] for _, position in scored[:keep]]


def coverage(question: Question, passage_nouns: set[str], idf, text: str = "") -> float:
    """IDF-weighted share of the question's nouns that the passage mentions (1.0 when the
    question has none): a passage that lacks the question's rarest word (자본금, 인구) is about
    something else, however close its vector. ``text`` (the passage without spaces) counts a
    noun the tokeniser split differently there (국립경주박물관(관장 …) as 국립/경주/박물관)."""
    if not question.nouns:
        return 1.0
    weights = {n: idf(n) for n in question.nouns}
    total = sum(weights.values())
    if total <= 0:
        return 1.0
    return sum(w for n, w in weights.items() if n in passage_nouns or (len(n) > 1 and (
        n in text or any(n in p for p in passage_nouns)))) / total


@dataclass(frozen=True)
class Choice:
    """The chosen sentence and, for a typed question, the span in it."""

    candidate: Candidate
    span: Span | None
    score: float
    inside: float = 0.0
    alternatives: tuple = ()  # every scored typed span (Scored), for evidence and conflicts


def typed_candidates(question: Question, ranked: list[Candidate], sentences_to_read: int = 16):
    """(candidate, SpanCandidate) pairs of the expected type in the best sentences."""
    pairs = []
    for candidate in ranked[:sentences_to_read]:
        for span in typed_spans(candidate.text, question.answer_type, question.keywords + question.compounds,
                                question.counter,
                                question.counter_strict, question.counted, question.where):
            pairs.append((candidate, span))
    return pairs


def choose(question: Question, ranked: list[Candidate], pairs, clause_scores: list[float],
           idf=None, doc_coverage: dict[str, float] | None = None) -> Choice | None:
    """The best typed span: its sentence's score, its clause's cosine to the question, its
    type-specific evidence, the question's keywords inside its clause and how much of the
    question its document mentions (``doc_coverage``)."""
    covered = doc_coverage or {}
    if question.answer_type in _UNTYPED:
        if not ranked:
            return None
        best = max(ranked, key=lambda c: c.score + 0.5 * covered.get(c.hit.doc_id, 1.0))
        return Choice(best, None, best.score)
    keywords = content_keywords(question)
    clauses = [c.text[s.clause_start:s.clause_end] for c, s in pairs]
    # A keyword found in many candidate clauses (분야) tells less than one found in a single clause
    # (헬스케어): weight each by its corpus IDF over the square root of the number of clauses
    # containing it (the plain count let a word repeated in other documents vanish).
    weights = {k: (idf(k) if idf else 1.0) / math.sqrt(max(1, len({cl for cl in clauses if _says(cl, k)})))
               for k in keywords}
    # What restricts the counted thing decides between the figures of a list (how many security
    # companies: 보안 분야 4, not 50개사 기업).
    for k in question.focus:
        if k in weights:
            weights[k] *= FOCUS_WEIGHT
    # Its rarest word beside a figure marks the figure of that part (빅데이터 분야 28), whatever
    # counter the total carries (50개사 of 광주시와 협약한 AI 기업 중 빅데이터 기업은 몇 개).
    focal = max((k for k in question.focus if k in weights), key=lambda k: idf(k) if idf else 1.0, default=None)
    # A compound of the question found whole (순투자액, not 총투자액) says more than its parts.
    for compound in question.compounds:
        parts = [k for k in keywords if k in compound]
        if parts and compound not in weights:
            weights[compound] = max(idf(p) if idf else 1.0 for p in parts) / \
                math.sqrt(max(1, len({cl for cl in clauses if compound in cl})))
    total = sum(weights.values()) or 1.0
    asked = set(question.keywords) | set(question.compounds)
    # What a clause says besides the value that the question does not ask about: a clause that
    # restricts (처음으로 … 참가하는 국가는 … 2개 국가) answers a narrower question than the one asked.
    clause_tokens = tokens_many([c[:s.start - s.clause_start] + " " + c[s.end - s.clause_start:]
                                 for c, (_, s) in zip(clauses, pairs)]) if pairs else []
    scored = []
    for (candidate, span), clause, clause_cos, words in zip(pairs, clauses, clause_scores, clause_tokens):
        inside = sum(w for k, w in weights.items() if _says(clause, k)) / total
        content = [w for w in words if len(w) > 1 and not w.isdigit()]
        extra = sum(1 for w in content if not any(w in k or k in w for k in asked)) / len(content) if content else 0.0
        near = _proximity(candidate.text, span, weights) / total
        in_value = any(k == span.value for k in keywords) or \
            _bare(span.value) in _bare(question.text) or \
            (question.answer_type in _NUMERIC and _repeats_number(span.value, question.text)) or \
            (question.answer_type == DATE and _only_given_numbers(span.value, question.text)) or \
            (question.answer_type in _ENTITIES and any(len(k) > 2 and k in span.value for k in keywords))
        # A value named as the kind asked for (…목표로 하는 도시는? 인공지능 중심도시); not a bare
        # description ending in the asked word (첫 협약을 체결한 기업은? AI 기업, not 인코어드P&P).
        fit = 0.3 if len(question.head) > 1 and span.value.endswith(question.head) \
            and not re.search(r"(^|\s)" + re.escape(question.head) + "$", span.value) else 0.0
        # The question's verb is the one the value is an argument of, the first after it: Korean
        # puts a date, place or name before its predicate (12월 22일 종료될 예정 answers 언제 끝날
        # 예정, 11월 13일 시작해 does not; 인코어드P&P와 첫 협약을 체결한 answers 첫 협약을 맺은 회사,
        # ㈜지아이랩과의 협약은 … 목표로 하는 does not).
        if question.answer_type not in _NUMERIC and any(
                _says(candidate.text[span.end:predicate_end(candidate.text, span.end)], p)
                for p in question.predicates):
            fit += PREDICATE_WEIGHT  # (counts come in lists: 내륙에서 24회, 해역에서 18회 발생)
        if focal is not None and _says(clause, focal):
            fit += FOCAL_WEIGHT
        if question.answer_type in _NUMERIC and _another_year(candidate.text, span.start, question.text):
            fit -= OTHER_YEAR_WEIGHT  # patients in 2011: not 2003년 1,415명 (비해 2011년 5,151명)
        score = 0.5 * candidate.score + clause_cos + span.bonus + fit + 1.0 * inside + 0.3 * near \
            - (0.5 if in_value else 0.0) + 0.5 * covered.get(candidate.hit.doc_id, 1.0) - EXTRA_WEIGHT * extra
        scored.append(Scored(score, inside, candidate, _span(question, candidate, span)))
    if not scored:
        return None
    best = max(scored, key=lambda x: x.score)
    return Choice(best.candidate, best.span, best.score, best.inside, tuple(scored))


@dataclass(frozen=True)
class Scored:
    """A typed span with its score and the share of the question's keywords in its clause."""

    score: float
    inside: float
    candidate: Candidate
    span: Span


_CONTEXT_BEFORE = 30  # characters of a clause quoted before the value, at most


def _span(question: Question, candidate: Candidate, span) -> Span:
    """Document offsets of a span and the phrase quoted around it."""
    text = candidate.text
    context_start = span.clause_start
    if 0 < context_start < span.start and not text[context_start - 1].isspace() \
            and re.match(r"[가-힣]", text[context_start]):
        # The clause began inside a word (…등)을 차감한): start at the next word.
        space = text.find(" ", context_start, span.start)
        context_start = space + 1 if space >= 0 else context_start
    while context_start < span.start and text[context_start] in " ,·▲“”\"'":
        context_start += 1
    first = re.match(r"(따라|통해|위해|대해|관해|의해|비해|인해|걸쳐)\s+", text[context_start:span.start])
    if first:
        context_start += first.end()  # 「…법」에 따라 만 14세 미만: the clause began inside a phrase
    if span.start - context_start > _CONTEXT_BEFORE:
        # A long clause before the value (이번 ㈜지아이랩과의 협약은 … 지난해 10월 인코어드P&P):
        # quote the words nearest it, from a word start.
        space = text.find(" ", span.start - _CONTEXT_BEFORE, span.start)
        context_start = space + 1 if space >= 0 else context_start
    context_end = max(span.end, min(span.clause_end, span.end + 12)) if question.answer_type in (PERSON,) \
        else max(span.end, head_end_at(text, span.end - 1))
    context = text[context_start:context_end].strip()
    return Span(candidate.start + span.start, candidate.start + span.end, span.value, context)


def missing_word(question: Question, span: Span, candidate: Candidate) -> str | None:
    """A word the question requires of its answering sentence that the sentence never says: the
    noun a count counts (직원은 몇 명; unless the counter names it: 4개사) or the role a person
    question names (기관사의 이름은). None when nothing is missing."""
    if question.counted and question.counted not in candidate.text \
            and not counter_names(span.value, question.counted):
        return question.counted
    role = asked_role(question)
    if role and not any(word in candidate.text for word in role):
        return role[0]
    if any(n.endswith("주소") for n in question.nouns) and not _ADDRESS.search(candidate.text):
        return "주소"  # 본사 주소는 어디: a venue (김대중컨벤션센터에서) is not an address
    return None


def with_required_word(question: Question, choice: Choice) -> tuple[Choice, str | None]:
    """The choice, or else its best-scored alternative whose sentence says what the question
    requires (how many automotive companies: 자동차 분야 6 of a sentence about 기업, not 자동차 등
    5개 업종); with the missing word when no alternative says it."""
    if choice.span is None:
        return choice, None
    missing = missing_word(question, choice.span, choice.candidate)
    if missing is None or missing != question.counted:
        return choice, missing  # a role must be the named person's own (기관사), not any sentence's
    saying = [s for s in choice.alternatives if missing_word(question, s.span, s.candidate) is None]
    if not saying:
        return choice, missing
    best = max(saying, key=lambda s: s.score)
    return Choice(best.candidate, best.span, best.score, best.inside, choice.alternatives), None


# What states an address: the word, a road or lot number (금남로 245, 상무중앙로 7번길, 123번지).
_ADDRESS = re.compile(r"주소|소재지|[가-힣]+(로|길)\s?\d+|\d+\s?번지|\d+-\d+번?지?")




def asked_role(question: Question) -> tuple[str, ...] | None:
    """The role a person question names, as the words a sentence may state it with (기관사의
    이름은 -> 기관사; 문화재청장은 -> 청장; Who is the CTO -> CTO, 최고기술책임자)."""
    if question.answer_type != PERSON:
        return None
    if question.language == "en":
        text = question.text.lower()
        for phrase, role in EN_ROLE_PHRASES.items():
            text = text.replace(phrase, role)
        role = next((w for w in re.findall(r"[a-z]+", text) if w in EN_ROLES), None)
        return (*LEXICON[role], *((role.upper(),) if len(role) <= 3 else ())) if role else None
    for noun in question.nouns:
        role = max((r for r in ROLES if noun.endswith(r) and r != "이사"), key=len, default=None)
        if role:
            return (role,)
    return None


def _among(keyword: str, tokens: set[str]) -> bool:
    """Whether a sentence's tokens hold ``keyword``, a word written for it, or a compound that
    begins or ends with it (로봇 in 로봇분야, which kiwi keeps as one noun)."""
    for v in variants(keyword):
        if v in tokens or (len(v) > 1 and any(len(t) > len(v) and (t.startswith(v) or t.endswith(v))
                                              for t in tokens)):
            return True
    return False


def _says(text: str, keyword: str) -> bool:
    """Whether ``text`` says ``keyword`` or a word written for it (처음: 첫 협약)."""
    return any(v in text for v in variants(keyword))


def _bare(text: str) -> str:
    """Text without spaces and company marks (㈜지아이랩 repeats the question's 지아이랩)."""
    return re.sub(r"\s|㈜|\(주\)", "", text)


def _figures(text: str) -> list[str]:
    """The numbers written in ``text``, without thousands commas (5,151 -> 5151)."""
    return [n.replace(",", "").rstrip(".") for n in re.findall(r"\d[\d,.]*", text)]


def _repeats_number(value: str, question: str) -> bool:
    """Whether a figure is one the question itself gives (how many institutions are among the 50
    partners: not 50개)."""
    number = _figures(value)[:1] if re.match(r"\d", value) else []
    return bool(number) and number[0] in set(_figures(question))


def _another_year(sentence: str, start: int, question: str) -> bool:
    """Whether a figure is written right after a year other than every year the question gives
    (a question that gives none has no other year)."""
    years = set(years_asked(question))
    before = re.search(r"(?<!\d)(\d{4})년(도|에는|에|엔|의)?\s*$", sentence[max(0, start - 10):start])
    return bool(years) and before is not None and before.group(1) not in years


def _only_given_numbers(value: str, question: str) -> bool:
    """Whether every figure of a date is one the question gives (when in 2011 …: not 2011년,
    while 2011년 2월 4일 says more)."""
    numbers, given = _figures(value), set(_figures(question))
    return bool(numbers) and all(n in given for n in numbers)


def _same_value(a: str, b: str) -> bool:
    return re.sub(r"[\s,]", "", a) == re.sub(r"[\s,]", "", b)


def _unit(value: str) -> str:
    return re.sub(r"[\d\s,.]", "", value).replace("여", "")


def corroboration(question: Question, choice: Choice) -> tuple[list[Scored], list[Scored]]:
    """Passages of other documents stating a different figure for the same thing (their clauses
    hold the question's keywords about as well), and every other passage stating one of the
    figures (or, for names and places, the same value) in a clause about the same thing."""
    if choice.span is None or not choice.alternatives:
        return [], []
    best_key = (choice.candidate.hit.doc_id, choice.candidate.start)
    ordered = sorted(choice.alternatives, key=lambda x: -x.score)
    different: list[Scored] = []
    seen = {best_key}
    # The same thing: the other sentence has the question's keywords at least as fully, and every
    # number the question names (2024년 1분기 is not 2025년 2분기, whatever the clauses share).
    numbers = re.findall(r"\d+(?:\.\d+)?", question.text)
    if question.answer_type in _NUMERIC:
        for other in ordered:
            key = (other.candidate.hit.doc_id, other.candidate.start)
            if key not in seen and other.candidate.hit.doc_id != choice.candidate.hit.doc_id \
                    and not _same_value(other.span.value, choice.span.value) \
                    and not any(_same_value(other.span.value, d.span.value) for d in different) \
                    and _unit(other.span.value) == _unit(choice.span.value) \
                    and choice.inside >= 0.6 and len(content_keywords(question)) >= 2 \
                    and other.candidate.coverage >= choice.candidate.coverage \
                    and all(n in other.candidate.text for n in numbers) \
                    and other.inside >= max(0.6, 0.9 * choice.inside) and other.score >= choice.score - 0.25:
                seen.add(key)
                different.append(other)
    stated = [choice.span.value, *(d.span.value for d in different)]
    same = []
    for other in ordered:
        key = (other.candidate.hit.doc_id, other.candidate.start)
        if key not in seen and other.inside >= max(0.5, 0.6 * choice.inside) \
                and any(_same_value(other.span.value, value) for value in stated):
            seen.add(key)
            same.append(other)
    return same, different


def _proximity(sentence: str, span, weights: dict[str, float]) -> float:
    """Keywords close to the value, inside its clause, count more (``총 32개사가 광주에 사무실``)."""
    clause_start, clause_end = span.clause_start, span.clause_end
    total = 0.0
    for keyword, weight in weights.items():
        best = None
        for word in variants(keyword):
            position = sentence.find(word, clause_start, clause_end)
            while position >= 0:
                distance = span.start - (position + len(word)) if position < span.start else position - span.end
                distance = max(0, distance)
                best = distance if best is None else min(best, distance)
                position = sentence.find(word, position + 1, clause_end)
        if best is not None:
            total += weight * math.exp(-best / 12.0)
    return total


def disagreement(language: str, stated) -> str:
    """The sentence that says releases disagree, each figure with its document and date."""
    parts = []
    for value, hit in stated:
        meta = hit.chunk.meta
        where = " ".join(x for x in (meta.get("date") or "", meta.get("title") or hit.doc_id) if x)
        parts.append(f"{value} ({_clip(where, 60)})")
    if language == "en":
        return "Note: the documents disagree: " + "; ".join(parts) + "."
    return "다만 문서마다 수치가 다릅니다: " + "; ".join(parts) + "."


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
    release = candidate.hit.chunk.meta.get("date")
    if question.answer_type == DATE and release and not re.search(r"\d{4}\s*년|\d{4}[-.]", value):
        text += f" [기사 날짜 {release}]"  # 6일 오후: the day of the month of this release
    return _clip(text)


RELATIVE_DAYS = ("이날", "당일", "같은 날", "이 날", "오늘")


_DAY = re.compile(r"\d+\s*일|\d{4}[.\-/]\s*\d{1,2}[.\-/]\s*\d{1,2}")


def resolve_relative_date(question: Question, choice: "Choice",
                          document: list[tuple[Hit, int, int]] = ()) -> "Choice":
    """A date said only as 이날 ("that day") points back to the day its document named before it:
    answer with that span (6일 오후), found among the scored spans or else in the document's
    earlier sentences (``document``: its sentences in order). A span that is no day (1년 전,
    지난해 10월) is not what 이날 means; with no earlier day the choice stays as it was."""
    if choice.span is None or not choice.span.value.startswith(RELATIVE_DAYS):
        return choice
    doc_id = choice.candidate.hit.doc_id
    at = choice.span.start
    stated = [x for x in choice.alternatives
              if x.candidate.hit.doc_id == doc_id and x.span.start < at and _DAY.search(x.span.value)]
    if stated:
        first = min(stated, key=lambda x: x.span.start)
        return Choice(first.candidate, first.span, choice.score, choice.inside, choice.alternatives)
    best = choice.candidate
    for hit, start, end in document:
        if hit.doc_id != doc_id or start >= at:
            continue
        text = hit.chunk.text[start - hit.chunk.start:end - hit.chunk.start]
        day = next((s for s in typed_spans(text, DATE, (), None) if _DAY.search(s.value)), None)
        if day is not None:
            sentence = Candidate(hit, start, end, text, best.score, best.dense, best.coverage)
            return Choice(sentence, _span(question, sentence, day), choice.score, choice.inside,
                          choice.alternatives)
    return choice


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
