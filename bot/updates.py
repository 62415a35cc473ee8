"""Incremental index updates: add or remove press releases without re-embedding the corpus.

Only the new documents' passages go through the model (and Kiwi). On a format-3 index the live
version is updated in place (``bot.index.append``): new chunk rows and vectors are appended,
removed documents' rows are marked as no longer live, in one SQLite transaction; the keyword index
is rebuilt from the stored tokens. An older index is rewritten whole as a new version (``updated``
then ``write_index``): vectors read back, chunk ids renumbered. The writers' lock
(``bot.index.writing``) is held from the read to the commit, so two processes updating one index
never lose each other's change. Chunking follows the index's own manifest, so every passage of an
index was cut the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Collection, Sequence

import numpy as np

from .chunking import split
from .errors import BadDocument
from . import index as index_files
from .index import IndexData, load_index, passage_text, write_index, writing
from .ingest import corpus_fingerprint, fingerprint_of
from .lexical import LexicalIndex, tokens_many
from .documents import content_hash
from .records import Chunk, Document

Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class UpdatedIndex:
    """Everything ``write_index`` needs, plus how many passages came in and went out."""

    documents: list[Document]
    chunks: list[Chunk]
    vectors: np.ndarray
    lexical: LexicalIndex
    manifest: dict
    added: int
    removed: int
    glossary: object = None  # the English-Korean glossary, carried over (its terms are the old ones)


def stored_vectors(data: IndexData) -> np.ndarray:
    """The passage vectors of the live chunks of a loaded index, in row order (``data.live_chunks()``)."""
    matrix = data.vector_matrix()
    if data.live is None:
        return np.asarray(matrix, dtype=np.float32)
    return np.asarray(matrix[np.flatnonzero(data.live)], dtype=np.float32)


def updated(data: IndexData, add: Sequence[Document] = (), remove: Collection[str] = (),
            encode: Encode | None = None) -> UpdatedIndex:
    """The index ``data`` with ``remove`` dropped and ``add`` added (a same-id document is replaced).

    ``encode`` embeds the new passages' texts; it is only called when there are new passages.
    Raises ``BadDocument`` for an id to remove that is not in the index, or for two documents to
    add with the same id.
    """
    missing = [doc_id for doc_id in remove if doc_id not in data.documents]
    if missing:
        raise BadDocument(f"no document {missing[0]!r} in the index")
    new_ids = [doc.doc_id for doc in add]
    if len(set(new_ids)) != len(new_ids):
        raise BadDocument("two uploaded documents have the same id: rename one of the files")
    dropped = set(remove) | set(new_ids)
    live_chunks = data.live_chunks()
    keep = np.array([c.doc_id not in dropped for c in live_chunks], dtype=bool)
    kept_chunks = [c for c, kept in zip(live_chunks, keep) if kept]
    kept_vectors = stored_vectors(data)[keep]

    size = int(data.manifest.get("chunk_size", 400))
    overlap = int(data.manifest.get("chunk_overlap", 80))
    new_chunks: list[Chunk] = []
    for document in add:
        new_chunks.extend(split(document, size, overlap, first_chunk_id=len(kept_chunks) + len(new_chunks)))
    if new_chunks:
        if encode is None:
            raise ValueError("new passages to embed but no encoder given")
        new_vectors = np.asarray(encode([passage_text(c) for c in new_chunks]), dtype=np.float32)
    else:
        new_vectors = np.zeros((0, kept_vectors.shape[1]), dtype=np.float32)

    if not kept_chunks and not new_chunks:
        raise BadDocument("an index needs at least one passage: this would remove the last one")
    chunks = [replace(c, chunk_id=row) for row, c in enumerate(kept_chunks + new_chunks)]
    vectors = np.vstack([kept_vectors, new_vectors])
    documents = [d for doc_id, d in data.documents.items() if doc_id not in dropped] + list(add)
    lexical = LexicalIndex.build([passage_text(c) for c in chunks])
    manifest = dict(data.manifest, corpus_fingerprint=corpus_fingerprint(documents))
    return UpdatedIndex(documents, chunks, vectors, lexical, manifest,
                        added=len(new_chunks), removed=len(live_chunks) - len(kept_chunks),
                        glossary=data.glossary)


def add_documents(index_dir: str | Path, documents: Sequence[Document], encode: Encode,
                  model_fingerprint: str | None = None) -> int:
    """Add (or replace) ``documents`` in the index folder; returns the number of passages added."""
    documents = list(documents)
    if not documents:
        return 0
    for document in documents:
        if not document.text.strip():
            raise BadDocument(f"{document.path or document.doc_id}: the document has no text")
    with writing(index_dir):
        data = load_index(index_dir, model_fingerprint)
        if _in_place(index_dir, data):
            return _append(index_dir, data, documents, set(), encode)[0]
        result = updated(data, add=documents, encode=encode)
        _write(index_dir, result)
    return result.added


def remove_document(index_dir: str | Path, doc_id: str, model_fingerprint: str | None = None) -> int:
    """Remove one document and its passages from the index folder; returns passages removed."""
    with writing(index_dir):
        data = load_index(index_dir, model_fingerprint)
        if _in_place(index_dir, data):
            return _append(index_dir, data, [], {doc_id}, None)[1]
        result = updated(data, remove=[doc_id])
        _write(index_dir, result)
    return result.removed


def _in_place(index_dir: str | Path, data: IndexData) -> bool:
    """Whether ``data`` (the live index) is updated in place: a format-3 version behind ``CURRENT``
    (an old-layout index is rewritten as a version instead)."""
    return data.snapshot is not None and data.snapshot.path.parent != Path(index_dir).resolve()


def _append(index_dir: str | Path, data: IndexData, add: list[Document], remove: set[str],
            encode: Encode | None) -> tuple[int, int]:
    """The in-place update of a format-3 index; returns (passages added, passages removed)."""
    try:
        missing = [doc_id for doc_id in remove if doc_id not in data.documents]
        if missing:
            raise BadDocument(f"no document {missing[0]!r} in the index")
        new_ids = [doc.doc_id for doc in add]
        if len(set(new_ids)) != len(new_ids):
            raise BadDocument("two uploaded documents have the same id: rename one of the files")
        dropped = {doc_id for doc_id in set(remove) | set(new_ids) if doc_id in data.documents}
        removed = data.snapshot.live_rows_of(dropped)
        size = int(data.manifest.get("chunk_size", 400))
        overlap = int(data.manifest.get("chunk_overlap", 80))
        first = len(data.chunks)
        new_chunks: list[Chunk] = []
        for document in add:
            new_chunks.extend(split(document, size, overlap, first_chunk_id=first + len(new_chunks)))
        live_after = int(data.live.sum() if data.live is not None else len(data.chunks)) - removed + len(new_chunks)
        if live_after == 0:
            raise BadDocument("an index needs at least one passage: this would remove the last one")
        texts = [passage_text(c) for c in new_chunks]
        if new_chunks and encode is None:
            raise ValueError("new passages to embed but no encoder given")
        vectors = (np.asarray(encode(texts), dtype=np.float32) if new_chunks
                   else np.zeros((0, int(data.manifest["dimension"])), dtype=np.float32))
        tokens = tokens_many(texts) if texts else []
        hashes = {k: v for k, v in data.snapshot.content_hashes().items() if k not in dropped}
        hashes.update({doc.doc_id: content_hash(doc.text) for doc in add})
        manifest = dict(data.manifest, corpus_fingerprint=fingerprint_of(hashes), chunks=live_after,
                        documents=len(hashes))
        index_files.append(index_dir, data, add, new_chunks, vectors, tokens, dropped, manifest)
        return len(new_chunks), removed
    finally:
        data.snapshot.close()


def _write(index_dir: str | Path, result: UpdatedIndex) -> None:
    write_index(index_dir, result.documents, result.chunks, result.vectors, result.lexical,
                result.manifest, result.glossary)
