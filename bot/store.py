"""Chunk and document records in SQLite (``records.sqlite``, WAL mode): a row is read when needed.

One index version holds one database. Rows are never rewritten: an incremental update appends
chunk rows (row i = vector i of ``vectors.f32``) and documents, and marks what it removes as no
longer live, in one transaction that also advances the committed state (row count, generation,
manifest). A ``Snapshot`` fixes what a loaded index sees at load: the committed row count, which
rows are live and which document row each live id names; rows being immutable, a reader keeps
a consistent view while a writer commits beside it, until it reloads.

Tokens: each chunk row keeps its keyword-index tokens (the Kiwi morphemes and bigrams that
``bot.lexical`` made), so the keyword index is rebuilt after an update without Kiwi.

Name prefixes: the beginnings of every Hangul word of every document added (``bot.romanized``
reads English spellings of Korean names against them), stored as documents are inserted so that
loading does not read every document. A removed document's prefixes stay: the set only decides
which readings of a romanised name are worth searching for. A database written before the table
existed has none, and its loader computes them from the documents.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .documents import content_hash, document_from_json, document_to_json
from .records import Chunk, Document
from .romanized import hangul_words, word_prefixes

RECORDS = "records.sqlite"
TOKEN_SEPARATOR = "\x1f"  # Kiwi keeps some compounds as one token with a space: not a separator
_CACHE_ROWS = 4096

_SCHEMA = """
CREATE TABLE documents (doc_row INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, record TEXT NOT NULL,
                        content_hash TEXT NOT NULL, live INTEGER NOT NULL DEFAULT 1);
CREATE INDEX documents_live_id ON documents (doc_id) WHERE live = 1;
CREATE TABLE chunks (row INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, start_at INTEGER NOT NULL,
                     end_at INTEGER NOT NULL, text TEXT NOT NULL, meta TEXT NOT NULL,
                     date TEXT, source TEXT, tokens TEXT NOT NULL, live INTEGER NOT NULL DEFAULT 1);
