"""Load and parse: read a corpus folder into ``Document`` records.

IO lives here. Parsing of each format is a pure function of the file's text so it can be tested
in three lines. A file that cannot be read is reported (``Skipped``) and never stops the rest:
every file is read under the limits of ``bot.limits``, any error becomes its skip reason, and
only regular files inside the corpus folder are opened (see ``corpus_files``).
"""
from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import stat
from itertools import accumulate
from pathlib import Path

from . import limits
from .corpus_files import Skipped, corpus_files, display_path, printable
from .errors import BadDocument
from .limits import MAX_DOCUMENT_CHARS, MAX_FILE_BYTES
from .records import Document

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
# html.parser builds a Python tree at ~1.2 s and ~100 MB per million characters (measured), so
# a generic page is read up to 5 million characters: ten times a long release's web page.
MAX_HTML_CHARS = 5_000_000
# JSON lines hold flat records; a deeper line is refused before json.loads recurses into it.
MAX_JSON_DEPTH = 32

_DATE_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}(?:-\d{2})?)\s+(.+?)\s*$")
# "[아시아경제 호남취재본부 박선강 기자]": outlet first, reporter's name before 기자.
_BYLINE = re.compile(r"\[\s*(?P<outlet>[^\]\s]+)(?:\s+[^\]]*?)?\s+(?P<reporter>[가-힣]{2,4})\s*기자\s*\]")


_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# ISO-2022 designations of a double-byte set (KR, JP, CN): pure 7-bit text that UTF-8 would
# "decode" into mojibake.
_ISO2022_DESIGNATION = re.compile(rb"\x1b\$(?:[@AB]|\([A-Q]|\)[ACG]|\*H|\+[I-M])")
_ISO2022_CN = re.compile(rb"\x1b\$(?:\)[AG]|\*H|\+[I-M])")
# A JSON string (possessive, so an unclosed one ends the line instead of backtracking) or a
# bracket: one linear pass, however hostile the line.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\Z)|[\[\]{}]')
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def supported_suffixes() -> set[str]:
    """Every file suffix the loader reads."""
    return TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES | set(_format_readers())


def load_corpus(corpus_dir: str | Path) -> tuple[list[Document], list[Skipped]]:
    """Read every supported file below ``corpus_dir`` (sorted, recursive).

    Returns the documents and the files (or lines) skipped with their reason. Document ids are
    unique: a later duplicate id is skipped and reported. A file whose text repeats another
    file's (same format) or another format's copy of the same release is skipped too.
    """
    root = Path(corpus_dir)
    if not root.is_dir():
        raise BadDocument(f"corpus folder {root} does not exist")
    root = root.resolve()
    documents: list[Document] = []
    seen: set[str] = set()
    files, skipped = corpus_files(root, supported_suffixes())
    for path, rel in files:
        try:
            docs, bad_lines = read_file(path, root)
        except BadDocument as exc:
            skipped.append(Skipped(rel, _without_name(printable(str(exc)), rel)))
            continue
        skipped.extend(bad_lines)
        for doc in docs:
            if doc.doc_id in seen:
                skipped.append(Skipped(rel, f"duplicate document id {doc.doc_id!r}"))
                continue
            seen.add(doc.doc_id)
            documents.append(doc)
    from .dedup import exact_duplicates, near_duplicates

    by_id = {doc.doc_id: doc for doc in documents}
    dropped: set[str] = set()
    for duplicate in exact_duplicates(documents):
        skipped.append(Skipped(_where(by_id[duplicate.dropped]), f"same text as {_where(by_id[duplicate.kept])}"))
        dropped.add(duplicate.dropped)
    documents = [d for d in documents if d.doc_id not in dropped]
    # The same release in two formats (HWP and its PDF) is one source: keep the preferred copy.
    for dup in near_duplicates(documents):
        skipped.append(Skipped(by_id[dup.dropped].path or dup.dropped,
                               f"same release as {dup.kept} (similarity {dup.similarity}); kept {dup.kept}"))
        dropped.add(dup.dropped)
    return [d for d in documents if d.doc_id not in dropped], skipped


