"""PDF reader: pypdfium2 (PDFium) text in the page's own order.

A PDF has no paragraphs, only lines. A line that reaches the right margin was wrapped by the
layout, so it is joined to the next one: with a space when PDFium ended it with one (the wrap fell
between words), without one when it broke a Korean word (see ``join_wrapped``). Table rows
come out one per line with their cells separated by spaces; page numbers ("- 3 -") are dropped.
"""
from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium

from bot import limits
from bot.errors import BadDocument
from bot.formats import Extracted, build

_PAGE_NUMBER = re.compile(r"^\s*[-–—]?\s*\d{1,4}\s*[-–—]?\s*$")
_LONG_WORD = re.compile(r"[\uac00-\ud7a3]{4}")
_MARGIN_SLACK = 0.025  # a line ending this close (share of page width) to the margin was wrapped


def read(path: Path) -> Extracted:
    """Read a PDF's text layer; raises ``BadDocument`` for unreadable, encrypted or image-only files."""
    path = Path(path)
    try:
        document = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError) as exc:
        raise BadDocument(f"{path.name}: not a readable PDF: {exc}") from exc
    lines: list[str] = []
    try:
        for page in document:
            text_page = page.get_textpage()
            page_text = [line for line in page_lines(text_page, page.get_width())
                         if not _PAGE_NUMBER.match(line)]
            text_page.close()
            page.close()
            limits.charge(sum(map(len, page_text)))
            lines.extend(page_text)
    except pdfium.PdfiumError as exc:
        raise BadDocument(f"{path.name}: cannot extract text: {exc}") from exc
    finally:
        document.close()
    return build(lines, "pdf", path)


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