CREATE INDEX chunks_doc ON chunks (doc_id);
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE name_prefixes (prefix TEXT PRIMARY KEY) WITHOUT ROWID;
"""


def create(path: str | Path, documents, chunks, tokens, manifest: dict) -> int:
    """Write a new database at ``path`` (which must not exist) holding every row, generation 0.

    ``documents`` and ``chunks`` may be iterators (a scaled index streams them); ``tokens[i]`` are
    chunk i's keyword tokens. Returns the number of documents written.
    """
    connection = _connect(path)
    try:
        connection.executescript(_SCHEMA)
        with connection:
            written = _insert_documents(connection, documents)
            rows = _insert_chunks(connection, chunks, tokens, first_row=0)
            if rows != len(tokens):
                raise ValueError(f"{len(tokens)} token lists for {rows} chunks")
            _set_state(connection, rows=rows, generation=0, manifest=manifest)
        return written
    finally:
        connection.close()


def append(path: str | Path, documents: list[Document], chunks: list[Chunk],
           tokens: list[list[str]], remove: set[str], manifest: dict) -> tuple[int, int]:
    """In one transaction: mark the documents ``remove`` names (and the ids of ``documents``,
    which replace them) and their chunks not live, add ``documents`` and ``chunks`` (their
    ``chunk_id`` must continue the committed rows) and advance the state. Returns the new
    (rows, generation)."""
    connection = _connect(path)
    try:
        with connection:
            connection.execute("BEGIN IMMEDIATE")
            rows, generation, _ = _state(connection)
            if chunks and chunks[0].chunk_id != rows:
                raise ValueError(f"new chunks start at row {chunks[0].chunk_id}, the index has {rows}")
            gone = sorted(remove | {d.doc_id for d in documents})
            for start in range(0, len(gone), 500):
                part = gone[start:start + 500]
                marks = ",".join("?" * len(part))
                connection.execute(f"UPDATE documents SET live = 0 WHERE live = 1 AND doc_id IN ({marks})", part)
                connection.execute(f"UPDATE chunks SET live = 0 WHERE live = 1 AND doc_id IN ({marks})", part)
            _insert_documents(connection, documents)
            _insert_chunks(connection, chunks, tokens, first_row=rows)
            rows, generation = rows + len(chunks), generation + 1
            _set_state(connection, rows=rows, generation=generation, manifest=manifest)
        return rows, generation
    finally:
        connection.close()


def read_state(path: str | Path) -> tuple[int, int, dict]:
    """The committed (rows, generation, manifest) of a database."""
    connection = _connect(path, readonly=True)
    try:
        return _state(connection)
    finally:
        connection.close()


class Snapshot:
    """The records of one index as committed when it was opened; thread-safe, read-only."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._connection = _connect(self.path, readonly=True)
        self._lock = threading.Lock()
        with self._lock:
            self._connection.execute("BEGIN")  # one read transaction: every read below sees one state
            self.rows, self.generation, self.manifest = _state(self._connection)
            live = np.zeros(self.rows, dtype=bool)
            dead = [r for (r,) in self._connection.execute(
                "SELECT row FROM chunks WHERE live = 0 AND row < ?", (self.rows,))]
            live[:] = True
            if dead:
                live[np.asarray(dead, dtype=np.int64)] = False
            self.live = live
            self._doc_rows = dict(self._connection.execute(
                "SELECT doc_id, doc_row FROM documents WHERE live = 1"))
            self._connection.execute("COMMIT")
        self._chunk_cache: dict[int, Chunk] = {}
        self._document_cache: dict[str, Document] = {}
        self._filter_keys: tuple[np.ndarray, list[tuple[str, str]]] | None = None

    def close(self) -> None:
        self._connection.close()

    # -- chunks ---------------------------------------------------------------------------------

    def chunk(self, row: int) -> Chunk:
        if not 0 <= row < self.rows:
            raise IndexError(f"row {row} of {self.rows}")
        cached = self._chunk_cache.get(row)
        if cached is not None:
            return cached
        with self._lock:
            found = self._connection.execute(
                "SELECT row, doc_id, start_at, end_at, text, meta FROM chunks WHERE row = ?", (row,)).fetchone()
        chunk = _chunk(found)
        if len(self._chunk_cache) >= _CACHE_ROWS:
            self._chunk_cache.clear()
        self._chunk_cache[row] = chunk
        return chunk

    def chunks_at(self, rows) -> list[Chunk]:
        """The chunks of the given rows, in that order (one query for those not cached)."""
        rows = [int(r) for r in rows]
        wanted = sorted({r for r in rows if r not in self._chunk_cache})
        if any(not 0 <= r < self.rows for r in wanted):
            raise IndexError(f"a row outside 0..{self.rows - 1}")
        found: dict[int, Chunk] = {}
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            with self._lock:
                records = self._connection.execute(
                    "SELECT row, doc_id, start_at, end_at, text, meta FROM chunks WHERE row IN "
                    f"({','.join('?' * len(part))})", part).fetchall()
            found.update((r[0], _chunk(r)) for r in records)
        if len(self._chunk_cache) + len(found) > _CACHE_ROWS:
            self._chunk_cache.clear()
        self._chunk_cache.update(found)
        return [found.get(r) or self._chunk_cache.get(r) or self.chunk(r) for r in rows]

    def chunks_in(self, first: int, last: int) -> list[Chunk]:
        """Rows ``first`` to ``last`` - 1, dead ones included (row order)."""
        with self._lock:
            found = self._connection.execute(
                "SELECT row, doc_id, start_at, end_at, text, meta FROM chunks WHERE row >= ? AND row < ? "
                "ORDER BY row", (first, min(last, self.rows))).fetchall()
        return [_chunk(r) for r in found]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """The live chunks of one document, in row order."""
        with self._lock:
            found = self._connection.execute(
                "SELECT row, doc_id, start_at, end_at, text, meta FROM chunks WHERE doc_id = ? AND row < ? "
                "ORDER BY row", (doc_id, self.rows)).fetchall()
        return [_chunk(r) for r in found if self.live[r[0]]]

    def tokens(self) -> list[list[str]]:
        """Every row's keyword tokens, row order (a dead row's too: rows keep their numbers)."""
        return list(self.iter_tokens())

    def iter_tokens(self):
        """``tokens`` one row at a time (the snapshot is held for the whole iteration)."""
        with self._lock:
            cursor = self._connection.execute("SELECT tokens FROM chunks WHERE row < ? ORDER BY row", (self.rows,))
            for (t,) in cursor:
                yield t.split(TOKEN_SEPARATOR) if t else []

    def filter_keys(self) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """Each row's (date, source) as an index into a list of the distinct pairs (read once)."""
        if self._filter_keys is None:
            with self._lock:
                found = self._connection.execute(
                    "SELECT date, source FROM chunks WHERE row < ? ORDER BY row", (self.rows,)).fetchall()
            distinct: dict[tuple[str, str], int] = {}
            keys = np.fromiter((distinct.setdefault((d or "", s or ""), len(distinct)) for d, s in found),
                               dtype=np.int32, count=len(found))
            self._filter_keys = (keys, list(distinct))
        return self._filter_keys

    # -- documents ------------------------------------------------------------------------------

    def document_ids(self) -> list[str]:
        return list(self._doc_rows)

    def content_hashes(self) -> dict[str, str]:
        """doc_id -> content hash of every live document (what the corpus fingerprint is made of)."""
        with self._lock:
            found = self._connection.execute(
                "SELECT doc_id, doc_row, content_hash FROM documents WHERE live = 1").fetchall()
        return {doc_id: digest for doc_id, doc_row, digest in found if self._doc_rows.get(doc_id) == doc_row}

    def live_rows_of(self, doc_ids) -> int:
        """How many live chunk rows the given documents hold."""
        return sum(len(self.chunks_of(doc_id)) for doc_id in doc_ids)

    def name_prefixes(self) -> set[str] | None:
        """The stored name prefixes (see the module docstring); None for a database without them."""
        with self._lock:
            if not _has_table(self._connection, "name_prefixes"):
                return None
            return {prefix for (prefix,) in self._connection.execute("SELECT prefix FROM name_prefixes")}

    def has_document(self, doc_id: str) -> bool:
        return doc_id in self._doc_rows

    def document(self, doc_id: str) -> Document:
        cached = self._document_cache.get(doc_id)
        if cached is not None:
            return cached
        doc_row = self._doc_rows[doc_id]
        with self._lock:
            (record,) = self._connection.execute(
                "SELECT record FROM documents WHERE doc_row = ?", (doc_row,)).fetchone()
        document = document_from_json(json.loads(record))
        if len(self._document_cache) >= _CACHE_ROWS:
            self._document_cache.clear()
        self._document_cache[doc_id] = document
        return document


