"""The index on disk: versions behind a pointer that changes in one atomic step; refused when incompatible.

The configured index folder (``index/``, ``Settings.index_dir``) holds complete versions and a
pointer::

    index/CURRENT                  one line: the live version's name
    index/v-<utc time>-<pid>-<rand>/
        manifest.json  records.sqlite  vectors.f32  lexical-g<G>/  [dense-g<G>.faiss]  glossary/
    index/.lock                    the writers' lock (flock)

A version (format 3) holds ``records.sqlite`` (``bot.store``: the chunk and document records,
each chunk's keyword tokens, and the committed state: row count, generation, manifest),
``vectors.f32`` (row i = chunk i, float32, appended to), the keyword index of generation G
(``lexical-g<G>/``, bm25s arrays), for a large index its dense index (``bot.dense``), the English
glossary and ``manifest.json`` (as first written). Never pickle. Format 2 versions (the whole
index in ``chunks.jsonl``/``documents.jsonl``/``index.faiss``/``lexical/``) still load; the next
write converts them.

A full write builds the new version in ``.tmp-<name>/``, fsyncs its files and folders, renames it
to ``<name>/`` and fsyncs ``index/``; then writes ``CURRENT.tmp-…``, fsyncs it, ``os.replace``s it
onto ``CURRENT`` (the one step that publishes the version) and fsyncs ``index/``. A writer killed
at any point therefore leaves ``CURRENT`` naming either the old complete version or the new one.
Only then are other versions, ``.tmp-`` leftovers and the files of an old-layout index removed;
the same cleaning runs at the start of every write, for what a killed writer left.

An incremental update (``append``) changes the live version in place: it cuts ``vectors.f32``
back to the committed rows (what a killed writer appended is dropped), appends the new vectors and
fsyncs, then adds and removes records in one SQLite transaction, whose commit is the step that
publishes the update. The keyword index (and a stored dense index) of the new generation are
written after it, each into a ``.tmp-`` name renamed into place; a loader that finds them behind
the committed generation brings them up to date from the stored tokens and vectors.

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

import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from . import dense, store
from . import disk
from .disk import LOCK, fsync_folder, fsync_tree, publish, writing  # noqa: F401  (LOCK: re-exported)
from .documents import document_from_json
from .errors import IndexIncompatible, IndexNotFound
from .bilingual import Glossary
from .lexical import LexicalIndex, tokens_many
from .records import Chunk, Document
from .romanized import NamePrefixes

FORMAT_VERSION = 3  # 2: the keyword index holds bigrams; 3: records in SQLite, vectors appended
READABLE_FORMATS = (2, 3)
FILES = ("manifest.json", "index.faiss", "chunks.jsonl", "documents.jsonl", "lexical")  # format 2
FILES_3 = ("manifest.json", store.RECORDS, "vectors.f32")
VECTORS = "vectors.f32"
CURRENT = "CURRENT"
# What an index written before versions keeps in index/ (and its keyword and dense generations).
_OLD_LAYOUT = FILES + FILES_3 + ("glossary", f"{store.RECORDS}-wal", f"{store.RECORDS}-shm")
_VERSION_NAME = re.compile(r"v-[0-9A-Za-z_-]+")
_READ_ATTEMPTS = 3


@dataclass
class IndexData:
    """An index in memory: documents by id, chunks by row, the FAISS and BM25 indexes."""

    manifest: dict
    documents: Mapping[str, Document]  # the live documents (read from SQLite when asked for)
    chunks: Sequence[Chunk]  # every row by row number; ``live`` says which still count
    vectors: object  # faiss.Index
    lexical: LexicalIndex
    glossary: Glossary | None = None
    matrix: np.ndarray | None = None  # the passage vectors, row i = chunk i (memory-mapped)
    live: np.ndarray | None = None  # bool per row; None: every row is live
    snapshot: store.Snapshot | None = None

    @property
    def live_count(self) -> int:
        """How many passages the index holds (rows less removed ones)."""
        return len(self.chunks) if self.live is None else int(self.live.sum())

    def live_chunks(self) -> list[Chunk]:
        """The chunks the index holds, in row order."""
        if self.live is not None:
            return [c for c in self.chunks if self.live[c.chunk_id]]
        return list(self.chunks)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """The live chunks of one document, in row order."""
        if self.snapshot is not None:
            return self.snapshot.chunks_of(doc_id)
        return [c for c in self.chunks if c.doc_id == doc_id]

    def name_prefixes(self) -> NamePrefixes:
        """The Hangul word prefixes romanised names are read against: stored with a format-3
        index's records, else (an older index) computed from its documents."""
        stored = self.snapshot.name_prefixes() if self.snapshot is not None else None
        if stored is not None:
            return NamePrefixes(prefixes=stored)
        return NamePrefixes(d.text for d in self.documents.values())

    def vector_matrix(self) -> np.ndarray:
        """Every row's vector (row i = chunk i)."""
        if self.matrix is not None:
            return self.matrix
        total = int(self.vectors.ntotal)
        if total == 0:
            return np.zeros((0, int(self.vectors.d)), dtype=np.float32)
        return np.asarray(self.vectors.reconstruct_n(0, total), dtype=np.float32)


