"""OCR of scanned PDF pages: Tesseract with its Korean model, through pytesseract.

A page whose text layer is empty but which draws an image is a scan. It is rendered with PDFium
and read by the ``tesseract`` program (Debian packages ``tesseract-ocr`` and
``tesseract-ocr-kor``, installed by ``scripts/install-ocr.sh``). pytesseract runs it as a child
process, so unlike PDFium or lxml inside this process, a page that takes too long is killed at
its deadline: each page gets ``OCR_SECONDS_PER_PAGE`` more on the file's budget and the process
is given whatever that budget has left.

The text is Tesseract's own text output, which spaces Korean as printed (its word table splits
a Korean word into syllables, so it is read only for the words' confidences). A line nearly as
wide as the page's widest was wrapped by the layout and is joined to the next line of its
paragraph (Tesseract separates them with a blank line) with a space: OCR cannot tell a line
wrapped inside a word from one wrapped between words, and a space is the harmless mistake for
search. A paragraph's wide last line that ends mid-sentence is joined to the next paragraph
(Tesseract sometimes breaks one there); shorter lines (headings, table rows, a paragraph's last
line) stay apart. A page is unreadable when it yields
fewer than ``MIN_PAGE_CHARS`` letters and digits or its words' mean confidence is under
``MIN_CONFIDENCE``: a photo, a blank scan or a page too degraded to trust.
"""
from __future__ import annotations

import functools
import math
import os
import re
import threading
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass

from bot import limits
from bot.errors import BadDocument

# Korean alone: its model reads the Latin letters and figures of a release; "kor+eng" took half as
# long again on a release page (14-16 s against 10 s, busy machine) and read the ministry's logo
# as English words.
LANGUAGES = "kor"
# Pages are rendered at 200 dpi whatever the scan's resolution. The sample release prints its body
# text at ~15 pt; at 300 dpi its lines are taller than Tesseract segments well. Three pages of the MOEF 2024
# Q1 release scanned at 200 and at 300 dpi: 0.74-0.94 of their words read at 200 dpi, 0.39-0.88
# at 300 (scripts/bench_ocr.py times it; docs/benchmarks.md).
DPI = 200
# Tesseract's own word confidence (0-100), averaged over a page's words weighted by length.
MIN_CONFIDENCE = 50.0
MIN_PAGE_CHARS = 10
# A line at least this share of the page's widest line was wrapped by the layout, when that line
# is prose-wide (in half-width cells; a body line of an A4 release is ~80): the lines of a table
# or a heading are shorter.
_WRAPPED_SHARE = 0.8
_MIN_WRAPPED_WIDTH = 40
_SENTENCE_END = re.compile(r"[.!?。…]['\"’”)]?$|다$")
_LETTERS = re.compile(r"\w")


class OcrUnavailable(Exception):
    """Tesseract or its Korean model is not installed here."""


@dataclass(frozen=True)
class PageText:
    """What OCR read on one page: its lines, the words' mean confidence and the time it took."""

    lines: tuple[str, ...]
    confidence: float
    seconds: float

    @property
    def readable(self) -> bool:
        """Enough letters and digits, read with enough confidence, to index the page."""
        letters = sum(len(_LETTERS.findall(line)) for line in self.lines)
        return letters >= MIN_PAGE_CHARS and self.confidence >= MIN_CONFIDENCE


@functools.lru_cache(maxsize=1)
def unavailable() -> str | None:
    """Why OCR cannot run here (no ``tesseract`` program, no Korean model), or None when it can."""
    import pytesseract

    try:
        languages = set(pytesseract.get_languages())
    except (pytesseract.TesseractNotFoundError, OSError, SystemExit):
        # pytesseract raises SystemExit for a version string it cannot parse.
        return "Tesseract is not installed (run scripts/install-ocr.sh)"
    missing = [lang for lang in LANGUAGES.split("+") if lang not in languages]
    if missing:
        return (f"Tesseract has no {'+'.join(missing)} model (install tesseract-ocr-kor: "
                f"run scripts/install-ocr.sh)")
    return None


def render(page, dpi: int | None = None):
    """The page as a grayscale Pillow image at ``dpi`` (default ``DPI``), scaled down to at most
    ``limits.MAX_OCR_PIXELS`` (a page can declare any size; its bitmap must stay bounded)."""
    width, height = page.get_size()
    scale = (dpi or DPI) / 72
    while math.ceil(width * scale) * math.ceil(height * scale) > limits.MAX_OCR_PIXELS:
        scale = min(scale * 0.999, (limits.MAX_OCR_PIXELS / (width * height)) ** 0.5)
    return page.render(scale=scale, grayscale=True).to_pil()


