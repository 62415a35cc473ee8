"""Document-format readers: one module per format, each with ``read(path) -> Extracted``.

Every reader returns clean text (one paragraph per line, one table row per line with cells
separated by `` | ``), a title and the press-release metadata the text states (see
``press_meta``). ``read(path)`` picks the reader by the file's suffix; unreadable files raise
``bot.errors.BadDocument`` naming the file. Readers stay within ``bot.limits``: zip packages are
checked from their directory before unpacking (``check_package``), and extracted text is
charged to the file's budget as it is found (``limits.charge``).
"""
from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bot import limits
from bot.errors import BadDocument

CELL_SEPARATOR = " | "


@dataclass(frozen=True)
class Extracted:
    """What a reader found in a file: its text, a title if one is recognisable, and metadata
    (``date`` ISO YYYY-MM-DD, ``issuer``, ``department``, ``contact``, ``format``) where stated."""

    text: str
    title: str | None
    meta: dict = field(default_factory=dict)


_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# Hancom's notice in place of the text of a 배포용 (distribution) file it could not open.
_PLACEHOLDER = re.compile(r"배포용\s*문서입니다|글\s*전용\s*뷰어가\s*필요합니다")


def clean_line(line: str) -> str:
    """One line with no control, zero-width or private-use characters and single spaces."""
    line = unicodedata.normalize("NFC", line)
    kept = [ch for ch in line if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs")]
    return _SPACES.sub(" ", "".join(kept)).strip()


def clean_text(lines: list[str]) -> str:
    """Join cleaned lines with newlines, dropping empty ones (paragraph breaks stay newlines)."""
    return "\n".join(cleaned for line in lines for part in line.split("\n")
                     if (cleaned := clean_line(part)))


def table_lines(cells: list[tuple[int, int, list[str]]]) -> list[str]:
    """Render table cells ``(row, col, lines)`` as one line per row in reading order.

    Cells of a row are joined by `` | `` (a cell's own paragraphs by spaces); a row with a single
    non-empty cell (a text box drawn as a table) keeps its paragraphs as separate lines.
    """
    rows: dict[int, list[tuple[int, list[str]]]] = {}
    for row, col, lines in cells:
        rows.setdefault(row, []).append((col, lines))
    out: list[str] = []
    for row in sorted(rows):
        filled = [lines for _, lines in sorted(rows[row], key=lambda cell: cell[0])
                  if any(clean_line(line) for line in lines)]
        if len(filled) == 1:
            out.extend(filled[0])
        elif filled:
            out.append(CELL_SEPARATOR.join(
                " ".join(clean_line(line) for line in lines if clean_line(line)) for lines in filled))
    return out


def build(lines: list[str], fmt: str, path: Path, title_hint: str | None = None) -> Extracted:
    """The ``Extracted`` of a document from its lines: cleaned text, title and metadata.

    ``title_hint`` (a title the file itself declares) wins over the title found in the text.

    Raises ``BadDocument`` when there is no text or only Hancom's 배포용 placeholder notice.
    """
    text = clean_text(lines)
    if not text:
        raise BadDocument(f"{path.name}: no text found (an image-only or empty document?)")
    if _PLACEHOLDER.search(text[:400]):
        raise BadDocument(f"{path.name}: only the 배포용 (distribution) placeholder notice was found")
    title, meta = press_meta.extract(text)
    title = clean_line(title_hint) if title_hint and clean_line(title_hint) else title
    return Extracted(text=text, title=title, meta={**meta, "format": fmt})


def read(path: Path) -> Extracted:
    """Read any supported file, choosing the reader by its suffix (``.hwp``, ``.hwpx``, ...)."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise BadDocument(f"{path.name}: unsupported format {path.suffix!r} "
                          f"(supported: {', '.join(sorted(READERS))})")
    if not path.is_file():
        raise BadDocument(f"{path.name}: no such file")
    with limits.reading(path.name):
        return reader(path)


def check_package(package: zipfile.ZipFile, path: Path, parsed: Callable[[str], bool]) -> None:
    """Refuse a zip package (DOCX, HWPX) from its directory alone, before anything is unpacked:
    too many members, more than ``MAX_UNPACKED_BYTES`` in all, or more than ``MAX_MARKUP_BYTES``
    in the members that ``parsed`` says will be parsed into XML trees (a zip bomb)."""
    members = package.infolist()
    if len(members) > limits.MAX_ZIP_MEMBERS:
        raise BadDocument(f"{path.name}: {len(members):,} zip members, over the "
                          f"{limits.MAX_ZIP_MEMBERS:,} limit")
    total = sum(member.file_size for member in members)
    if total > limits.MAX_UNPACKED_BYTES:
        raise BadDocument(f"{path.name}: unpacks to {total:,} bytes, over the "
                          f"{limits.MAX_UNPACKED_BYTES:,} byte limit (a zip bomb?)")
    markup = sum(member.file_size for member in members if parsed(member.filename))
    if markup > limits.MAX_MARKUP_BYTES:
        raise BadDocument(f"{path.name}: {markup:,} bytes of XML, over the "
                          f"{limits.MAX_MARKUP_BYTES:,} byte limit (a zip bomb?)")


def read_member(package: zipfile.ZipFile, name: str, path: Path) -> bytes:
    """One member's bytes, never more than its directory entry declares (a lying header yields
    at most what it declared; ``check_package`` has capped the declared sizes)."""
    info = package.getinfo(name)
    with package.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise BadDocument(f"{path.name}: {name} does not unpack to the size its zip directory states")
    return data


# The readers import the helpers above, so they are imported last.
from bot.formats import docx, hwp, hwpx, pdf, press_meta  # noqa: E402

READERS: dict[str, Callable[[Path], Extracted]] = {
    ".hwp": hwp.read,
    ".hwpx": hwpx.read,
    ".pdf": pdf.read,
    ".docx": docx.read,
}