class ChunkRows(Sequence):
    """``IndexData.chunks``: every row of the index by row number (dead rows included, so that
    row i stays vector i); ``live_chunks()`` is what the index holds."""

    def __init__(self, snapshot: Snapshot):
        self._snapshot = snapshot

    def __len__(self) -> int:
        return self._snapshot.rows

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self._snapshot.chunk(r) for r in range(*row.indices(len(self)))]
        if row < 0:
            row += len(self)
        return self._snapshot.chunk(int(row))

    def at(self, rows) -> list[Chunk]:
        """The chunks of several rows at once, in the order given."""
        return self._snapshot.chunks_at(rows)

    def __iter__(self):
        for first in range(0, len(self), 2048):
            yield from self._snapshot.chunks_in(first, first + 2048)


class Documents(Mapping):
    """``IndexData.documents``: the live documents by id, each read when first asked for."""

    def __init__(self, snapshot: Snapshot):
        self._snapshot = snapshot

    def __getitem__(self, doc_id: str) -> Document:
        if not isinstance(doc_id, str) or not self._snapshot.has_document(doc_id):
            raise KeyError(doc_id)
        return self._snapshot.document(doc_id)

    def __contains__(self, doc_id) -> bool:
        return isinstance(doc_id, str) and self._snapshot.has_document(doc_id)

    def __iter__(self):
        return iter(self._snapshot.document_ids())

    def __len__(self) -> int:
        return len(self._snapshot.document_ids())


# -- sqlite ---------------------------------------------------------------------------------------

def _connect(path: str | Path, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        connection = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True,
                                     check_same_thread=False, isolation_level=None)
    else:
        connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA busy_timeout = 30000")
    return connection


def _insert_documents(connection: sqlite3.Connection, documents) -> int:
    count = 0
    words: set[str] = set()

    def records():
        nonlocal count
        for d in documents:
            count += 1
            words.update(hangul_words(d.text))
            yield d.doc_id, json.dumps(document_to_json(d), ensure_ascii=False), content_hash(d.text)

    connection.executemany("INSERT INTO documents (doc_id, record, content_hash) VALUES (?, ?, ?)", records())
    if _has_table(connection, "name_prefixes"):
        connection.executemany("INSERT OR IGNORE INTO name_prefixes (prefix) VALUES (?)",
                               ((p,) for p in sorted(word_prefixes(words))))
    return count


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (name,)).fetchone() is not None


def _insert_chunks(connection: sqlite3.Connection, chunks, tokens, first_row: int) -> int:
    """Insert chunks numbered ``first_row``, ``first_row + 1``, ...; returns how many."""
    count = 0

    def records():
        nonlocal count
        for c in chunks:
            if c.chunk_id != first_row + count:
                raise ValueError(f"chunk {c.chunk_id} at row {first_row + count}")
            yield (c.chunk_id, c.doc_id, c.start, c.end, c.text, json.dumps(dict(c.meta), ensure_ascii=False),
                   c.meta.get("date"), c.meta.get("source"), TOKEN_SEPARATOR.join(tokens[count]))
            count += 1

    connection.executemany(
        "INSERT INTO chunks (row, doc_id, start_at, end_at, text, meta, date, source, tokens) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", records())
    return count


def _set_state(connection: sqlite3.Connection, rows: int, generation: int, manifest: dict) -> None:
    connection.executemany("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                           [("rows", str(rows)), ("generation", str(generation)),
                            ("manifest", json.dumps(manifest, ensure_ascii=False, sort_keys=True))])


def _state(connection: sqlite3.Connection) -> tuple[int, int, dict]:
    state = dict(connection.execute("SELECT key, value FROM state"))
    return int(state["rows"]), int(state["generation"]), json.loads(state["manifest"])


def _chunk(record) -> Chunk:
    row, doc_id, start, end, text, meta = record
    return Chunk(doc_id=doc_id, chunk_id=row, text=text, start=start, end=end, meta=json.loads(meta))
