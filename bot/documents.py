"""Load and parse: read a corpus folder into ``Document`` records.

IO lives here. Parsing of each format is a pure function of the file's text so it can be tested
in three lines. A file that cannot be read is reported (``Skipped``) and never stops the rest.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import BadDocument
from .records import Document

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl"}
MAX_FILE_BYTES = 50 * 1024 * 1024

_DATE_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}(?:-\d{2})?)\s+(.+?)\s*$")
# "[아시아경제 호남취재본부 박선강 기자]": outlet first, reporter's name before 기자.
_BYLINE = re.compile(r"\[\s*(?P<outlet>[^\]\s]+)(?:\s+[^\]]*?)?\s+(?P<reporter>[가-힣]{2,4})\s*기자\s*\]")


@dataclass(frozen=True)
class Skipped:
    """A corpus file (or one line of it) that was not read, and why."""

    path: str
    reason: str


def supported_suffixes() -> set[str]:
    """Every file suffix the loader reads."""
    return TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES | set(_format_readers())


def load_corpus(corpus_dir: str | Path) -> tuple[list[Document], list[Skipped]]:
    """Read every supported file below ``corpus_dir`` (sorted, recursive).

    Returns the documents and the files (or lines) skipped with their reason. Document ids are
    unique: a later duplicate id is skipped and reported.
    """
    root = Path(corpus_dir)
    if not root.is_dir():
        raise BadDocument(f"corpus folder {root} does not exist")
    documents: list[Document] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    suffixes = supported_suffixes()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if path.suffix.lower() not in suffixes or path.name.upper().startswith(("ATTRIBUTION", "README")):
            continue
        try:
            docs, bad_lines = read_file(path, root)
        except BadDocument as exc:
            skipped.append(Skipped(rel, str(exc)))
            continue
        skipped.extend(bad_lines)
        for doc in docs:
            if doc.doc_id in seen:
                skipped.append(Skipped(rel, f"duplicate document id {doc.doc_id!r}"))
                continue
            seen.add(doc.doc_id)
            documents.append(doc)
    # The same release in two formats (HWP and its PDF) is one source: keep the preferred copy.
    from .dedup import near_duplicates

    dropped = {d.dropped: d for d in near_duplicates(documents)}
    if dropped:
        skipped.extend(Skipped(next(x.path for x in documents if x.doc_id == doc_id) or doc_id,
                               f"same release as {dup.kept} (similarity {dup.similarity}); kept {dup.kept}")
                       for doc_id, dup in dropped.items())
        documents = [d for d in documents if d.doc_id not in dropped]
    return documents, skipped


def read_file(path: str | Path, root: str | Path | None = None) -> tuple[list[Document], list[Skipped]]:
    """Read one file into documents (a ``.jsonl`` gives one per line).

    Raises ``BadDocument`` naming the file when it cannot be read at all.
    """
    path = Path(path)
    rel = path.relative_to(root).as_posix() if root is not None else path.name
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BadDocument(f"{rel}: cannot read ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise BadDocument(f"{rel}: {size} bytes is over the {MAX_FILE_BYTES} byte limit")
    readers = _format_readers()
    if suffix in readers:
        extracted = readers[suffix](path)
        return [_from_extracted(extracted, rel)], []
    raw = path.read_bytes()
    text = decode(raw, rel)
    if suffix in JSONL_SUFFIXES:
        return parse_jsonl(text, rel)
    if suffix in HTML_SUFFIXES:
        return [parse_html(text, rel)], []
    if suffix in TEXT_SUFFIXES:
        return [parse_text(text, rel)], []
    raise BadDocument(f"{rel}: unsupported file type {suffix!r}")


def decode(raw: bytes, name: str) -> str:
    """Bytes to text: UTF-8 (with or without BOM), else CP949 (older Korean files), else error."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return normalise_text(text)
    raise BadDocument(f"{name}: not UTF-8 or CP949 text (binary or broken file)")


def normalise_text(text: str) -> str:
    """Unify newlines and strip control characters; offsets are taken on the result."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return text.strip()


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

        text, title = hancom_html_text(html)
    else:
        from bs4 import BeautifulSoup

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
    title = title or text.split("\n", 1)[0]
    return Document(doc_id=doc_id_from_path(rel), title=title[:300], text=text, path=rel)


def parse_jsonl(text: str, rel: str) -> tuple[list[Document], list[Skipped]]:
    """One document a line: ``id``, ``title``, ``text`` and optional ``date``, ``source``, ``url``."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{rel}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(Skipped(where, f"not JSON ({exc.msg})"))
            continue
        if not isinstance(record, dict):
            skipped.append(Skipped(where, "not a JSON object"))
            continue
        missing = [key for key in ("id", "title", "text") if not str(record.get(key) or "").strip()]
        if missing:
            skipped.append(Skipped(where, f"missing {', '.join(missing)}"))
            continue
        body = normalise_text(str(record["text"]))
        extra = {k: v for k, v in record.items()
                 if k not in {"id", "title", "text", "date", "source", "url"} and isinstance(v, (str, int, float))}
        documents.append(Document(
            doc_id=str(record["id"]).strip(), title=str(record["title"]).strip()[:300], text=body,
            date=_clean(record.get("date")), source=_clean(record.get("source")),
            url=_clean(record.get("url")), path=rel, meta=extra))
    return documents, skipped


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
    value = str(value).strip() if value is not None else ""
    return value or None


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
    title = (extracted.title or text.split("\n", 1)[0]).strip()[:300]
    return Document(doc_id=doc_id_from_path(rel), title=title, text=text,
                    date=meta.pop("date", None), source=meta.pop("issuer", None), path=rel, meta=meta)