def _without_name(reason: str, rel: str) -> str:
    """A reader's message without its leading "name: " (the report already names the file)."""
    for name in (rel, rel.rsplit("/", 1)[-1]):
        if reason.startswith(name + ": "):
            return reason[len(name) + 2:]
    return reason


def _where(doc: Document) -> str:
    """A document's place for a report: its file, and its id when the file holds several."""
    path = doc.path or doc.doc_id
    return path if doc_id_from_path(path) == doc.doc_id else f"{path} ({doc.doc_id})"


def read_file(path: str | Path, root: str | Path | None = None) -> tuple[list[Document], list[Skipped]]:
    """Read one file into documents (a ``.jsonl`` gives one per line), within the limits of
    ``bot.limits`` (size, characters, time).

    Raises ``BadDocument`` naming the file when it cannot be read at all, whatever went wrong
    inside a reader (a damaged container, a recursion, memory).
    """
    path = Path(path)
    rel = display_path(path, Path(root)) if root is not None else printable(path.name)
    with limits.reading(rel):
        try:
            return _read(path, rel)
        except BadDocument:
            raise
        except RecursionError:
            raise BadDocument(f"{rel}: nested too deeply to read") from None
        except MemoryError:
            raise BadDocument(f"{rel}: ran out of memory reading it") from None
        except Exception as exc:  # a reader's library failing on a damaged file
            message = printable(str(exc))[:200] or "no message"
            raise BadDocument(f"{rel}: cannot be read ({type(exc).__name__}: {message})") from exc


