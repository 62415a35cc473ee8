"""PDF reader: pypdfium2 (PDFium) text in the page's own order.

A PDF has no paragraphs, only lines. A line that reaches the right margin was wrapped by the
layout, so it is joined to the next one: with a space when PDFium ended it with one (the wrap fell
between words), without one when it broke a Korean word (see ``join_wrapped``). Table rows
come out one per line with their cells separated by spaces; page numbers ("- 3 -") are dropped.

A page with (almost) no text layer that draws an image is a scan: it is read by OCR
(``bot.formats.ocr``), at most ``limits.MAX_OCR_PAGES`` of them per file, and the document's
``meta["ocr_pages"]`` lists those pages so that a citation can say its text came from OCR. A scan
that OCR cannot read is never indexed as an empty page: it is listed in
``meta["pages_not_read"]`` (reported with the ingest's skipped files), and a file with no other
text (fewer than ``_MIN_TEXT_LAYER_LETTERS`` letters) is refused.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from bot import limits
from bot.errors import BadDocument
from bot.formats import Extracted, build, ocr

_PAGE_NUMBER = re.compile(r"^\s*[-–—]?\s*\d{1,4}\s*[-–—]?\s*$")
_LONG_WORD = re.compile(r"[\uac00-\ud7a3]{4}")
_MARGIN_SLACK = 0.025  # a line ending this close (share of page width) to the margin was wrapped
# A text layer with fewer letters than this over an image is a scan with, at most, a stamped
# page number or file name: the page is read by OCR instead.
_MIN_TEXT_LAYER_LETTERS = 20
_LETTER = re.compile(r"\w")


def read(path: Path) -> Extracted:
    """Read a PDF's text layer, and its scanned pages by OCR; raises ``BadDocument`` for
    unreadable or encrypted files, and for image-only files that OCR cannot read."""
    path = Path(path)
    try:
        document = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError) as exc:
        raise BadDocument(f"{path.name}: not a readable PDF: {exc}") from exc
    try:
        pages, scans = _text_layer(document, path)
        ocr_pages, not_read = _read_scans(document, path, scans, pages)
    except pdfium.PdfiumError as exc:
        raise BadDocument(f"{path.name}: cannot extract text: {exc}") from exc
    finally:
        document.close()
    lines = [line for page_text in pages for line in page_text]
    if scans and not ocr_pages and _letters(lines) < _MIN_TEXT_LAYER_LETTERS:
        raise BadDocument(f"{path.name}: image-only PDF whose {len(scans)} scanned page(s) could "
                          f"not be read: " + "; ".join(not_read))
    extracted = build(lines, "pdf", path)
    if not (ocr_pages or not_read):
        return extracted
    return replace(extracted, meta={**extracted.meta, "ocr_pages": ocr_pages,
                                    "pages_not_read": not_read})


def _text_layer(document, path: Path) -> tuple[list[list[str]], list[int]]:
    """Each page's text-layer lines, and the (0-based) pages that are scans."""
    pages: list[list[str]] = []
    scans: list[int] = []
    for number, page in enumerate(document):
        text_page = page.get_textpage()
        page_text = [line for line in page_lines(text_page, page.get_width())
                     if not _PAGE_NUMBER.match(line)]
        text_page.close()
        if _is_scan(page, page_text):
            scans.append(number)  # its few text-layer letters stay if OCR cannot read it
        page.close()
        limits.charge(sum(map(len, page_text)))
        pages.append(page_text)
    if len(scans) > limits.MAX_OCR_PAGES:
        raise BadDocument(f"{path.name}: {len(scans)} scanned pages, over the "
                          f"{limits.MAX_OCR_PAGES} a file may have read by OCR")
    return pages, scans


def _is_scan(page, page_text: list[str]) -> bool:
    """Whether a page is an image with (almost) no text layer."""
    if _letters(page_text) >= _MIN_TEXT_LAYER_LETTERS:
        return False
    images = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2)
    return next(iter(images), None) is not None


def _letters(lines: list[str]) -> int:
    return sum(len(_LETTER.findall(line)) for line in lines)


def _read_scans(document, path: Path, scans: list[int],
                pages: list[list[str]]) -> tuple[list[int], list[str]]:
    """OCR the scanned pages, replacing their text-layer lines in ``pages``; returns the 1-based
    numbers of the pages read and a line for each page that was not (why)."""
    read: list[int] = []
    not_read: list[str] = []
    for number in scans:
        page = document[number]
        try:
            result = ocr.read_page(page, path.name, number + 1)
        except ocr.OcrUnavailable as exc:
            not_read.append(f"page {number + 1}: a scanned page, not read: {exc}")
            continue
        finally:
            page.close()
        if result.readable:
            pages[number] = list(result.lines)
            read.append(number + 1)
        else:
            not_read.append(f"page {number + 1}: a scanned page that OCR could not read "
                            f"(confidence {result.confidence:.0f}); not indexed")
    return read, not_read


def page_lines(text_page, page_width: float) -> list[str]:
    """The page's text as lines, with layout-wrapped lines joined back into paragraphs."""
    count = text_page.count_chars()
    text = text_page.get_text_range(0, count) if count > 0 else ""
    raw = text.split("\r\n")
    if len(text) != count:  # indices no longer line up with characters: no geometry
        return raw
    right_edges, position = [], 0
    for line in raw:
        last = position + len(line.rstrip()) - 1
        right_edges.append(text_page.get_charbox(last)[2] if line.strip() else 0.0)
        position += len(line) + 2
    return join_wrapped(raw, right_edges, max(right_edges, default=0.0) - _MARGIN_SLACK * page_width)


def join_wrapped(lines: list[str], right_edges: list[float], margin: float) -> list[str]:
    """Join lines the layout wrapped: a line reaching ``margin`` that ends in a space continues
    on the next line; one ending mid-word (Hangul, then Hangul or "(" on the next line) is joined
    without a space. Table rows (ending in figures or ")", or made of short labels) stay one
    per line."""
    joined: list[str] = []
    carry = ""
    for number, (line, right) in enumerate(zip(lines, right_edges)):
        following = lines[number + 1].lstrip() if number + 1 < len(lines) else ""
        current = carry + line
        wrapped = right >= margin and following and (
            line.endswith(" ") or (_is_hangul(line[-1:]) and _looks_like_prose(line)
                                   and (_is_hangul(following[0]) or following[0] == "(")))
        if wrapped:
            carry = current
            continue
        joined.append(current)
        carry = ""
    if carry:
        joined.append(carry)
    return joined


def _is_hangul(char: str) -> bool:
    return bool(char) and "\uac00" <= char <= "\ud7a3"


def _looks_like_prose(line: str) -> bool:
    """A line with a word of four Hangul syllables or more; table header rows ("구 분 2019년
    2020년 ..." or "1분기 2분기 ...") have none."""
    return _LONG_WORD.search(line) is not None
