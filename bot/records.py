"""The frozen records that flow through the pipeline.

Offsets always point into the original document text, so ``doc.text[c.start:c.end] == c.text``
holds for every chunk and every citation quote can be highlighted exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Document:
    """One press release or article, as read from the corpus."""

    doc_id: str
    title: str
    text: str
    date: str | None = None  # ISO: YYYY-MM-DD, or YYYY-MM when only the month is known
    source: str | None = None  # outlet or issuing body
    url: str | None = None
    path: str | None = None  # corpus-relative path of the file it came from
    meta: Mapping[str, Any] = field(default_factory=dict)  # reporter, department, contact, ...


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: ``document.text[start:end] == text``."""

    doc_id: str
    chunk_id: int  # row of this chunk in the index (row i = vector i)
    text: str
    start: int
    end: int
    meta: Mapping[str, Any] = field(default_factory=dict)  # title, date, source, url of its document

    @property
    def title(self) -> str:
        return self.meta.get("title", "")

    @property
    def date(self) -> str | None:
        return self.meta.get("date")

    @property
    def source(self) -> str | None:
        return self.meta.get("source")


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and the rank each retriever gave it (1-based)."""

    chunk: Chunk
    score: float
    ranks: Mapping[str, int] = field(default_factory=dict)

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id

    @property
    def text(self) -> str:
        return self.chunk.text


@dataclass(frozen=True)
class Citation:
    """A quote that supports an answer: ``quote == document.text[start:end]``.

    ``span_start``/``span_end`` (document offsets, inside ``start``/``end``) mark the exact
    answering span to highlight, when the answer is narrower than the quoted sentence.
    """

    doc_id: str
    title: str
    date: str | None
    source: str | None
    quote: str
    start: int
    end: int
    score: float
    span_start: int | None = None
    span_end: int | None = None
    url: str | None = None
    ocr: bool = False  # the quoted document's text was read by OCR from scanned pages


@dataclass(frozen=True)
class Answer:
    """What ``Bot.ask`` returns: the short answer first, then the citations, best first."""

    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    rewritten_question: str | None = None  # set when a follow-up was resolved from history
    answer_type: str = "other"
    language: str = "ko"
    evidence: tuple[Citation, ...] = ()
    # Passages retrieved and read that do not state the answer: shown with a refusal as "related,
    # but not an answer", and to staff as retrieved only.
    related: tuple[Citation, ...] = ()
    conflict: bool = False  # documents disagree on the figure
    confidence: Mapping[str, float] = field(default_factory=dict)  # evidence scores behind the refusal decision
    backend: str = "extractive"  # "llm" when the optional LLM answer passed its check
    backend_note: str = ""  # why the LLM answer was not used (unavailable, failed the check)
