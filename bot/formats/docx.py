"""DOCX (Word) reader: python-docx, paragraphs and tables in body order."""
from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from bot import limits
from bot.errors import BadDocument
from bot.formats import Extracted, build, check_package, table_lines


def read(path: Path) -> Extracted:
    """Read a .docx file: one paragraph or table row per line; headers and footers are skipped.

    python-docx loads every part of the package into memory, so the whole zip directory is
    checked against the limits first (``check_package``).
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as package:
            check_package(package, path, lambda name: name.endswith((".xml", ".rels")))
        document = docx.Document(str(path))
        lines = block_lines(document)
        declared_title = document.core_properties.title or None
    except (PackageNotFoundError, zipfile.BadZipFile, zlib.error, NotImplementedError, KeyError,
            ValueError, AttributeError, etree.XMLSyntaxError, OSError, EOFError) as exc:
        raise BadDocument(f"{path.name}: not a readable DOCX file: {exc or type(exc).__name__}") from exc
    return build(lines, "docx", path, title_hint=declared_title)


def block_lines(container) -> list[str]:
    """Lines of a document body or table cell: its paragraphs and tables in reading order."""
    lines: list[str] = []
    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
            limits.charge(len(lines[-1]))
        elif isinstance(block, Table):
            lines.extend(_table_lines(block))
    return lines


def _table_lines(table: Table) -> list[str]:
    """One line per row; a cell merged across columns is read once."""
    cells: list[tuple[int, int, list[str]]] = []
    for row_index, row in enumerate(table.rows):
        seen = set()
        for col_index, cell in enumerate(row.cells):
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append((row_index, col_index, block_lines(cell)))
    return table_lines(cells)