def passage_text(chunk: Chunk) -> str:
    """What is embedded and keyword-indexed for a chunk: its document title, then its text.

    The title gives a passage the context its sentences leave implicit (which agreement, which
    event); the stored chunk text and offsets are unchanged.
    """
    title = chunk.meta.get("title") or ""
    return f"{title}\n{chunk.text}" if title and not chunk.text.startswith(title) else chunk.text


def write_index(index_dir: str | Path, documents: list[Document], chunks: list[Chunk],
                vectors: np.ndarray, lexical: LexicalIndex, manifest: dict,
                glossary: Glossary | None = None, exact_up_to: int = dense.EXACT_UP_TO) -> Path:
    """Write a complete new version into ``index_dir`` and make it the live one; returns ``index_dir``.

    ``chunks`` must be numbered 0, 1, ... (row i = vector i = keyword row i). A crash at any point
    leaves the previous version live (see the module docstring).
    """
    if vectors.shape[0] != len(chunks):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(chunks)} chunks")
    tokens = lexical.tokens if lexical.tokens is not None else tokens_many([passage_text(c) for c in chunks])
    index_dir = Path(index_dir).resolve()
    with writing(index_dir):
        _remove_stale(index_dir)
        name = _version_name()
        staging = index_dir / f".tmp-{name}"
        os.mkdir(staging)
        try:
            matrix = np.ascontiguousarray(vectors, dtype=np.float32)
            _write_vectors(staging / VECTORS, matrix)
            spec = dense.plan(len(chunks), exact_up_to)
            if dense.stored(spec):
                import faiss

                faiss.write_index(dense.build(matrix, spec), str(staging / dense.file_name(0)))
            lexical.save(staging / _lexical_name(0))
            if glossary is not None:
                glossary.save(staging / "glossary")
            manifest = dict(manifest, format_version=FORMAT_VERSION, chunks=len(chunks),
                            documents=len(documents), dimension=int(vectors.shape[1]), dense_index=spec,
                            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            store.create(staging / store.RECORDS, list(documents), list(chunks), tokens, manifest)
            (staging / "manifest.json").write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
            fsync_tree(staging)
            os.rename(staging, index_dir / name)
            fsync_folder(index_dir)
            _point(index_dir, name)
        except BaseException:
            if not _names(index_dir, name):
                shutil.rmtree(staging, ignore_errors=True)
                shutil.rmtree(index_dir / name, ignore_errors=True)
            raise
        _remove_stale(index_dir)
    return index_dir


def append(index_dir: str | Path, data: "IndexData", documents: list[Document], chunks: list[Chunk],
           vectors: np.ndarray, tokens: list[list[str]], remove: set[str], manifest: dict) -> None:
    """Update the live version in place (see the module docstring): ``chunks`` continue the rows of
    ``data`` (the live version, loaded under the writers' lock, which the caller holds)."""
    import faiss

    _remove_stale(Path(index_dir).resolve())  # what crashed writers left beside the live version
    folder = live_folder(index_dir)
    snapshot = data.snapshot
    if snapshot is None or snapshot.path.parent != folder:
        raise ValueError("append needs the live format-3 version, loaded under the writers' lock")
    dimension = int(data.manifest["dimension"])
    vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dimension)
    with open(folder / VECTORS, "r+b") as handle:
        handle.truncate(snapshot.rows * dimension * 4)  # what a killed writer appended
        handle.seek(0, os.SEEK_END)
        handle.write(vectors.tobytes())
        handle.flush()
        os.fsync(handle.fileno())
    rows, generation = store.append(folder / store.RECORDS, documents, chunks, tokens, remove, manifest)
    # Committed. What follows only saves a loader the work of catching up.
    fresh = load_index(index_dir)
    publish(folder, _lexical_name(generation), fresh.lexical.save)
    spec = fresh.manifest.get("dense_index") or {"type": "flat"}
    if dense.stored(spec):
        publish(folder, dense.file_name(generation), lambda path: faiss.write_index(fresh.vectors, str(path)))
    fresh.snapshot.close()
    for entry in folder.iterdir():
        match = _GENERATION.fullmatch(entry.name)
        if (match and int(match.group(2)) < generation) or entry.name.startswith(".tmp-"):
            disk.remove(entry)


def _lexical_name(generation: int) -> str:
    return f"lexical-g{generation}"


