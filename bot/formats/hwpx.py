"""HWPX (OWPML, the zipped-XML Hancom format) reader: zipfile + lxml.

The body is ``Contents/section*.xml`` (in the order of the package's spine when it lists them):
paragraphs ``hp:p`` hold runs whose ``hp:t`` elements carry the text; tables ``hp:tbl`` have rows
``hp:tr`` of cells ``hp:tc`` whose ``hp:subList`` holds paragraphs; text boxes and notes hold a
``hp:subList`` too. Elements are matched by local name so later namespace versions still read.
"""
from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from lxml import etree

from bot import limits
from bot.errors import BadDocument
from bot.formats import Extracted, build, check_package, read_member, table_lines

_SECTION_NAME = re.compile(r"^Contents/section(\d+)\.xml$")
_MANIFEST = "Contents/content.hpf"
# A line break only shapes lines inside one paragraph (a headline, a cell): it reads as a space.
_INLINE_TEXT = {"tab": " ", "lineBreak": " ", "nbSpace": " ", "fwSpace": " ", "hyphen": "-"}
_NOTES = frozenset({"footNote", "endNote", "hiddenComment"})
# Never text of the document: shape descriptions ("그림입니다..."), field parameters, page
# headers and footers (repeated on every page), equation scripts.
_SKIPPED = frozenset({"shapeComment", "parameters", "header", "footer", "script", "secPr"})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def read(path: Path) -> Extracted:
    """Read an HWPX file into text with one paragraph or table row per line."""
    path = Path(path)
    lines: list[str] = []
    for name, xml in _section_xml(path):
        limits.charge()
        try:
            lines.extend(render_paragraphs(etree.fromstring(xml, _PARSER)))
        except etree.XMLSyntaxError as exc:
            raise BadDocument(f"{path.name}: {name} is not well-formed XML: {exc}") from exc
        except (ValueError, RecursionError) as exc:
            raise BadDocument(f"{path.name}: {name} is damaged: {exc}") from exc
    return build(lines, "hwpx", path)


def _section_xml(path: Path) -> list[tuple[str, bytes]]:
    """The section documents' names and bytes, in reading order."""
    try:
        with zipfile.ZipFile(path) as package:
            check_package(package, path, lambda name: name == _MANIFEST or bool(_SECTION_NAME.match(name)))
            names = [info.filename for info in package.infolist()]
            manifest = read_member(package, _MANIFEST, path) if _MANIFEST in names else None
            sections = section_order(names, manifest)
            if not sections:
                raise BadDocument(f"{path.name}: not an HWPX file (no Contents/section*.xml)")
            return [(name, read_member(package, name, path)) for name in sections]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError,
            OSError, EOFError) as exc:
        raise BadDocument(f"{path.name}: not a readable HWPX (zip) file: {exc}") from exc


def section_order(names: list[str], content_hpf: bytes | None) -> list[str]:
    """Section part names in reading order: the spine of ``content.hpf`` when it names them all,
    otherwise by section number (files without a usable manifest still read)."""
    by_number = sorted((n for n in names if _SECTION_NAME.match(n)),
                       key=lambda n: int(_SECTION_NAME.match(n).group(1)))
    if not content_hpf:
        return by_number
    try:
        root = etree.fromstring(content_hpf, _PARSER)
    except etree.XMLSyntaxError:
        return by_number
    hrefs = {el.get("id"): el.get("href") for el in root.iter() if _local(el) == "item"}
    spine = [hrefs.get(el.get("idref")) for el in root.iter() if _local(el) == "itemref"]
    ordered = [href for href in spine if href in by_number]
    return ordered if sorted(ordered) == sorted(by_number) else by_number


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def render_paragraphs(container) -> list[str]:
    """Lines of the paragraphs directly inside a section or ``subList``, tables in place."""
    lines: list[str] = []
    for element in container:
        if _local(element) == "p":
            lines.extend(_render_paragraph(element))
    return lines


def _render_paragraph(paragraph) -> list[str]:
    lines: list[str] = []
    notes: list[str] = []
    current: list[str] = []
    for run in paragraph:
        if _local(run) != "run":
            continue
        for item in run:
            kind = _local(item)
            if kind == "t":
                current.append(_run_text(item))
            elif kind in _SKIPPED:
                continue
            elif kind == "ctrl":
                for control in item:
                    if _local(control) in _NOTES:
                        notes.extend(line for sub in _sublists(control)
                                     for line in render_paragraphs(sub))
            else:  # a table, or a drawing object that may hold text boxes
                body = _render_table(item) if kind == "tbl" else [
                    line for sub in _sublists(item) for line in render_paragraphs(sub)]
                if body:
                    lines.extend("".join(current).split("\n"))
                    current = []
                    lines.extend(body)
    lines.extend("".join(current).split("\n"))
    return lines + notes


def _run_text(text_element) -> str:
    """The text of one ``hp:t``: its own text, inline tabs and breaks, and the text after them."""
    parts = [text_element.text or ""]
    for child in text_element:
        parts.append(_INLINE_TEXT.get(_local(child), ""))
        parts.append(child.tail or "")
    text = "".join(parts)
    limits.charge(len(text))
    return text


def _sublists(element):
    """The outermost ``subList`` elements under an element (text boxes, note bodies, captions)."""
    for child in element:
        kind = _local(child)
        if kind == "subList":
            yield child
        elif kind not in _SKIPPED and kind != "tbl":
            yield from _sublists(child)


def _render_table(table) -> list[str]:
    """A table as one line per row, cells in reading order (by ``cellAddr`` when present)."""
    caption = [line for child in table if _local(child) == "caption"
               for sub in _sublists(child) for line in render_paragraphs(sub)]
    cells: list[tuple[int, int, list[str]]] = []
    for row_number, row in enumerate(el for el in table if _local(el) == "tr"):
        for col_number, cell in enumerate(el for el in row if _local(el) == "tc"):
            address = next((el for el in cell if _local(el) == "cellAddr"), None)
            row_index = int(address.get("rowAddr", row_number)) if address is not None else row_number
            col_index = int(address.get("colAddr", col_number)) if address is not None else col_number
            body = [line for sub in cell if _local(sub) == "subList" for line in render_paragraphs(sub)]
            cells.append((row_index, col_index, body))
    return caption + table_lines(cells)
