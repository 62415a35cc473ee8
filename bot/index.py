"""The index on disk: a folder written atomically, refused when incompatible.

``index/`` holds ``index.faiss`` (exact inner product over normalised passage vectors),
``chunks.jsonl`` (row i = vector i), ``documents.jsonl`` (the stored text citations point into),
``lexical/`` (bm25s arrays and vocabulary) and ``manifest.json``. Writes go to a temporary
sibling folder that is renamed into place, so a crash never leaves half an index. Never pickle.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
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
    """Write a complete index folder atomically (temporary folder, then rename)."""
    import faiss

    index_dir = Path(index_dir).resolve()
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    if vectors.shape[0] != len(chunks):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(chunks)} chunks")
    staging = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.tmp-", dir=index_dir.parent))
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
        _swap_into_place(staging, index_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return index_dir


def read_manifest(index_dir: str | Path) -> dict:
    """The manifest of an index folder; ``IndexNotFound`` says to run ``make index``."""
    index_dir = Path(index_dir)
    path = index_dir / "manifest.json"
    if not path.is_file():
        raise IndexNotFound(f"no index at {index_dir}: run `make index` (or `bot ingest corpus/ --index {index_dir}`)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexIncompatible(f"{path} is unreadable ({exc}): rebuild with `make index`") from None


def load_index(index_dir: str | Path, model_fingerprint: str | None = None) -> IndexData:
    """Load an index folder, refusing one built with another model or format version."""
    import faiss

    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    rebuild = f"rebuild it: `rm -r {index_dir} && make index` (or `bot ingest --index {index_dir}`)"
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexIncompatible(
            f"index at {index_dir} has format {manifest.get('format_version')}, this version "
            f"reads format {FORMAT_VERSION}: {rebuild}")
    if model_fingerprint and manifest.get("model_fingerprint") != model_fingerprint:
        raise IndexIncompatible(
            f"index at {index_dir} was built with another embedding model "
            f"({manifest.get('model')} {manifest.get('model_fingerprint')}): {rebuild}")
    missing = [name for name in FILES if not (index_dir / name).exists()]
    if missing:
        raise IndexNotFound(f"index at {index_dir} is incomplete (missing {', '.join(missing)}): {rebuild}")
    vectors = faiss.read_index(str(index_dir / "index.faiss"))
    chunks = [chunk_from_json(r) for r in _read_jsonl(index_dir / "chunks.jsonl")]
    documents = {d.doc_id: d for d in map(document_from_json, _read_jsonl(index_dir / "documents.jsonl"))}
    lexical = LexicalIndex.load(index_dir / "lexical")
    glossary = Glossary.load(index_dir / "glossary") if (index_dir / "glossary").is_dir() else None
    if not (vectors.ntotal == len(chunks) == lexical.size):
        raise IndexIncompatible(
            f"index at {index_dir} is inconsistent ({vectors.ntotal} vectors, {len(chunks)} "
            f"chunks, {lexical.size} keyword rows): {rebuild}")
    if vectors.d != manifest.get("dimension"):
        raise IndexIncompatible(f"index at {index_dir}: dimension {vectors.d} != manifest: {rebuild}")
    return IndexData(manifest, documents, chunks, vectors, lexical, glossary)


def chunk_to_json(chunk: Chunk) -> dict:
    """A chunk as stored in ``chunks.jsonl`` (its meta is the document's, kept in documents.jsonl)."""
    return {"doc_id": chunk.doc_id, "chunk_id": chunk.chunk_id, "start": chunk.start,
            "end": chunk.end, "text": chunk.text, "meta": dict(chunk.meta)}


def chunk_from_json(record: dict) -> Chunk:
    """Inverse of ``chunk_to_json``."""
    return Chunk(doc_id=record["doc_id"], chunk_id=record["chunk_id"], text=record["text"],
                 start=record["start"], end=record["end"], meta=record.get("meta") or {})


def _write_jsonl(path: Path, records) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename ``staging`` to ``target``; an old ``target`` is moved aside first, then removed."""
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.time_ns()}")
        os.rename(target, old)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, target)
