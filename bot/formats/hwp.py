"""HWP 5 (the binary Hancom format) reader: olefile for the container, zlib for the sections.

The body is a stream of records (tag, level, payload) per section; a record's level makes it the
child of the nearest earlier record one level up. Paragraph text is HWPTAG_PARA_TEXT (67), UTF-16LE
with inline control characters; an extended control character stands for the next control
(HWPTAG_CTRL_HEADER, 71) of its paragraph, so tables and text boxes are rendered where they stand.
A 배포용 (distribution) document keeps its text in ViewText/Section*, AES-128-ECB encrypted with a
key hidden in its first record; it is decrypted here (HWP 5.0 spec, "배포용 문서 데이터").
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import olefile
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot import limits
from bot.errors import BadDocument
from bot.formats import Extracted, build, table_lines

SIGNATURE = b"HWP Document File"
_COMPRESSED, _PASSWORD, _DISTRIBUTION, _DRM = 0x1, 0x2, 0x4, 0x10

TAG_PARA_HEADER, TAG_PARA_TEXT, TAG_CTRL_HEADER, TAG_LIST_HEADER = 66, 67, 71, 72
TAG_TABLE, TAG_DISTRIBUTE_DOC_DATA = 77, 28

# Control characters that occupy 8 UTF-16 units (the code, 6 units of data, the code again).
_WIDE = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23})
# Of those, the ones that stand for a CTRL_HEADER record of the same paragraph, in order.
_EXTENDED = frozenset({1, 2, 3, 11, 12, 14, 15, 16, 17, 18, 21, 22, 23})
# Tab, line break, hyphen, spaces. A line break (Shift+Enter) only shapes lines inside one
# paragraph (a headline, a cell), so it reads as a space; Enter starts a new paragraph.
_ONE_UNIT = {9: " ", 10: " ", 24: "-", 30: " ", 31: " "}
_NOTE_CONTROLS = frozenset({"fn  ", "en  ", "tcmt"})  # footnote, endnote, hidden comment
_SKIPPED_CONTROLS = frozenset({"head", "foot"})  # running headers repeat on every page
# Decompressed section streams of one file, in all. The sample releases take 9-19 bytes of
# records per character of text, so 32 MiB holds more than MAX_DOCUMENT_CHARS; a deflate bomb
# (up to 1,032:1) stops here instead of filling memory.
MAX_SECTION_BYTES = 32 * 1024 * 1024
# Records of one file, in all: each becomes a Python object (1M took 2.7 s and 130 MB). The
# sample releases have 0.2-0.6 records per character, so 1M records is ~1.7M characters or more;
# a stream of empty 4-byte records is a crafted file.
MAX_RECORDS = 1_000_000


@dataclass(slots=True)
class Record:
    """One HWP record with the records nested under it."""

    tag: int
    payload: bytes
    children: list[Record] = field(default_factory=list)


def read(path: Path) -> Extracted:
    """Read an HWP 5 file (distribution documents included) into text with tables as rows."""
    path = Path(path)
    sections = _section_streams(path)
    lines: list[str] = []
    records_left = MAX_RECORDS
    for number, data in enumerate(sections):
        try:
            records = parse_records(data, records_left)
            records_left -= _count(records)
            lines.extend(render_paragraphs(records))
        except (ValueError, struct.error, IndexError, RecursionError) as exc:
            raise BadDocument(f"{path.name}: section {number} is damaged: {exc}") from exc
    return build(lines, "hwp", path)


def _count(records: list[Record]) -> int:
    stack, total = list(records), 0
    while stack:
        total += 1
        stack.extend(stack.pop().children)
    return total


def _section_streams(path: Path) -> list[bytes]:
    """The decompressed (and, for 배포용 files, decrypted) record streams of every section."""
    try:
        if not olefile.isOleFile(str(path)):
            raise BadDocument(f"{path.name}: not an HWP 5 file (no OLE container)")
        ole = olefile.OleFileIO(str(path))
    except (OSError, ValueError, IndexError, struct.error) as exc:  # olefile's damaged-file errors
        raise BadDocument(f"{path.name}: cannot open the HWP container: {exc}") from exc
    try:
        with ole:
            return _read_sections(ole, path)
    except (OSError, ValueError, IndexError, struct.error) as exc:  # a stream cut short or looping
        raise BadDocument(f"{path.name}: damaged HWP container: {exc}") from exc


def _stream(ole: olefile.OleFileIO, entry, path: Path) -> bytes:
    """One OLE stream, refused when its directory entry claims more than the whole file holds
    (olefile would follow a looping sector chain that far)."""
    size, available = ole.get_size(entry), path.stat().st_size
    if size > available:
        raise BadDocument(f"{path.name}: stream {'/'.join(entry)} claims {size:,} bytes, "
                          f"more than the file's {available:,}")
    return ole.openstream(entry).read()


def _read_sections(ole: olefile.OleFileIO, path: Path) -> list[bytes]:
    """The FileHeader checks and the section streams, decrypted and decompressed within
    ``MAX_SECTION_BYTES``."""
    if not ole.exists("FileHeader"):
        raise BadDocument(f"{path.name}: not an HWP 5 file (no FileHeader)")
    header = _stream(ole, ["FileHeader"], path)
    if not header.startswith(SIGNATURE) or len(header) < 40:
        raise BadDocument(f"{path.name}: not an HWP 5 file (bad signature)")
    (flags,) = struct.unpack_from("<I", header, 36)
    if flags & _PASSWORD:
        raise BadDocument(f"{path.name}: password-protected HWP, cannot be read")
    if flags & _DRM:
        raise BadDocument(f"{path.name}: DRM-protected HWP, cannot be read")
    storage = "ViewText" if flags & _DISTRIBUTION else "BodyText"
    names = sorted(
        (entry for entry in ole.listdir() if len(entry) == 2 and entry[0] == storage
         and entry[1].startswith("Section") and entry[1][7:].isdigit()),
        key=lambda entry: int(entry[1][7:]),
    )
    if not names:
        raise BadDocument(f"{path.name}: no {storage}/Section streams")
    streams = []
    room = MAX_SECTION_BYTES
    for entry in names:
        limits.charge()
        data = _stream(ole, entry, path)
        try:
            if flags & _DISTRIBUTION:
                data = decrypt_distribution_stream(data)
            if flags & _COMPRESSED:
                data = zlib.decompressobj(-15).decompress(data, room + 1)
        except (ValueError, zlib.error) as exc:
            what = "distribution (배포용) text" if flags & _DISTRIBUTION else "section"
            raise BadDocument(f"{path.name}: cannot decode {what}: {exc}") from exc
        room -= len(data)
        if room < 0:
            raise BadDocument(f"{path.name}: sections unpack to more than {MAX_SECTION_BYTES:,} "
                              f"bytes (the limit; a deflate bomb?)")
        streams.append(data)
    return streams


def _msvc_rand_bytes(seed: int, count: int) -> bytes:
    """The XOR mask of a distribution record: MS Visual C ``srand(seed)``; each pair of ``rand()``
    calls gives a byte value and how many times (1-16) it repeats."""
    state, mask = seed & 0xFFFFFFFF, bytearray()
    while len(mask) < count:
        state = (state * 214013 + 2531011) & 0xFFFFFFFF
        value = (state >> 16) & 0xFF
        state = (state * 214013 + 2531011) & 0xFFFFFFFF
        mask.extend([value] * (((state >> 16) & 0xF) + 1))
    return bytes(mask[:count])


def decrypt_distribution_stream(stream: bytes) -> bytes:
    """Decrypt one ViewText section of a 배포용 document into its (still compressed) records.

    The first record (HWPTAG_DISTRIBUTE_DOC_DATA, 256 bytes) is XOR-masked with a rand() sequence
    seeded by its first 4 bytes; the AES-128 key is 16 bytes at offset 4 + (seed & 0xF) of the
    unmasked data. The rest of the stream is AES-128-ECB ciphertext.
    """
    if len(stream) < 4 + 256:
        raise ValueError("ViewText stream too short")
    (head,) = struct.unpack_from("<I", stream, 0)
    if head & 0x3FF != TAG_DISTRIBUTE_DOC_DATA or (head >> 20) & 0xFFF != 256:
        raise ValueError("ViewText does not start with a distribution-document record")
    data = stream[4:260]
    (seed,) = struct.unpack_from("<I", data, 0)
    plain = bytes(a ^ b for a, b in zip(data, _msvc_rand_bytes(seed, 256)))
    offset = 4 + (seed & 0xF)
    key = plain[offset:offset + 16]
    body = stream[260:]
    body = body[:len(body) - len(body) % 16]
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return decryptor.update(body) + decryptor.finalize()


def parse_records(data: bytes, max_records: int = MAX_RECORDS) -> list[Record]:
    """Parse a section's record stream into a forest, nesting records by their level.

    Raises ``ValueError`` past ``max_records`` records.
    """
    roots: list[Record] = []
    stack: list[tuple[int, Record]] = []
    pos, end, count = 0, len(data), 0
    while pos + 4 <= end:
        count += 1
        if count > max_records:
            raise ValueError(f"more than {MAX_RECORDS:,} records (the limit for one file)")
        if count % 4096 == 0:
            limits.charge()
        (head,) = struct.unpack_from("<I", data, pos)
        pos += 4
        tag, level, size = head & 0x3FF, (head >> 10) & 0x3FF, (head >> 20) & 0xFFF
        if size == 0xFFF:
            if pos + 4 > end:
                raise ValueError("truncated record header")
            (size,) = struct.unpack_from("<I", data, pos)
            pos += 4
        if pos + size > end:
            if not any(data[pos - 4:]):  # zero padding after the last record (decrypted streams)
                break
            raise ValueError(f"record at byte {pos} runs past the end of the section")
        record = Record(tag, data[pos:pos + size])
        pos += size
        while stack and stack[-1][0] >= level:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(record)
        stack.append((level, record))
    return roots


def decode_para_text(payload: bytes) -> list[str | int]:
    """PARA_TEXT as text runs and, for each extended control character, its code (an int).

    Inline and extended controls take 8 UTF-16 units and are dropped (a tab becomes a space), so
    no control character reaches the text.
    """
    units = struct.unpack_from(f"<{len(payload) // 2}H", payload)
    parts: list[str | int] = []
    run: list[int] = []
    i = 0
    while i < len(units):
        code = units[i]
        if code >= 32:
            run.append(code)
            i += 1
            continue
        if code in _ONE_UNIT or code in _EXTENDED:
            if code in _ONE_UNIT:
                run.extend(ord(ch) for ch in _ONE_UNIT[code])
            else:
                parts.append(struct.pack(f"<{len(run)}H", *run).decode("utf-16-le", "replace"))
                parts.append(code)
                run = []
        i += 8 if code in _WIDE else 1
    parts.append(struct.pack(f"<{len(run)}H", *run).decode("utf-16-le", "replace"))
    return [part for part in parts if part != ""]


def render_paragraphs(records: list[Record]) -> list[str]:
    """Lines of a list of sibling records: paragraphs, with their tables and boxes in place."""
    lines: list[str] = []
    for record in records:
        if record.tag == TAG_PARA_HEADER:
            lines.extend(_render_paragraph(record))
        elif record.tag != TAG_PARA_TEXT:
            lines.extend(render_paragraphs(record.children))
    return lines


def _render_paragraph(paragraph: Record) -> list[str]:
    text = next((r for r in paragraph.children if r.tag == TAG_PARA_TEXT), None)
    controls = [r for r in paragraph.children if r.tag == TAG_CTRL_HEADER]
    lines: list[str] = []
    notes: list[str] = []
    current = ""
    for part in decode_para_text(text.payload) if text else []:
        if isinstance(part, str):
            limits.charge(len(part))
            current += part
            continue
        if not controls:
            continue
        control = controls.pop(0)
        kind = control.payload[:4][::-1].decode("latin-1")
        if kind in _NOTE_CONTROLS:
            notes.extend(render_paragraphs(control.children))
        elif kind not in _SKIPPED_CONTROLS:
            body = _render_control(kind, control)
            if body:
                lines.extend(current.split("\n"))
                current = ""
                lines.extend(body)
    lines.extend(current.split("\n"))
    for control in controls:  # controls whose character was not found in the text
        lines.extend(_render_control(control.payload[:4][::-1].decode("latin-1"), control))
    return lines + notes


def _render_control(kind: str, control: Record) -> list[str]:
    if kind in _SKIPPED_CONTROLS:
        return []
    if kind == "tbl ":
        return _render_table(control)
    return render_paragraphs(control.children)


def _render_table(control: Record) -> list[str]:
    """A table as one line per row; cells in reading order, each cell's paragraphs joined."""
    caption: list[str] = []
    cells: list[tuple[int, int, list[str]]] = []
    seen_table = False
    for record in control.children:
        if record.tag == TAG_TABLE:
            seen_table = True
        elif record.tag == TAG_LIST_HEADER:
            if not seen_table:  # a caption's list comes before the TABLE record
                continue
            col, row = struct.unpack_from("<HH", record.payload, 8) if len(record.payload) >= 12 else (0, 0)
            cells.append((row, col, []))
        elif record.tag == TAG_PARA_HEADER:
            target = cells[-1][2] if cells else caption
            target.extend(_render_paragraph(record))
    return [line for line in caption if line] + table_lines(cells)
