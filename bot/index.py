"""The index on disk: versions behind a pointer that changes in one atomic step; refused when incompatible.

The configured index folder (``index/``, ``Settings.index_dir``) holds complete versions and a
pointer::

    index/CURRENT                  one line: the live version's name
    index/v-<utc time>-<pid>-<rand>/
        manifest.json  index.faiss  chunks.jsonl  documents.jsonl  lexical/  glossary/
    index/.lock                    the writers' lock (flock)

A version holds ``index.faiss`` (exact inner product over normalised passage vectors),
``chunks.jsonl`` (row i = vector i), ``documents.jsonl`` (the stored text citations point into),
``lexical/`` (bm25s arrays and vocabulary), ``glossary/`` and ``manifest.json``. Never pickle.

A write builds the new version in ``.tmp-<name>/``, fsyncs its files and folders, renames it to
``<name>/`` and fsyncs ``index/``; then writes ``CURRENT.tmp-…``, fsyncs it, ``os.replace``s it
onto ``CURRENT`` (the one step that publishes the version) and fsyncs ``index/``. A writer killed
at any point therefore leaves ``CURRENT`` naming either the old complete version or the new one.
Only then are other versions, ``.tmp-`` leftovers and the files of an old-layout index removed;
the same cleaning runs at the start of every write, for what a killed writer left.

Readers resolve ``CURRENT``; a folder without it but with ``manifest.json`` directly inside is an
index written before versions, which still loads and which the next write converts (its files
are removed only once ``CURRENT`` names the new version). A reader that loses the race with a
writer removing the version it was reading starts again on the new one.

Writers hold ``index/.lock`` (``fcntl.flock``, re-entrant within a process) from before they read
until the pointer is replaced and old versions are gone: a read-modify-write (``bot.updates``)
in one process never loses another process's update, and cleaning never removes a folder
another writer is still building. The kernel drops the lock of a killed writer.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .documents import document_from_json, document_to_json
from .errors import IndexIncompatible, IndexNotFound
from .bilingual import Glossary
from .lexical import LexicalIndex
from .records import Chunk, Document

FORMAT_VERSION = 2  # 2: the keyword index holds bigrams
FILES = ("manifest.json", "index.faiss", "chunks.jsonl", "documents.jsonl", "lexical")
CURRENT = "CURRENT"
LOCK = ".lock"
_OLD_LAYOUT = FILES + ("glossary",)  # what an index written before versions keeps in index/
_VERSION_NAME = re.compile(r"v-[0-9A-Za-z_-]+")
_READ_ATTEMPTS = 3


@dataclass
class IndexData:
    """An index in memory: documents by id, chunks by row, the FAISS and BM25 indexes."""

    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    vectors: object  # faiss.Index
    lexical: LexicalIndex
    glossary: Glossary | None = None


def passage_text(chunk: Chunk) -> str:
    """What is embedded and keyword-indexed for a chunk: its document title, then its text.

    The title gives a passage the context its sentences leave implicit (which agreement, which
    event); the stored chunk text and offsets are unchanged.
    """
    title = chunk.meta.get("title") or ""
    return f"{title}\n{chunk.text}" if title and not chunk.text.startswith(title) else chunk.text


def write_index(index_dir: str | Path, documents: list[Document], chunks: list[Chunk],
                vectors: np.ndarray, lexical: LexicalIndex, manifest: dict,
                glossary: Glossary | None = None) -> Path:
    """Write a complete new version into ``index_dir`` and make it the live one; returns ``index_dir``.

    A crash at any point leaves the previous version live (see the module docstring).
    """
    import faiss

    if vectors.shape[0] != len(chunks):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(chunks)} chunks")
    index_dir = Path(index_dir).resolve()
    with writing(index_dir):
        _remove_stale(index_dir)
        name = _version_name()
        staging = index_dir / f".tmp-{name}"
        os.mkdir(staging)
        try:
            flat = faiss.IndexFlatIP(int(vectors.shape[1]))
            if len(chunks):
                flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
            faiss.write_index(flat, str(staging / "index.faiss"))
            _write_jsonl(staging / "chunks.jsonl", (chunk_to_json(c) for c in chunks))
            _write_jsonl(staging / "documents.jsonl", (document_to_json(d) for d in documents))
            lexical.save(staging / "lexical")
            if glossary is not None:
                glossary.save(staging / "glossary")
            manifest = dict(manifest, format_version=FORMAT_VERSION, chunks=len(chunks),
                            documents=len(documents), dimension=int(vectors.shape[1]),
                            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            (staging / "manifest.json").write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
            _fsync_tree(staging)
            os.rename(staging, index_dir / name)
            _fsync_folder(index_dir)
            _point(index_dir, name)
        except BaseException:
            if not _names(index_dir, name):
                shutil.rmtree(staging, ignore_errors=True)
                shutil.rmtree(index_dir / name, ignore_errors=True)
            raise
        _remove_stale(index_dir)
    return index_dir


@contextmanager
def writing(index_dir: str | Path):
    """Hold the writers' lock of ``index_dir`` (created if missing): one writer at a time, across
    threads and processes; re-entrant within a thread, so ``bot.updates`` can hold it from its
    read to ``write_index``'s pointer swap."""
    index_dir = Path(index_dir).resolve()
    if not index_dir.is_dir():
        index_dir.mkdir(parents=True, exist_ok=True)
        _fsync_folder(index_dir.parent)
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(index_dir, _WriterLock())
    with lock.in_process:
        if lock.depth == 0:
            handle = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX)
            except BaseException:
                os.close(handle)
                raise
            lock.handle = handle
        lock.depth += 1
        try:
            yield index_dir
        finally:
            lock.depth -= 1
            if lock.depth == 0:
                os.close(lock.handle)  # releases the flock
                lock.handle = None


