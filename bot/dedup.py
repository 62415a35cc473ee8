"""Duplicate documents: the same release read from two formats (HWP and its PDF) is one source,
not two, and so is one file saved twice under two names. Pure functions: word sets of documents
of different formats compared pairwise, and the normalised text of documents of one format."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .records import Document

# Which copy of one release to keep: the richest structured source first.
FORMAT_PREFERENCE = (".hwpx", ".hwp", ".docx", ".html", ".htm", ".md", ".txt", ".jsonl", ".pdf")


@dataclass(frozen=True)
class Duplicate:
    """A document left out because another copy of it is kept."""

    dropped: str  # doc id
    kept: str  # doc id
    similarity: float


def sketch(text: str) -> frozenset[str]:
    """The text's words of two characters or more, numbers included (``150.9억``): two quarters
    of one release series share their template wording but not their figures."""
    return frozenset(w for w in re.findall(r"[가-힣A-Za-z0-9.,%]+", text) if len(w) >= 2)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap coefficient of two word sets: PDF extraction loses and reorders words, so the
    smaller set's share found in the larger one is what says "same text"."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _suffix(doc: Document) -> str:
    name = (doc.path or "").rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def exact_duplicates(documents: list[Document]) -> list[Duplicate]:
    """Documents of one format whose text (whitespace aside) is identical to an earlier one, in
    another file or in the same collection (a ``.jsonl`` holding one article twice under two ids):
    the first in path order (then id) is kept, each later copy is a ``Duplicate`` of it."""
    first: dict[tuple[str, str], Document] = {}
    duplicates: list[Duplicate] = []
    for doc in sorted(documents, key=lambda d: ((d.path or "").split("/"), d.doc_id)):
        key = (_suffix(doc), " ".join(doc.text.split()))
        kept = first.setdefault(key, doc)
        if kept is not doc:
            duplicates.append(Duplicate(doc.doc_id, kept.doc_id, 1.0))
    return duplicates


def near_duplicates(documents: list[Document], threshold: float = 0.85) -> list[Duplicate]:
    """Documents that repeat a preferred copy in another format (word overlap ≥
    ``threshold``). Documents of one format are never compared: a news collection may hold two
    articles on one event, and that is the editors' call, not a format copy."""
    def preference(doc: Document) -> tuple:
        suffix = _suffix(doc)
        rank = FORMAT_PREFERENCE.index(suffix) if suffix in FORMAT_PREFERENCE else len(FORMAT_PREFERENCE)
        return (rank, doc.doc_id)

    if len({_suffix(d) for d in documents}) < 2:
        return []
    ordered = sorted(documents, key=preference)
    sketches = [sketch(d.text) for d in ordered]
    kept: list[int] = []
    duplicates: list[Duplicate] = []
    for i, doc in enumerate(ordered):
        match = None
        for j in kept:
            other = ordered[j]
            if _suffix(other) == _suffix(doc):
                continue
            shorter, longer = sorted((len(doc.text), len(other.text)))
            if longer and shorter / longer < 0.5:
                continue
            score = similarity(sketches[i], sketches[j])
            if score >= threshold:
                match = Duplicate(doc.doc_id, other.doc_id, round(score, 3))
                break
        if match:
            duplicates.append(match)
        else:
            kept.append(i)
    return duplicates