_GENERATION = re.compile(r"(lexical|dense)-g(\d+)(\.faiss)?")


def _write_vectors(path: Path, matrix: np.ndarray) -> None:
    with open(path, "wb") as handle:
        handle.write(matrix.tobytes())


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


def chunk_from_json(record: dict) -> Chunk:
    """A chunk as format 2 stored it in ``chunks.jsonl``."""
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
    """The version's manifest: ``manifest.json`` as written; for format 3, the committed one in
    the records (an update changes counts and the corpus fingerprint)."""
    path = folder / "manifest.json"
    try:
        written = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexNotFound(f"index version {folder} has no manifest.json: rebuild with `make index`") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexIncompatible(f"{path} is unreadable ({exc}): rebuild with `make index`") from None
    records = folder / store.RECORDS
    if written.get("format_version") != 3 or not records.is_file():
        return written
    try:
        return store.read_state(records)[2]
    except Exception as exc:
        raise IndexIncompatible(f"{records} is unreadable ({exc}): rebuild with `make index`") from None


def _load_folder(index_dir: Path, folder: Path, model_fingerprint: str | None) -> IndexData:
    manifest = _read_manifest_in(folder)
    rebuild = f"rebuild it: `rm -r {index_dir} && make index` (or `bot ingest --index {index_dir}`)"
    if manifest.get("format_version") not in READABLE_FORMATS:
        raise IndexIncompatible(
            f"index at {index_dir} has format {manifest.get('format_version')}, this version "
            f"reads format {FORMAT_VERSION}: {rebuild}")
    if model_fingerprint and manifest.get("model_fingerprint") != model_fingerprint:
        raise IndexIncompatible(
            f"index at {index_dir} was built with another embedding model "
            f"({manifest.get('model')} {manifest.get('model_fingerprint')}): {rebuild}")
    if manifest["format_version"] == 2:
        return _load_format_2(index_dir, folder, manifest, rebuild)
    missing = [name for name in FILES_3 if not (folder / name).exists()]
    if missing:
        raise IndexNotFound(f"index at {index_dir} is incomplete (missing {', '.join(missing)}): {rebuild}")
    snapshot = store.Snapshot(folder / store.RECORDS)
    try:
        dimension = int(manifest["dimension"])
        if (folder / VECTORS).stat().st_size < snapshot.rows * dimension * 4:
            raise IndexIncompatible(f"index at {index_dir}: {VECTORS} is shorter than its {snapshot.rows} rows: {rebuild}")
        matrix = (np.memmap(folder / VECTORS, dtype=np.float32, mode="r", shape=(snapshot.rows, dimension))
                  if snapshot.rows else np.zeros((0, dimension), dtype=np.float32))
        spec = manifest.get("dense_index") or {"type": "flat"}
        vectors = dense.load(folder, spec, matrix, snapshot.generation)
        lexical_folder = folder / _lexical_name(snapshot.generation)
        if lexical_folder.is_dir():
            lexical = LexicalIndex.load(lexical_folder, mmap=snapshot.rows > dense.EXACT_UP_TO)
        else:  # a writer was killed after its commit: catch up from the stored tokens
            lexical = LexicalIndex.from_tokens(snapshot.iter_tokens(), snapshot.live, keep=False)
        lexical.tokens = None
        glossary = Glossary.load(folder / "glossary") if (folder / "glossary").is_dir() else None
    except BaseException:
        snapshot.close()
        raise
    if not (vectors.ntotal == snapshot.rows == lexical.size):
        raise IndexIncompatible(
            f"index at {index_dir} is inconsistent ({vectors.ntotal} vectors, {snapshot.rows} "
            f"chunks, {lexical.size} keyword rows): {rebuild}")
    live = None if snapshot.live.all() else snapshot.live
    return IndexData(manifest, store.Documents(snapshot), store.ChunkRows(snapshot), vectors, lexical,
                     glossary, matrix, live, snapshot)


def _load_format_2(index_dir: Path, folder: Path, manifest: dict, rebuild: str) -> IndexData:
    import faiss

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
    fsync_folder(index_dir)


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
                 or name.startswith(f"{CURRENT}.tmp-") or (live is not None and (name in _OLD_LAYOUT or _GENERATION.fullmatch(name))))
        if stale:
            disk.remove(entry)
    if live is not None or (index_dir / "manifest.json").is_file():
        for leftover in _legacy_leftovers(index_dir):
            disk.remove(leftover)


def _legacy_leftovers(index_dir: Path) -> list[Path]:
    """``.index.tmp-*``/``.index.old-*`` beside ``index/``: what the two-rename swap left on a crash."""
    prefixes = (f".{index_dir.name}.tmp-", f".{index_dir.name}.old-")
    try:
        return [p for p in index_dir.parent.iterdir() if p.name.startswith(prefixes)]
    except OSError:
        return []


