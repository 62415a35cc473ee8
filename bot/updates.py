"""Incremental index updates: add or remove press releases without re-embedding the corpus.

Only the new documents' passages go through the model; the vectors already in ``index.faiss`` are
read back (``reconstruct_n``), the keyword index is rebuilt from the stored passage texts (cheap),
chunk ids are renumbered so that row i is still chunk i, and a new version of the index is written
with ``write_index``. The writers' lock (``bot.index.writing``) is held from the read to the
pointer swap, so two processes updating one index never lose each other's change. Chunking
follows the index's own manifest, so every passage of an index was cut the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Collection, Sequence

import numpy as np

from .chunking import split
from .errors import BadDocument
from .index import IndexData, load_index, passage_text, write_index, writing
from .ingest import corpus_fingerprint
from .lexical import LexicalIndex
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
    """The passage vectors of a loaded index, row i = chunk i (read back from FAISS)."""
    total = int(data.vectors.ntotal)
    if total == 0:
        return np.zeros((0, int(data.vectors.d)), dtype=np.float32)
    return np.asarray(data.vectors.reconstruct_n(0, total), dtype=np.float32)


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
    keep = np.array([c.doc_id not in dropped for c in data.chunks], dtype=bool)
    kept_chunks = [c for c, kept in zip(data.chunks, keep) if kept]
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
                        added=len(new_chunks), removed=len(data.chunks) - len(kept_chunks),
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
        result = updated(data, add=documents, encode=encode)
        _write(index_dir, result)
    return result.added


def remove_document(index_dir: str | Path, doc_id: str, model_fingerprint: str | None = None) -> int:
    """Remove one document and its passages from the index folder; returns passages removed."""
    with writing(index_dir):
        data = load_index(index_dir, model_fingerprint)
        result = updated(data, remove=[doc_id])
        _write(index_dir, result)
    return result.removed


def _write(index_dir: str | Path, result: UpdatedIndex) -> None:
    write_index(index_dir, result.documents, result.chunks, result.vectors, result.lexical,
                result.manifest, result.glossary)
