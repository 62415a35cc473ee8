"""Hancom "save as HTML" export: absolutely positioned lines (``div.hls``) of text runs
(``span.hrt``), tables (``div.htb``) of positioned cells (``div.hce``).

A run is a fragment of a line, often a part of a word, so runs are joined with nothing between
them; a visual line that the layout wrapped is joined to the next line of the same paragraph
style, with a space if the line ended in one (a wrap between words), without one if it broke a
Korean word. The result reads as whole words, like the HWP the page was exported from.
"""
from __future__ import annotations

import re
import unicodedata

import lxml.html

from bot.formats import CELL_SEPARATOR, clean_line, clean_text, press_meta

_COLLAPSIBLE = re.compile(r"[ \t\r\n\f]+")  # HTML whitespace; &nbsp; (U+00A0) is kept
_LENGTH = re.compile(r"(?:^|;)\s*(left|top)\s*:\s*(-?[\d.]+)")
_FULL_LINE = 0.8  # share of the widest line's width from which a line counts as wrapped
_NOT_TEXT = {"script", "style", "svg", "head", "title"}


def hancom_html_text(html: str) -> tuple[str, str | None]:
    """Text and title of a Hancom HTML export: paragraphs one per line, table rows one per line
    with cells separated by `` | ``. The title is the press release's headline when one is
    recognisable, else the page's ``<title>`` if it has words."""
    if not html.strip():
        return "", None
    try:
        root = lxml.html.fromstring(html)
    except ValueError:  # a str that declares its encoding must be parsed as bytes
        root = lxml.html.fromstring(html.encode("utf-8"))
    text = clean_text(_block_lines(root.find("body") if root.find("body") is not None else root))
    title, _ = press_meta.extract(text)
    if title is None:
        page_title = clean_line(root.findtext(".//title") or "")
        title = page_title if re.search(r"[^\W\d_]{2}", page_title) else None
    return text, title


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split())


def _block_lines(container) -> list[str]:
    """Lines of a container, in document order: text lines merged into paragraphs, tables as rows."""
    lines: list[str] = []
    pending: list[tuple[str, str]] = []  # (paragraph style, raw line) not yet merged
    for element in container:
        if not isinstance(element.tag, str) or element.tag in _NOT_TEXT:
            continue
        classes = _classes(element)
        if "hpN" in classes:  # page number
            continue
        if "hls" in classes and not _has_table(element):
            style = next((c for c in classes if c.startswith("ps")), "")
            pending.append((style, _line_text(element)))
            continue
        lines.extend(merge_wrapped(pending))
        pending = []
        if "htb" in classes:
            lines.extend(_table_rows(element))
        else:
            lines.extend(_block_lines(element))
    lines.extend(merge_wrapped(pending))
    return lines


def _has_table(element) -> bool:
    return any("htb" in _classes(child) for child in element.iter() if isinstance(child.tag, str))


def _line_text(line) -> str:
    """A visual line: its runs joined with nothing between them; a bullet (``div.hhe``) is
    followed by a space."""
    runs = []
    for element in line.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "span":
            runs.append(_COLLAPSIBLE.sub(" ", element.text_content()))
            if any("hhe" in _classes(parent) for parent in element.iterancestors("div")):
                runs.append(" ")
    return "".join(runs)


def merge_wrapped(lines: list[tuple[str, str]]) -> list[str]:
    """Join the visual lines of one paragraph (same style, consecutive) back into one line.

    Only a line about as wide as the widest of its neighbours was wrapped by the layout. It
    continues after a space if it ended in one; without one if it ended in a Hangul syllable or
    ")" and the next begins with a Hangul syllable or "(" (a word broken by the wrap). Anything
    else starts a new line.
    """
    widest = max((_width(raw) for _, raw in lines), default=0)
    merged: list[str] = []
    previous_style, previous_full = None, False
    for style, raw in lines:
        if merged and previous_full and style == previous_style and _continues(merged[-1], raw):
            merged[-1] = merged[-1] + raw if merged[-1][-1:].isspace() else merged[-1] + raw.lstrip()
        else:
            merged.append(raw)
        previous_style, previous_full = style, _width(raw) >= _FULL_LINE * widest
    return merged


def _width(line: str) -> int:
    """Approximate printed width: wide (Hangul, CJK) characters count two."""
    stripped = line.strip()
    return len(stripped) + sum(unicodedata.east_asian_width(ch) in "WF" for ch in stripped)


def _continues(previous: str, line: str) -> bool:
    head = line.lstrip()[:1]
    if not previous.strip() or not head:
        return False
    if previous[-1].isspace():
        return True
    return (_is_hangul(previous[-1]) or previous[-1] == ")") and (_is_hangul(head) or head == "(")


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def _table_rows(table) -> list[str]:
    """Cells grouped into rows by their ``top`` and ordered by ``left``: one line per row (a row
    of a single cell, a text box, keeps its paragraphs as lines)."""
    rows: dict[float, list[tuple[float, list[str]]]] = {}
    for cell in table:
        if not isinstance(cell.tag, str) or "hce" not in _classes(cell):
            continue
        position = {key: float(value) for key, value in _LENGTH.findall(cell.get("style", ""))}
        paragraphs = [line for line in map(clean_line, _block_lines(cell)) if line]
        if paragraphs:
            top = round(position.get("top", 0.0), 1)
            rows.setdefault(top, []).append((position.get("left", 0.0), paragraphs))
    lines: list[str] = []
    for _, cells in sorted(rows.items()):
        cells.sort(key=lambda cell: cell[0])
        if len(cells) == 1:
            lines.extend(cells[0][1])
        else:
            lines.append(CELL_SEPARATOR.join(" ".join(paragraphs) for _, paragraphs in cells))
    return lines
