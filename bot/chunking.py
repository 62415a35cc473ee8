"""Split documents into passages with exact character offsets (no IO).

langchain-text-splitters does the recursive splitting; the separators are Korean-aware: paragraph
breaks, then sentence ends (``다.``, ``요.``, a closing quote after a sentence end), then ``▲``
list items, then spaces. Each chunk is located back in the document so that
``document.text[chunk.start:chunk.end] == chunk.text`` always holds.
"""
from __future__ import annotations

import re
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .records import Chunk, Document

# Zero-width or whitespace separators, tried in order. Sentence ends: a Korean final syllable or a
# closing bracket/quote before . ? !, then whitespace; list items start at ▲ ■ □ ○ ● - bullets.
KOREAN_SEPARATORS = (
    r"\n{2,}",
    r"\n",
    r"(?<=[다요죠까니함음됨임\)\]])[.?!][”’\"']?\s+",
    r"(?<=[.?!][”’\"'])\s+",
    r"(?<=[.?!])\s+",
    r"\s*(?=[▲■□○●◆◇※])",
    r"(?<=[,،、])\s+",
    r"\s+",
    "",
)

# Sentence boundaries for the answerer: the same sentence ends, kept with the sentence.
_SENTENCE_END = re.compile(r"(?<=[.?!])[”’\"'」)]*(?=\s|$)|\n+")


@lru_cache(maxsize=8)
def _splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=list(KOREAN_SEPARATORS), is_separator_regex=True, keep_separator="end",
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, strip_whitespace=True)


def split(document: Document, chunk_size: int = 400, chunk_overlap: int = 80,
          first_chunk_id: int = 0) -> list[Chunk]:
    """Passages of one document, in order, numbered from ``first_chunk_id``.

    Each chunk's meta carries its document's title, date, source and url, so a hit can be cited
    without another lookup.
    """
    text = document.text
    pieces = _splitter(chunk_size, chunk_overlap).split_text(text)
    meta = {"title": document.title, "date": document.date, "source": document.source,
            "url": document.url}
    chunks: list[Chunk] = []
    cursor = 0
    for piece in pieces:
        start = text.find(piece, cursor)
        if start < 0:  # the splitter rewrote whitespace; fall back to a search from the top
            start = text.find(piece)
        if start < 0:
            continue
        end = start + len(piece)
        chunks.append(Chunk(doc_id=document.doc_id, chunk_id=first_chunk_id + len(chunks),
                            text=piece, start=start, end=end, meta=meta))
        cursor = start + 1
    return chunks


def split_all(documents, chunk_size: int = 400, chunk_overlap: int = 80) -> list[Chunk]:
    """Passages of many documents, numbered consecutively (chunk_id = row in the index)."""
    chunks: list[Chunk] = []
    for document in documents:
        chunks.extend(split(document, chunk_size, chunk_overlap, first_chunk_id=len(chunks)))
    return chunks


def sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of ``text``, shifted by ``offset``, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end() if match.group() and not match.group().startswith("\n") else match.start()
        _add_span(text, start, end, offset, spans)
        start = match.end()
    _add_span(text, start, len(text), offset, spans)
    return spans


def _add_span(text: str, start: int, end: int, offset: int, spans: list) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start >= 2:
        spans.append((start + offset, end + offset))