class _WriterLock:
    """This process's side of one index's lock: a thread lock and the open, flocked lock file."""

    def __init__(self) -> None:
        self.in_process = threading.RLock()
        self.depth = 0
        self.handle: int | None = None


_LOCKS: dict[Path, _WriterLock] = {}
_LOCKS_GUARD = threading.Lock()


def live_folder(index_dir: str | Path) -> Path:
    """The folder holding the live index's files: the version ``CURRENT`` names, or ``index_dir``
    itself for an index written before versions. ``IndexNotFound`` says how to build one."""
    index_dir = Path(index_dir)
    version = _current(index_dir)
    if version is not None:
        return index_dir / version
    if (index_dir / "manifest.json").is_file():
        return index_dir
    raise IndexNotFound(_not_found(index_dir))


def has_index(index_dir: str | Path) -> bool:
    """Whether ``index_dir`` holds a live index (either layout); says nothing about its compatibility."""
    try:
        return (live_folder(index_dir) / "manifest.json").is_file()
    except (IndexNotFound, IndexIncompatible):
        return False


def read_manifest(index_dir: str | Path) -> dict:
    """The manifest of the live index in ``index_dir``; ``IndexNotFound`` says to run ``make index``."""
    return _read_live(Path(index_dir), _read_manifest_in)


def load_index(index_dir: str | Path, model_fingerprint: str | None = None) -> IndexData:
    """Load the live index of ``index_dir``, refusing one built with another model or format version."""
    index_dir = Path(index_dir)
    return _read_live(index_dir, lambda folder: _load_folder(index_dir, folder, model_fingerprint))


def chunk_to_json(chunk: Chunk) -> dict:
    """A chunk as stored in ``chunks.jsonl`` (its meta is the document's, kept in documents.jsonl)."""
    return {"doc_id": chunk.doc_id, "chunk_id": chunk.chunk_id, "start": chunk.start,
            "end": chunk.end, "text": chunk.text, "meta": dict(chunk.meta)}


def chunk_from_json(record: dict) -> Chunk:
    """Inverse of ``chunk_to_json``."""
    return Chunk(doc_id=record["doc_id"], chunk_id=record["chunk_id"], text=record["text"],
                 start=record["start"], end=record["end"], meta=record.get("meta") or {})


# -- reading ------------------------------------------------------------------------------------

def _read_live(index_dir: Path, read):
    """``read(folder)`` on the live version; again on the new one if a writer swapped the pointer
    and removed the version meanwhile (any error is re-raised when the pointer did not move)."""
    attempt = 1
    while True:
        folder = live_folder(index_dir)
        try:
            return read(folder)
        except Exception:
            if attempt == _READ_ATTEMPTS or live_folder(index_dir) == folder:
                raise
        attempt += 1


def _read_manifest_in(folder: Path) -> dict:
    path = folder / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexNotFound(f"index version {folder} has no manifest.json: rebuild with `make index`") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexIncompatible(f"{path} is unreadable ({exc}): rebuild with `make index`") from None


