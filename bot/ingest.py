"""Ingestion: corpus folder -> chunks -> passage vectors + keyword index -> index folder.

The passage vectors come from an ``Embedder`` in this process or from the workers of a Dask
cluster (``bot.parallel.ClusterEmbedder``, same methods); everything else runs here. A rebuild
embeds only what the index it replaces lacks: passage and glossary vectors are reused by text.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from .chunking import split_all
from .documents import Skipped, content_hash, load_corpus
from .embedding import MODEL_NAME, Embedder
from .index import load_index, passage_text, write_index
from .bilingual import Glossary
from .lexical import LexicalIndex
from .records import Document
from .settings import Settings


@dataclass(frozen=True)
class IngestReport:
    """What one ingestion did: counts, skipped files and timings (``stages``: seconds per stage,
    in order)."""

    index_dir: Path
    documents: int
    chunks: int
    skipped: tuple[Skipped, ...]
    seconds: float
    embed_seconds: float
    by_format: dict = field(default_factory=dict)
    stages: dict = field(default_factory=dict)
    # What this build embedded; the rest came from the index it replaced (``reusable``).
    passages_embedded: int = 0
    glossary_terms: int = 0
    glossary_embedded: int = 0

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0


def corpus_fingerprint(documents: list[Document]) -> str:
    """A hash of every document's id and text: tells whether ``index/`` is stale."""
    return fingerprint_of({doc.doc_id: content_hash(doc.text) for doc in documents})


def fingerprint_of(hashes: dict[str, str]) -> str:
    """``corpus_fingerprint`` from each document's id and content hash."""
    digest = hashlib.sha256()
    for doc_id in sorted(hashes):
        digest.update(doc_id.encode() + b"\0" + hashes[doc_id].encode() + b"\n")
    return digest.hexdigest()[:16]


def build_manifest(settings: Settings, model_fingerprint: str, documents: list[Document],
                   precision: str | None = None) -> dict:
    """What the manifest records about how an index was built."""
    return {"model": MODEL_NAME, "model_fingerprint": model_fingerprint,
            "embed_precision": precision,
            "chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap,
            "corpus_fingerprint": corpus_fingerprint(documents), "bot_version": __version__}


@dataclass(frozen=True)
class Reusable:
    """What a rebuild takes from the index it replaces: passage vectors by the exact text that was
    embedded (``passage_text``), and the glossary. Empty unless that index was built with the same
    model and precision, so that every reused vector is one this build would compute."""

    passages: dict = field(default_factory=dict)
    glossary: Glossary | None = None


def reusable(index_dir: str | Path, model_fingerprint: str, precision: str | None) -> Reusable:
    """The vectors of the live index in ``index_dir`` that a rebuild with this model can keep."""
    try:
        data = load_index(index_dir, model_fingerprint)
        if data.manifest.get("embed_precision") != precision:
            return Reusable()
        matrix = data.vector_matrix()
        passages = {passage_text(chunk): matrix[row] for row, chunk in enumerate(data.chunks)}
        return Reusable(passages, data.glossary)
    except Exception:  # none, another model or format, or removed meanwhile: embed everything afresh
        return Reusable()


def embed_passages(texts: list[str], embedder: Embedder, batch_size: int, known: dict,
                   progress: bool = False) -> tuple[np.ndarray, int]:
    """Vectors of ``texts`` (row i = ``texts[i]``) and how many texts were embedded: a text in
    ``known`` keeps its vector, a text repeated is embedded once."""
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    fresh = embedder.encode_passages(missing, batch_size=batch_size, progress=progress) if missing else None
    if not texts:
        return (fresh if fresh is not None else embedder.encode_passages([], batch_size=batch_size)), 0
    by_text = dict(zip(missing, fresh)) if fresh is not None else {}
    vectors = np.stack([known[t] if t in known else by_text[t] for t in texts]).astype(np.float32)
    return vectors, len(missing)


def ingest_documents(documents: list[Document], index_dir: str | Path, embedder: Embedder,
                     settings: Settings, model_fingerprint: str,
                     progress: bool = False, skipped: tuple = (),
                     on_stage: Callable[[str], None] | None = None) -> IngestReport:
    """Chunk, embed and index ``documents`` into ``index_dir`` (written atomically).

    ``embedder`` is an ``Embedder`` or anything with its ``encode_passages``, ``encode_queries``
    and ``precision`` (``bot.parallel.ClusterEmbedder``). Passages and glossary terms that the
    index being replaced already holds, from the same model and precision, keep their vectors.
    """
    started = time.perf_counter()
    stages: dict[str, float] = {}
    clock = [started]

    def lap(name: str) -> None:
        now = time.perf_counter()
        stages[name] = now - clock[0]
        clock[0] = now

    stage = on_stage or (lambda _message: None)
    chunks = split_all(documents, settings.chunk_size, settings.chunk_overlap)
    texts = [passage_text(c) for c in chunks]
    lap("chunking")
    previous = reusable(index_dir, model_fingerprint, embedder.precision)
    lap("reading the index replaced")
    stage(f"{len(documents)} documents, {len(chunks)} passages "
          f"({sum(t in previous.passages for t in texts)} already embedded)")
    vectors, embedded = embed_passages(texts, embedder, settings.embed_batch_size, previous.passages, progress)
    lap("embedding")
    stage("keyword index")
    lexical = LexicalIndex.build(texts)
    lap("keyword index")
    stage("English-Korean glossary of index terms")
    glossary = Glossary.build(lexical.vocabulary, embedder, reuse=previous.glossary)
    lap("glossary")
    manifest = build_manifest(settings, model_fingerprint, documents, embedder.precision)
    path = write_index(index_dir, documents, chunks, vectors, lexical, manifest, glossary)
    lap("writing")
    by_format: dict[str, int] = {}
    for doc in documents:
        suffix = Path(doc.path or "").suffix.lower() or "?"
        by_format[suffix] = by_format.get(suffix, 0) + 1
    return IngestReport(path, len(documents), len(chunks), tuple(skipped),
                        time.perf_counter() - started, stages["embedding"], by_format, stages,
                        embedded, len(glossary.terms), glossary.embedded)


def ingest(corpus_dir: str | Path, index_dir: str | Path, embedder: Embedder, settings: Settings,
           model_fingerprint: str, progress: bool = False,
           on_stage: Callable[[str], None] | None = None) -> IngestReport:
    """Read ``corpus_dir`` and build ``index_dir`` from it."""
    documents, skipped = load_corpus(corpus_dir)
    return ingest_documents(documents, index_dir, embedder, settings, model_fingerprint,
                            progress=progress, skipped=tuple(skipped), on_stage=on_stage)
