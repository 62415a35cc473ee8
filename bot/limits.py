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