def _load_folder(index_dir: Path, folder: Path, model_fingerprint: str | None) -> IndexData:
    import faiss

    manifest = _read_manifest_in(folder)
    rebuild = f"rebuild it: `rm -r {index_dir} && make index` (or `bot ingest --index {index_dir}`)"
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexIncompatible(
            f"index at {index_dir} has format {manifest.get('format_version')}, this version "
            f"reads format {FORMAT_VERSION}: {rebuild}")
    if model_fingerprint and manifest.get("model_fingerprint") != model_fingerprint:
        raise IndexIncompatible(
            f"index at {index_dir} was built with another embedding model "
            f"({manifest.get('model')} {manifest.get('model_fingerprint')}): {rebuild}")
    missing = [name for name in FILES if not (folder / name).exists()]
    if missing:
        raise IndexNotFound(f"index at {index_dir} is incomplete (missing {', '.join(missing)}): {rebuild}")
    vectors = faiss.read_index(str(folder / "index.faiss"))
    chunks = [chunk_from_json(r) for r in _read_jsonl(folder / "chunks.jsonl")]
    documents = {d.doc_id: d for d in map(document_from_json, _read_jsonl(folder / "documents.jsonl"))}
    lexical = LexicalIndex.load(folder / "lexical")
    glossary = Glossary.load(folder / "glossary") if (folder / "glossary").is_dir() else None
    if not (vectors.ntotal == len(chunks) == lexical.size):
        raise IndexIncompatible(
            f"index at {index_dir} is inconsistent ({vectors.ntotal} vectors, {len(chunks)} "
            f"chunks, {lexical.size} keyword rows): {rebuild}")
    if vectors.d != manifest.get("dimension"):
        raise IndexIncompatible(f"index at {index_dir}: dimension {vectors.d} != manifest: {rebuild}")
    return IndexData(manifest, documents, chunks, vectors, lexical, glossary)


def _current(index_dir: Path) -> str | None:
    """The version ``CURRENT`` names (checked to be a plain version name inside ``index_dir``), or None."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexIncompatible(f"{pointer} is unreadable ({exc}): rebuild with `make index`") from None
    if not _VERSION_NAME.fullmatch(name):
        raise IndexIncompatible(f"{pointer} does not name an index version ({name[:60]!r}): "
                                f"rebuild with `make index`")
    return name


def _names(index_dir: Path, name: str) -> bool:
    """Whether ``CURRENT`` names ``name`` (False when it is missing or unreadable)."""
    try:
        return _current(index_dir) == name
    except IndexIncompatible:
        return False


def _not_found(index_dir: Path) -> str:
    message = f"no index at {index_dir}: run `make index` (or `bot ingest corpus/ --index {index_dir}`)"
    # Earlier versions swapped by two renames; a crash between them left the index beside the folder.
    for leftover in sorted(_legacy_leftovers(index_dir)):
        if (leftover / "manifest.json").is_file():
            return f"{message}, or put back the complete index an interrupted write left: `mv {leftover} {index_dir}`"
    return message


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# -- writing ------------------------------------------------------------------------------------

def _version_name() -> str:
    now = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 1_000_000_000))
    return f"v-{stamp}{now % 1_000_000_000:09d}Z-{os.getpid()}-{secrets.token_hex(4)}"


def _point(index_dir: Path, name: str) -> None:
    """Make ``name`` the live version: write ``CURRENT.tmp-…``, fsync, replace ``CURRENT``, fsync."""
    pending = index_dir / f"{CURRENT}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        with open(pending, "x", encoding="utf-8") as handle:
            handle.write(name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pending, index_dir / CURRENT)
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    _fsync_folder(index_dir)


def _remove_stale(index_dir: Path) -> None:
    """Remove what no reader can reach: versions other than the live one, ``.tmp-`` folders and
    files, an old-layout index's files once ``CURRENT`` exists, and the leftovers of the two-rename
    swap of earlier versions beside the folder once an index is live. Best effort: what cannot be
    removed now is tried again by the next write. Callers hold the writers' lock."""
    try:
        live = _current(index_dir)
    except IndexIncompatible:
        return  # an unreadable pointer: remove nothing until a write replaces it
    for entry in index_dir.iterdir():
        name = entry.name
        stale = ((name.startswith("v-") and name != live) or name.startswith(".tmp-")
                 or name.startswith(f"{CURRENT}.tmp-") or (live is not None and name in _OLD_LAYOUT))
        if stale:
            _remove(entry)
    if live is not None or (index_dir / "manifest.json").is_file():
        for leftover in _legacy_leftovers(index_dir):
            _remove(leftover)


def _legacy_leftovers(index_dir: Path) -> list[Path]:
    """``.index.tmp-*``/``.index.old-*`` beside ``index/``: what the two-rename swap left on a crash."""
    prefixes = (f".{index_dir.name}.tmp-", f".{index_dir.name}.old-")
    try:
        return [p for p in index_dir.parent.iterdir() if p.name.startswith(prefixes)]
    except OSError:
        return []


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        pass


def _write_jsonl(path: Path, records) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _fsync_tree(folder: Path) -> None:
    """fsync every file under ``folder``, then every folder (deepest first), so the names stick too."""
    folders = [folder]
    for path in sorted(folder.rglob("*")):
        if path.is_dir():
            folders.append(path)
        elif path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    for path in reversed(folders):
        _fsync_folder(path)


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