def read_page(page, name: str, number: int) -> PageText:
    """OCR one PDF page (``number`` is 1-based, for messages) within the file's budget.

    Raises ``OcrUnavailable`` when Tesseract cannot run here, and ``BadDocument`` when the page
    outlasts the budget or Tesseract fails on it.
    """
    import pytesseract

    reason = unavailable()
    if reason:
        raise OcrUnavailable(reason)
    limits.allow(limits.OCR_SECONDS_PER_PAGE)
    started = time.monotonic()
    image = render(page)
    limits.charge()
    timeout = limits.remaining()
    try:
        # One run, two renderings: the text as Tesseract spaces it, and the words' confidences.
        with _one_thread():
            text, table = pytesseract.run_and_get_multiple_output(
                image, extensions=["txt", "tsv"], lang=LANGUAGES, timeout=timeout)
    except RuntimeError as exc:  # TesseractError is one too
        if "timeout" in str(exc):
            raise BadDocument(f"{name}: OCR of page {number} ran past the file's time budget "
                              f"({timeout:.0f} s left); abandoned") from None
        raise BadDocument(f"{name}: OCR failed on page {number}: {str(exc)[:200]}") from None
    finally:
        image.close()
    lines = text_lines(text)
    result = PageText(tuple(lines), mean_confidence(table), time.monotonic() - started)
    limits.charge(sum(map(len, lines)))
    return result


_ENVIRONMENT = threading.Lock()


@contextmanager
def _one_thread():
    """Run Tesseract on one thread (``OMP_THREAD_LIMIT=1``) unless the environment says otherwise.

    Its OpenMP threads spin while they wait: on the development machine's two busy cores a page
    took 7.1 s (13.6 s of CPU for three pages) with them and 2.0 s (4.8 s) without. pytesseract
    starts the program with this process's environment, so the variable is set around the call,
    one OCR at a time (the embedding model, whose OpenMP would read it too, is loaded before an
    ingest reads any file).
    """
    with _ENVIRONMENT:
        if "OMP_THREAD_LIMIT" in os.environ:
            yield
            return
        os.environ["OMP_THREAD_LIMIT"] = "1"
        try:
            yield
        finally:
            os.environ.pop("OMP_THREAD_LIMIT", None)


def text_lines(text: str) -> list[str]:
    """Tesseract's text as lines: wrapped lines joined (see the module docstring), short lines
    (headings, table rows) kept apart."""
    paragraphs = [[" ".join(line.split()) for line in paragraph.split("\n") if line.strip()]
                  for paragraph in re.split(r"\n\s*\n", text)]
    widest = max((_width(line) for lines in paragraphs for line in lines), default=0)
    rows: list[tuple[str, bool]] = []  # (line, whether the layout wrapped it)
    for lines in paragraphs:
        for number, line in enumerate(lines):
            wide = widest >= _MIN_WRAPPED_WIDTH and _width(line) >= _WRAPPED_SHARE * widest
            # Tesseract sometimes starts a paragraph inside a sentence: a wide last line that
            # does not end one was wrapped too.
            last = number + 1 == len(lines)
            rows.append((line, wide and not (last and _SENTENCE_END.search(line))))
    joined: list[str] = []
    carry = ""
    for number, (line, wrapped) in enumerate(rows):
        current = f"{carry} {line}" if carry else line
        if wrapped and number + 1 < len(rows):
            carry = current
            continue
        joined.append(current)
        carry = ""
    return joined


def mean_confidence(table: str) -> float:
    """The mean confidence (0-100) of the words in Tesseract's TSV output, weighted by length."""
    weighted, weight = 0.0, 0
    rows = table.splitlines()
    header = rows[0].split("\t") if rows else []
    if "conf" not in header or "text" not in header:
        return 0.0
    conf_column, text_column = header.index("conf"), header.index("text")
    for row in rows[1:]:
        cells = row.split("\t")
        if len(cells) <= max(conf_column, text_column) or not cells[text_column].strip():
            continue
        try:
            confidence = float(cells[conf_column])
        except ValueError:
            continue
        if confidence >= 0:
            weighted += confidence * len(cells[text_column].strip())
            weight += len(cells[text_column].strip())
    return weighted / weight if weight else 0.0


def _width(line: str) -> int:
    """A line's printed width in half-width cells: Hangul and other wide characters count two."""
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in line)
