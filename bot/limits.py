"""Limits on what one corpus file may cost to read: bytes, unpacked size, characters and time.

One crafted or broken file (a zip bomb, a truncated HWP, 100,000 nested brackets) must cost a
bounded amount of memory and time and end as one skipped file, never stop an ingest. The limits
are checked where the work is done: zip directories before anything is decompressed, zlib with a
``max_length``, and a per-file ``Budget`` that the readers charge inside their extraction loops.

The time budget is cooperative: a reader that runs past it is abandoned at its next ``charge``.
One library call (PDFium on one page, lxml on one XML part, python-docx opening its package)
cannot be interrupted in-process; the size limits below are what bound those. A worker process
would bound them too, but it would have to be spawned (the embedding model is already loaded in
the CLI, and the Streamlit app reads uploads in a thread), at ~1 s of imports per start.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from .errors import BadDocument

MAX_FILE_BYTES = 50 * 1024 * 1024
# The longest release among the sample files has ~17,000 characters and a 300-page government
# plan about 500,000. Four times that is still a document; more is a generated or damaged file
# whose ~5,000+ passages would cost minutes of embedding and gigabytes of memory.
MAX_DOCUMENT_CHARS = 2_000_000
# Zip packages (DOCX, HWPX): the sizes their directory declares, checked before decompressing.
# Pictures are stored about 1:1, so an honest package under MAX_FILE_BYTES unpacks far below this.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
# XML parsed into a tree costs ~8 times its size in memory (lxml, measured: 64 MB of paragraphs
# took 520 MB); the sample HWPX sections take 30-100 bytes of XML per character of text.
MAX_MARKUP_BYTES = 64 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
# Seconds for one file. The sample releases read in under 0.1 s each; 30 s leaves room for a
# 300-page report on a slow machine and stops a pathological file long before it is noticed.
SECONDS_PER_FILE = 30.0
# Scanned PDF pages (bot/formats/ocr.py). Tesseract read a page of a release (A4, at 200 dpi) in
# 1-2 s on the development machine's two busy cores (scripts/bench_ocr.py); each page sent to OCR
# adds OCR_SECONDS_PER_PAGE (five times that, for a slower or busier machine) to its file's
# budget, and a file with more than
# MAX_OCR_PAGES scanned pages is refused before any is read, so one scanned file costs at most
# SECONDS_PER_FILE + MAX_OCR_PAGES * OCR_SECONDS_PER_PAGE (under 4 minutes). Releases run to
# 2-10 pages; a longer scan is a report or an archive, not a release.
MAX_OCR_PAGES = 20
OCR_SECONDS_PER_PAGE = 10.0
# The rendered bitmap of one page: A4 at 200 dpi is 3.9 million pixels (one byte each in gray),
# A3 7.8 million; a page that declares a larger size is rendered at a lower resolution.
MAX_OCR_PIXELS = 16_000_000


class Budget:
    """Time and text one file may take; ``charge`` raises ``BadDocument`` once either is spent."""

    def __init__(self, name: str, seconds: float, max_chars: int) -> None:
        self.name = name
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.max_chars = max_chars
        self.chars = 0

    def charge(self, chars: int = 0) -> None:
        """Count ``chars`` more characters of extracted text and check the clock."""
        self.chars += chars
        if self.chars > self.max_chars:
            raise BadDocument(f"{self.name}: more than {self.max_chars:,} characters of text "
                              f"(the limit for one document)")
        if time.monotonic() > self.deadline:
            raise BadDocument(f"{self.name}: reading took longer than {self.seconds:g} s "
                              f"(the limit for one file); abandoned")

    def allow(self, seconds: float) -> None:
        """Give the file ``seconds`` more, for work it is known to need (a page sent to OCR)."""
        self.seconds += seconds
        self.deadline += seconds

    def remaining(self) -> float:
        """Seconds left before the deadline (negative once it has passed)."""
        return self.deadline - time.monotonic()


_current: ContextVar[Budget | None] = ContextVar("bot_reading_budget", default=None)


@contextmanager
def reading(name: str, seconds: float | None = None) -> Iterator[Budget]:
    """Read one file under a fresh budget (``SECONDS_PER_FILE``, ``MAX_DOCUMENT_CHARS``).

    Nested calls (``read_file`` calling a format reader) share the outer budget. A context
    variable rather than a parameter keeps the readers' ``read(path)`` signature, and is safe
    in the app's threads.
    """
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    budget = Budget(name, SECONDS_PER_FILE if seconds is None else seconds, MAX_DOCUMENT_CHARS)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def charge(chars: int = 0) -> None:
    """Charge the current file's budget (a no-op outside ``reading``)."""
    budget = _current.get()
    if budget is not None:
        budget.charge(chars)


def allow(seconds: float) -> None:
    """Give the current file's budget ``seconds`` more (a no-op outside ``reading``)."""
    budget = _current.get()
    if budget is not None:
        budget.allow(seconds)


def remaining(default: float = OCR_SECONDS_PER_PAGE) -> float:
    """Seconds left on the current file's budget (at least a tenth of a second, so that a child
    process is still given a deadline), or ``default`` outside ``reading``."""
    budget = _current.get()
    return default if budget is None else max(0.1, budget.remaining())