def _read(path: Path, rel: str) -> tuple[list[Document], list[Skipped]]:
    suffix = path.suffix.lower()
    try:
        status = path.stat()
    except OSError as exc:
        raise BadDocument(f"{rel}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise BadDocument(f"{rel}: not a regular file")
    if status.st_size > MAX_FILE_BYTES:
        raise BadDocument(f"{rel}: {status.st_size:,} bytes is over the {MAX_FILE_BYTES:,} byte limit")
    readers = _format_readers()
    if suffix in readers:
        extracted = readers[suffix](path)
        # Pages of a file read otherwise that could not be (a scan that OCR could not read).
        pages = [Skipped(rel, reason) for reason in extracted.meta.get("pages_not_read", ())]
        return [_from_extracted(extracted, rel)], pages
    text = decode(_read_bytes(path, rel), rel)
    limits.charge()
    if suffix in JSONL_SUFFIXES:
        documents, bad_lines = parse_jsonl(text, rel)
        if not documents and not bad_lines:
            raise BadDocument(f"{rel}: empty file")
        return documents, bad_lines
    if suffix in HTML_SUFFIXES:
        return [parse_html(text, rel)], []
    if suffix in TEXT_SUFFIXES:
        return [parse_text(text, rel)], []
    raise BadDocument(f"{rel}: unsupported file type {suffix!r}")


def _read_bytes(path: Path, rel: str) -> bytes:
    """The file's bytes, opened without blocking and checked to be a regular file once open
    (a FIFO swapped in after the folder was listed is refused, not waited on)."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise BadDocument(f"{rel}: not a regular file")
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise BadDocument(f"{rel}: over the {MAX_FILE_BYTES:,} byte limit")
    return raw


def decode(raw: bytes, name: str) -> str:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16/32 with a BOM, 7-bit ISO-2022 text
    (recognised by its escape sequences, e.g. ISO-2022-KR), else CP949 (older Korean files),
    else error. Text that would decode only as mojibake is refused, never guessed."""
    encodings = ["utf-8-sig", "cp949"]
    bom = next((encoding for mark, encoding in _BOMS if raw.startswith(mark)), None)
    if bom:
        encodings = [bom]
    elif raw.isascii() and _ISO2022_DESIGNATION.search(raw):
        encodings = ["iso2022_kr"] if b"\x1b$)C" in raw else ["iso2022_jp_2"]
        if _ISO2022_CN.search(raw):  # Python has no ISO-2022-CN codec
            raise BadDocument(f"{name}: ISO-2022-CN text, an encoding this reader does not decode")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text or (encoding.startswith("iso2022") and "\x1b" in text):
            break
        return normalise_text(text)
    if len(encodings) == 1:
        raise BadDocument(f"{name}: marked as {encodings[0]} text but does not decode as it")
    raise BadDocument(f"{name}: not UTF-8 or CP949 text (binary or broken file)")


def normalise_text(text: str) -> str:
    """Unify newlines and strip control characters (and lone surrogates, which a JSON escape
    can produce and UTF-8 cannot store); offsets are taken on the result."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text).strip()


def doc_id_from_path(rel: str) -> str:
    """A stable id from the corpus-relative path: ``press/2024-01.txt`` -> ``press/2024-01``.

    Office formats keep their suffix (``release.hwp``, ``release.pdf``) so that two copies of one
    release never collide before duplicate detection decides which to keep.
    """
    name = rel.rsplit("/", 1)[-1]
    if "." not in name:
        return rel
    stem, suffix = rel.rsplit(".", 1)
    return stem if "." + suffix.lower() in TEXT_SUFFIXES | HTML_SUFFIXES else rel


def content_hash(text: str) -> str:
    """Fingerprint of a document's text: unchanged text skips re-embedding."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def parse_text(text: str, rel: str) -> Document:
    """A ``.txt``/``.md`` press article.

    A first line ``date YYYY-MM headline`` gives date and title (and the ``date ...`` prefix is
    dropped from the stored text); otherwise the first line is the title. A
    ``[outlet ... 기자]`` byline gives outlet and reporter.
    """
    text = normalise_text(text)
    if not text:
        raise BadDocument(f"{rel}: empty file")
    _check_length(text, rel)
    first, _, rest = text.partition("\n")
    date = None
    header = _DATE_HEADER.match(first)
    if header:
        date, title = header.group(1), header.group(2)
        text = (title + "\n" + rest).strip()
    else:
        title = first.lstrip("# ").strip()
    meta: dict = {}
    source = None
    byline = _BYLINE.search(text[:2000])
    if byline:
        source = byline.group("outlet")
        meta["reporter"] = byline.group("reporter")
    return Document(doc_id=doc_id_from_path(rel), title=title[:300], text=text, date=date,
                    source=source, path=rel, meta=meta)


def parse_html(html: str, rel: str) -> Document:
    """An ``.html`` page through a real HTML parser; title from ``<title>`` or the first ``<h1>``.

    Hancom's "save as HTML" export (one span per line fragment) is read as whole words.
    """
    if _is_hancom_html(html):
        from .formats.html import hancom_html_text

        if len(html) > limits.MAX_MARKUP_BYTES:
            raise BadDocument(f"{rel}: {len(html):,} characters of HTML, over the "
                              f"{limits.MAX_MARKUP_BYTES:,} limit")
        text, title = hancom_html_text(html)
    else:
        from bs4 import BeautifulSoup

        if len(html) > MAX_HTML_CHARS:
            raise BadDocument(f"{rel}: {len(html):,} characters of HTML, over the {MAX_HTML_CHARS:,} limit")
        soup = BeautifulSoup(html, "html.parser")
        for tag in soup(["script", "style", "noscript", "template"]):
            tag.decompose()
        title = soup.title.get_text(" ", strip=True) if soup.title else None
        h1 = soup.find("h1")
        if not title and h1:
            title = h1.get_text(" ", strip=True)
        if soup.title:
            soup.title.decompose()
        body = soup.body or soup
        text = body.get_text("\n")
    text = "\n".join(re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", normalise_text(text))
    if not text:
        raise BadDocument(f"{rel}: no text in the HTML")
    _check_length(text, rel)
    title = title or text.split("\n", 1)[0]
    return Document(doc_id=doc_id_from_path(rel), title=title[:300], text=text, path=rel)


def parse_jsonl(text: str, rel: str) -> tuple[list[Document], list[Skipped]]:
    """One document a line: ``id``, ``title``, ``text`` and optional ``date``, ``source``, ``url``.

    A line nested deeper than ``MAX_JSON_DEPTH``, with a non-scalar field or a text over
    ``MAX_DOCUMENT_CHARS`` is skipped and reported like a line that is not JSON.
    """
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        limits.charge()
        where = f"{rel}:{number}"
        depth = json_depth(line)
        if depth > MAX_JSON_DEPTH:
            skipped.append(Skipped(where, f"JSON nested {depth} levels deep (the limit is {MAX_JSON_DEPTH})"))
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            skipped.append(Skipped(where, f"not JSON ({getattr(exc, 'msg', 'nested too deeply')})"))
            continue
        if not isinstance(record, dict):
            skipped.append(Skipped(where, "not a JSON object"))
            continue
        fields = [key for key in ("id", "title", "text")
                  if not isinstance(record.get(key), (str, int, float, type(None)))]
        if fields:
            skipped.append(Skipped(where, f"{', '.join(fields)}: not a string or a number"))
            continue
        missing = [key for key in ("id", "title", "text") if not _clean(record.get(key))]
        if missing:
            skipped.append(Skipped(where, f"missing {', '.join(missing)}"))
            continue
        body = normalise_text(str(record["text"]))
        if len(body) > MAX_DOCUMENT_CHARS:
            skipped.append(Skipped(where, f"{len(body):,} characters of text, over the "
                                          f"{MAX_DOCUMENT_CHARS:,} limit for one document"))
            continue
        extra = {_clean(k): _clean(v) if isinstance(v, str) else v for k, v in record.items()
                 if k not in {"id", "title", "text", "date", "source", "url"}
                 and isinstance(v, (str, int, float)) and _clean(k)}
        documents.append(Document(
            doc_id=_clean(record["id"]), title=_clean(record["title"])[:300], text=body,
            date=_clean(record.get("date")), source=_clean(record.get("source")),
            url=_clean(record.get("url")), path=rel, meta=extra))
    return documents, skipped


def json_depth(line: str) -> int:
    """How deeply a JSON text nests arrays and objects, counted without parsing it (brackets
    inside strings do not count), so a hostile line never reaches the recursive parser."""
    if line.count("[") + line.count("{") <= MAX_JSON_DEPTH:
        return 0
    brackets = (token for token in _JSON_TOKEN.findall(line) if token in ("[", "]", "{", "}"))
    return max(accumulate(1 if bracket in "[{" else -1 for bracket in brackets), default=0)


def document_to_json(doc: Document) -> dict:
    """The JSON form stored in the index (``documents.jsonl``)."""
    return {"doc_id": doc.doc_id, "title": doc.title, "date": doc.date, "source": doc.source,
            "url": doc.url, "path": doc.path, "meta": dict(doc.meta), "text": doc.text}


def document_from_json(record: dict) -> Document:
    """Inverse of ``document_to_json``."""
    return Document(doc_id=record["doc_id"], title=record["title"], text=record["text"],
                    date=record.get("date"), source=record.get("source"), url=record.get("url"),
                    path=record.get("path"), meta=record.get("meta") or {})


def _clean(value) -> str | None:
    """A field's value as text without control characters or lone surrogates, or None."""
    value = _CONTROLS.sub("", str(value)).strip() if value is not None else ""
    return value or None


def _check_length(text: str, rel: str) -> None:
    if len(text) > MAX_DOCUMENT_CHARS:
        raise BadDocument(f"{rel}: {len(text):,} characters of text, over the "
                          f"{MAX_DOCUMENT_CHARS:,} limit for one document")


def _is_hancom_html(html: str) -> bool:
    head = html[:5000].lower()
    return "hancom" in head or "hwp" in head and "position:absolute" in html[:20000].replace(" ", "").lower()


def _format_readers() -> dict:
    try:
        from .formats import READERS
    except ImportError:
        return {}
    return READERS


def _from_extracted(extracted, rel: str) -> Document:
    meta = dict(extracted.meta)
    text = normalise_text(extracted.text)
    if not text:
        raise BadDocument(f"{rel}: no text could be extracted")
    _check_length(text, rel)
    title = (extracted.title or text.split("\n", 1)[0]).strip()[:300]
    meta.pop("pages_not_read", None)  # reported as skipped pages, not kept on the document
    return Document(doc_id=doc_id_from_path(rel), title=title, text=text,
                    date=meta.pop("date", None), source=meta.pop("issuer", None), path=rel, meta=meta)
