"""Request and response bodies of the HTTP API (``bot/api.py``), as they appear in its OpenAPI
schema at ``/docs``. Field names follow ``bot.records``; offsets point into the document's text
(``GET /v1/documents/{id}``), so ``text[start:end] == quote`` holds for every citation."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ISO_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"
MAX_HISTORY_ITEMS = 50  # only the last 4 are read (bot.validation.HISTORY_TURNS)


class Turn(BaseModel):
    """An earlier turn of a conversation the client keeps itself."""

    model_config = ConfigDict(extra="forbid")
    question: str
    answer: str


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(description="one question, at most max_question_chars (500) characters",
                          examples=["헬스케어 분야 기업은 몇 개인가?"])
    history: list[Turn] | None = Field(
        None, max_length=MAX_HISTORY_ITEMS,
        description="earlier turns kept by the client; or send conversation_id instead")
    conversation_id: str | None = Field(
        None, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
        description="continue a conversation kept by the server (the id a previous answer gave); "
                    "an unknown or expired id starts a new one, whose id the answer carries")
    lang: Literal["ko", "en"] | None = Field(
        None, description="language of a refusal; by default the question's")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(examples=["인공지능 업무협약"])
    k: int = Field(10, ge=1, le=100, description="passages to return, best first")
    date_from: str | None = Field(None, pattern=ISO_DATE, description="YYYY, YYYY-MM or YYYY-MM-DD, inclusive")
    date_to: str | None = Field(None, pattern=ISO_DATE, description="YYYY, YYYY-MM or YYYY-MM-DD, inclusive")
    source: str | None = Field(None, max_length=200, description="only passages of this outlet or issuing body")


class CitationOut(BaseModel):
    doc_id: str
    title: str
    date: str | None
    source: str | None
    quote: str = Field(description="== document text[start:end]")
    start: int
    end: int
    score: float
    span_start: int | None = Field(description="the answering span inside the quote (document offsets)")
    span_end: int | None
    url: str | None
    ocr: bool = Field(False, description="the document's text was read by OCR from scanned pages")


class AnswerOut(BaseModel):
    question: str
    text: str = Field(description="the short answer, or the refusal")
    refused: bool
    citations: list[CitationOut] = Field(description="the quote the answer comes from first, then retrieved passages")
    rewritten_question: str | None = Field(description="the self-contained question a follow-up was read as")
    answer_type: str
    language: str
    evidence: list[CitationOut] = Field(description="other passages stating the same value")
    related: list[CitationOut] = Field(description="with a refusal: related passages that do not answer")
    conflict: bool = Field(description="releases state different figures; text gives each, newest first")
    confidence: dict[str, float]
    backend: str
    backend_note: str
    conversation_id: str = Field(description="send it with the next question to ask a follow-up")


class PassageOut(BaseModel):
    doc_id: str
    chunk_id: int
    title: str
    date: str | None
    source: str | None
    url: str | None
    text: str = Field(description="== document text[start:end]")
    start: int
    end: int
    score: float
    ranks: dict[str, int]


class SearchOut(BaseModel):
    question: str
    passages: list[PassageOut]


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    text: str
    date: str | None
    source: str | None
    url: str | None
    path: str | None
    meta: dict[str, Any]


class HealthOut(BaseModel):
    status: Literal["ok"]
    model: dict[str, Any]
    index: dict[str, Any]
    reader: dict[str, Any]
    conversations: int


class AddedDocument(BaseModel):
    doc_id: str
    title: str
    date: str | None
    replaced: bool = Field(description="a document with this id was in the index and was replaced")


class SkippedOut(BaseModel):
    path: str
    reason: str


class UploadOut(BaseModel):
    documents: list[AddedDocument]
    passages: int
    skipped: list[SkippedOut]


class RemoveOut(BaseModel):
    removed: str
    upload_deleted: bool = Field(description="the file was an upload in corpus/uploads and was deleted")


class ErrorDetail(BaseModel):
    code: str = Field(description="stable, for programs: question_too_long, bad_question, bad_argument, "
                                  "malformed_request, payload_too_large, rate_limited, busy, unauthorized, "
                                  "locked_out, not_found, document_not_found, bad_document, internal_error, ...")
    message: str = Field(description="for people; never a stack trace")


class ErrorOut(BaseModel):
    error: ErrorDetail
