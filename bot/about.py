"""Questions about a document itself, not its content: who wrote it, which outlet or office
issued it, when, and the contact e-mail ("이 기사를 쓴 기자는?", "Which newspaper published the
article?"). Their answers are the document's own byline and metadata, quoted where the text
states them (pure, no IO).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .language import EN_DOCUMENT_FIELD_WORDS
from .records import Document

REPORTER, SOURCE, DATE, EMAIL = "reporter", "source", "date", "email"

# A word that names the document as a whole (이 기사, 해당 보도자료, the article).
_KO_DEICTIC = re.compile(r"(?<![가-힣])(이|해당|본|그|위|이번)\s*(기사|보도자료|보도|자료|글)(?![가-힣]*(에서|에는|에 따르면|속))")
_KO_LEADING = re.compile(r"\s*(기사|보도자료|보도|자료|글)(?![하한했해])")
_KO_FIELDS = (
    (EMAIL, re.compile(r"(이메일|메일|e-?mail|전자우편)", re.I)),
    (REPORTER, re.compile(r"(?<![가-힣])(기자|작성자|필자|글쓴이)(?![가-힣]*(회견|단|실|들))|(쓴|작성한|썼|작성했)")),
    (SOURCE, re.compile(r"(?<![가-힣])(언론사|신문사|방송사|통신사|매체|출처|언론|배포\s*기관|발행처)|(낸|실은|보도한|배포한|발행한)\s*(곳|기관|회사|신문)"
                        r"|(어느|어떤|무슨|어디)\s*(신문|언론|매체|방송|통신)")),
    (DATE, re.compile(r"(몇\s*년\s*몇\s*월|몇\s*월|언제|날짜|일자|며칠|배포일|보도일|작성일)")),
)
_EN_DOCUMENT = re.compile(r"\b(article|story|report|release|press release|piece|news item)\b", re.I)
_EN_FIELDS = (
    (EMAIL, re.compile(r"\be-?mail\b", re.I)),
    (REPORTER, re.compile(r"\b(who (wrote|authored|reported|filed)|author|reporter|journalist|byline|written by)\b", re.I)),
    (SOURCE, re.compile(r"\b(newspaper|outlet|publication|publisher|news agency|media|published (it|the)|who published|which paper)\b", re.I)),
    (DATE, re.compile(r"\b(when (was|were|did)|what date|which date|date of|dated)\b", re.I)),
)
_EN_THIS = re.compile(r"\b(this|it)(\s+(from|in|by))?\s*[?.!]?\s*$", re.I)  # Which paper is this from?


def _en_content(question: str) -> list[str]:
    """The words of an English question besides those that ask for a document's field."""
    return [w for w in re.findall(r"[a-z]+", question.lower()) if w not in EN_DOCUMENT_FIELD_WORDS]


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:co\.kr|go\.kr|or\.kr|ac\.kr|re\.kr|com|net|org|kr)",
                    re.I)
_PRESS_META = ("reporter", "department", "contact", "issuer")


def asked_field(question: str, language: str) -> str | None:
    """The document field a question asks for (``reporter``, ``source``, ``date``, ``email``), or
    None when it asks about what the documents say."""
    if language == "en":
        name = next((name for name, pattern in _EN_FIELDS if pattern.search(question)), None)
        if name is None or _EN_DOCUMENT.search(question) or name == EMAIL:
            return name
        # Which newspaper reported this? / Who is the reporter?: "this" or nothing at all besides
        # the field names the document (the date needs the document named: when was X signed).
        if name != DATE and (_EN_THIS.search(question) or not _en_content(question)):
            return name
        return None
    # The document itself, not a report the content tells of (…를 보도한 신문사는, …기사를 쓴
    # 매체는): pointed at (이 기사) or the question's first word (기사를 낸 언론사는).
    mentions_document = _KO_DEICTIC.search(question) or _KO_LEADING.match(question)
    for name, pattern in _KO_FIELDS:
        if not pattern.search(question):
            continue
        if name == EMAIL and re.search(r"(기자|작성자|담당자|기사|보도)", question):
            return name
        if name == DATE and not _KO_DEICTIC.search(question) and not re.search(
                r"(기사|보도자료|보도)(는|가|은|의)?\s*(언제|몇|날짜|일자|며칠)", question):
            continue  # 협약식은 언제: the content's date, not the document's
        if name != DATE and mentions_document:
            return name
        if name == DATE:
            return name
    return None


