"""Ingestion: corpus folder -> chunks -> passage vectors + keyword index -> index folder."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import __version__
from .chunking import split_all
from .documents import Skipped, content_hash, load_corpus
from .embedding import MODEL_NAME, Embedder
from .index import passage_text, write_index
from .bilingual import Glossary
from .lexical import LexicalIndex
from .records import Document
from .settings import Settings


@dataclass(frozen=True)
class IngestReport:
    """What one ingestion did: counts, skipped files and timings."""

    index_dir: Path
    documents: int
    chunks: int
    skipped: tuple[Skipped, ...]
    seconds: float
    embed_seconds: float
    by_format: dict = field(default_factory=dict)

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0


def corpus_fingerprint(documents: list[Document]) -> str:
    """A hash of every document's id and text: tells whether ``index/`` is stale."""
    digest = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.doc_id):
        digest.update(doc.doc_id.encode() + b"\0" + content_hash(doc.text).encode() + b"\n")
    return digest.hexdigest()[:16]


def build_manifest(settings: Settings, model_fingerprint: str, documents: list[Document],
                   precision: str | None = None) -> dict:
    """What the manifest records about how an index was built."""
    return {"model": MODEL_NAME, "model_fingerprint": model_fingerprint,
            "embed_precision": precision,
            "chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap,
            "corpus_fingerprint": corpus_fingerprint(documents), "bot_version": __version__}


def ingest_documents(documents: list[Document], index_dir: str | Path, embedder: Embedder,
                     settings: Settings, model_fingerprint: str,
                     progress: bool = False, skipped: tuple = (),
                     on_stage: Callable[[str], None] | None = None) -> IngestReport:
    """Chunk, embed and index ``documents`` into ``index_dir`` (written atomically)."""
    started = time.perf_counter()
    stage = on_stage or (lambda _message: None)
    chunks = split_all(documents, settings.chunk_size, settings.chunk_overlap)
    stage(f"{len(documents)} documents, {len(chunks)} passages")
    texts = [passage_text(c) for c in chunks]
    embed_started = time.perf_counter()
    vectors = embedder.encode_passages(texts, batch_size=settings.embed_batch_size, progress=progress)
    embed_seconds = time.perf_counter() - embed_started
    stage("keyword index")
    lexical = LexicalIndex.build(texts)
    stage("English-Korean glossary of index terms")
    glossary = Glossary.build(lexical.vocabulary, embedder)
    manifest = build_manifest(settings, model_fingerprint, documents, embedder.precision)
    path = write_index(index_dir, documents, chunks, vectors, lexical, manifest, glossary)
    by_format: dict[str, int] = {}
    for doc in documents:
        suffix = Path(doc.path or "").suffix.lower() or "?"
        by_format[suffix] = by_format.get(suffix, 0) + 1
    return IngestReport(path, len(documents), len(chunks), tuple(skipped),
                        time.perf_counter() - started, embed_seconds, by_format)


def ingest(corpus_dir: str | Path, index_dir: str | Path, embedder: Embedder, settings: Settings,
           model_fingerprint: str, progress: bool = False,
           on_stage: Callable[[str], None] | None = None) -> IngestReport:
    """Read ``corpus_dir`` and build ``index_dir`` from it."""
    documents, skipped = load_corpus(corpus_dir)
    return ingest_documents(documents, index_dir, embedder, settings, model_fingerprint,
                            progress=progress, skipped=tuple(skipped), on_stage=on_stage)