@dataclass(frozen=True)
class Found:
    """A field of one document: its value and, where the text states it, its offsets."""

    value: str
    start: int | None = None
    end: int | None = None


def field_of(document: Document, name: str) -> Found | None:
    """The field ``name`` of ``document``, located in its text when the text states it."""
    text = document.text
    if name == EMAIL:
        match = _EMAIL.search(text)
        return Found(match.group(0), match.start(), match.end()) if match else None
    if name == REPORTER:
        reporter = (document.meta or {}).get("reporter")
        return _located(text, reporter) if reporter else None
    if name == SOURCE:
        return _located(text, document.source) if document.source else None
    if name == DATE:
        return Found(document.date) if document.date else None
    return None


def _located(text: str, value: str) -> Found:
    position = text.find(value)
    return Found(value, position, position + len(value)) if position >= 0 else Found(value)


def is_press_material(document: Document) -> bool:
    """Whether a document carries a press byline or release metadata (reporter, department)."""
    return any((document.meta or {}).get(key) for key in _PRESS_META)


def choose_document(documents: dict[str, Document], name: str, ranked_ids: list[str],
                    previous_id: str | None) -> Document | None:
    """Which document "this article" means: the one the conversation was about; else the best
    retrieved press material (a bylined article or a release) stating the field; else the
    newest press material stating it; else the best retrieved document stating it."""
    def has(doc_id: str | None) -> bool:
        return bool(doc_id) and doc_id in documents and field_of(documents[doc_id], name) is not None

    if has(previous_id):
        return documents[previous_id]
    press = [d for d in documents.values() if is_press_material(d) and field_of(d, name) is not None]
    press_ids = {d.doc_id for d in press}
    for doc_id in ranked_ids:
        if doc_id in press_ids:
            return documents[doc_id]
    if press:
        return max(press, key=lambda d: (d.date or "", d.doc_id))
    return next((documents[i] for i in ranked_ids if has(i)), None)


def answer_text(name: str, found: Found, document: Document, language: str) -> str:
    """The short answer: the value, then the byline it is quoted from (or, for a date, which
    document it is the date of)."""
    value = found.value
    title = document.title if len(document.title) <= 40 else document.title[:39] + "…"
    where = f"「{title}」"
    if found.start is not None:
        where = f"“{byline(document.text, found.start, found.end)}”"
    if language == "en":
        label = {REPORTER: "Reporter", SOURCE: "Published by", DATE: "Dated", EMAIL: "E-mail"}[name]
        return f"{label}: {value} ({where})"
    if name == DATE:
        value = f"{korean_date(value)} ({value})"
    label = {REPORTER: "기사를 쓴 기자는 {v} 기자입니다.", SOURCE: "이 기사를 낸 곳은 {v}입니다.",
             DATE: "이 기사의 날짜는 {v}입니다.", EMAIL: "기자 이메일은 {v}입니다."}[name]
    return label.format(v=value) + f" ({where})"


def byline(text: str, start: int, end: int) -> str:
    """The words around a located value: the bracketed byline that holds it
    (``[아시아경제 호남취재본부 박선강 기자]``), else up to 30 characters either side on its line."""
    open_at, close_at = text.rfind("[", 0, start), text.find("]", end)
    if open_at >= 0 and 0 <= close_at - open_at <= 80 and "\n" not in text[open_at:close_at]:
        return text[open_at:close_at + 1]
    line_start, line_end = quote_bounds(text, start, end)
    return text[max(line_start, start - 30):min(line_end, end + 30)].strip()


def korean_date(iso: str) -> str:
    """``2020-11`` -> ``2020년 11월``; ``2020-11-06`` -> ``2020년 11월 6일``."""
    parts = [int(p) for p in iso.split("-") if p.isdigit()]
    return " ".join(f"{n}{unit}" for n, unit in zip(parts, ("년", "월", "일")))


def quote_bounds(text: str, start: int | None, end: int | None) -> tuple[int, int]:
    """The line of ``text`` holding the value (the byline), else the document's first line."""
    if start is None or end is None:
        first = text.find("\n")
        return 0, first if first > 0 else min(len(text), 200)
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return line_start, line_end if line_end >= 0 else len(text)
