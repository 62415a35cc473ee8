"""Search at scale (``bot bench scale --rows N``): a synthetic index of N rows built from real passages.

The base is one or more real indexes (the bundled corpus; KorQuAD paragraphs when given). Row r
is base passage ``r % B`` under a new document id (``<doc>#copy<k>``, k = r // B), with its real
keyword tokens and its real vector plus Gaussian noise (``sigma`` per dimension, renormalised;
the first copy is unchanged), so that no two vectors are identical. The index is written as a
real format-3 version (records in SQLite, vectors, the dense index the size calls for, the keyword
index) and then loaded and searched in a fresh process, which reports its load time, resident
memory and search latencies. Query vectors (real questions through the real model) are computed
by the caller and passed in, so search figures exclude the query embedding, which is measured
apart. Dense recall@10 compares the dense index's top 10 with an exact scan of the same vectors.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import dense, metrics, store
from .disk import fsync_folder as _fsync_folder, writing
from .index import (FORMAT_VERSION, VECTORS, IndexData, _lexical_name, _point,
                    _version_name, passage_text)
from .lexical import LexicalIndex, tokens_many
from .records import Chunk, Document


@dataclass(frozen=True)
class Base:
    """The real passages a scaled index repeats: live chunks, their vectors and tokens, their documents."""

    chunks: list[Chunk]
    vectors: np.ndarray
    tokens: list[list[str]]
    documents: dict[str, Document]


def base_of(sources: list[IndexData]) -> Base:
    """The live passages of the given loaded indexes, in row order."""
    chunks, vectors, tokens, documents = [], [], [], {}
    for data in sources:
        live = data.live_chunks()
        rows = np.asarray([c.chunk_id for c in live], dtype=np.int64)
        chunks.extend(live)
        vectors.append(np.asarray(data.vector_matrix()[rows], dtype=np.float32))
        if data.snapshot is not None:
            every = data.snapshot.tokens()
            tokens.extend(every[r] for r in rows)
        else:
            tokens.extend(tokens_many([passage_text(c) for c in live]))
        documents.update((doc_id, data.documents[doc_id]) for doc_id in {c.doc_id for c in live})
    if not chunks:
        raise ValueError("no passages to scale")
    return Base(chunks, np.vstack(vectors), tokens, documents)


def copy_id(doc_id: str, copy: int) -> str:
    return doc_id if copy == 0 else f"{doc_id}#copy{copy}"


def build(index_dir: str | Path, base: Base, rows: int, manifest: dict, sigma: float = 0.01,
          seed: int = 13, exact_up_to: int = dense.EXACT_UP_TO) -> dict:
    """Write a scaled index of ``rows`` rows as the live version of ``index_dir``; returns the
    seconds each part took and the bytes on disk."""
    size = len(base.chunks)
    copies = -(-rows // size)
    index_dir = Path(index_dir).resolve()
    took: dict[str, float] = {}
    started = time.perf_counter()
    with writing(index_dir):
        name = _version_name()
        staging = index_dir / f".tmp-{name}"
        os.mkdir(staging)
        clock = time.perf_counter()
        rng = np.random.default_rng(seed)
        with open(staging / VECTORS, "wb") as handle:
            for copy in range(copies):
                block = base.vectors[: min(size, rows - copy * size)]
                if copy:
                    block = block + rng.normal(0.0, sigma, block.shape).astype(np.float32)
                    block /= np.linalg.norm(block, axis=1, keepdims=True)
                handle.write(np.ascontiguousarray(block, dtype=np.float32).tobytes())
        took["vectors_s"] = time.perf_counter() - clock
        dimension = int(base.vectors.shape[1])
        matrix = np.memmap(staging / VECTORS, dtype=np.float32, mode="r", shape=(rows, dimension))

        clock = time.perf_counter()
        spec = dense.plan(rows, exact_up_to)
        if dense.stored(spec):
            import faiss

            faiss.write_index(dense.build(matrix, spec), str(staging / dense.file_name(0)))
        took["dense_s"] = time.perf_counter() - clock

        clock = time.perf_counter()
        row_tokens = [base.tokens[r % size] for r in range(rows)]
        LexicalIndex.from_tokens(row_tokens).save(staging / _lexical_name(0))
        took["keyword_s"] = time.perf_counter() - clock

        clock = time.perf_counter()
        chunks = (replace(base.chunks[r % size], doc_id=copy_id(base.chunks[r % size].doc_id, r // size),
                          chunk_id=r) for r in range(rows))
        documents = _documents(base, rows)
        manifest = dict(manifest, format_version=FORMAT_VERSION, chunks=rows, dimension=dimension,
                        dense_index=spec, synthetic={"rows": rows, "base_passages": size, "sigma": sigma,
                                                     "seed": seed})
        count = store.create(staging / store.RECORDS, documents, chunks, row_tokens, manifest)
        took["records_s"] = time.perf_counter() - clock
        (staging / "manifest.json").write_text(json.dumps(dict(manifest, documents=count), indent=2,
                                                          ensure_ascii=False), encoding="utf-8")
        os.rename(staging, index_dir / name)
        _fsync_folder(index_dir)
        _point(index_dir, name)
    took["build_s"] = time.perf_counter() - started
    took["disk_bytes"] = sum(p.stat().st_size for p in (index_dir / name).rglob("*") if p.is_file())
    return took


def _documents(base: Base, rows: int):
    """Each base document once per copy that holds one of its passages."""
    size = len(base.chunks)
    first_rows: dict[str, int] = {}
    for position, chunk in enumerate(base.chunks):
        first_rows.setdefault(chunk.doc_id, position)
    for copy in range(-(-rows // size)):
        limit = rows - copy * size
        for doc_id, position in first_rows.items():
            if position < limit:
                yield replace(base.documents[doc_id], doc_id=copy_id(doc_id, copy))


def measure(index_dir: str | Path, queries: list[str], query_vectors: np.ndarray, k: int = 10,
            recall_queries: int = 100) -> dict:
    """Load ``index_dir`` in a fresh process and search it; see ``_measure``."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_measure, (str(index_dir), queries, query_vectors, k, recall_queries))


def _measure(index_dir: str, queries: list[str], query_vectors: np.ndarray, k: int,
             recall_queries: int) -> dict:
    """Cold start (load), resident memory, search p50/p95 per mode and dense recall@k against exact."""
    import faiss
    import psutil

    from .index import load_index
    from .retrieval import HybridRetriever

    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    data = load_index(index_dir)
    retriever = HybridRetriever(data)
    load_s = time.perf_counter() - started
    loaded_rss = process.memory_info().rss
    result = {"rows": len(data.chunks), "dense_index": data.manifest.get("dense_index"),
              "load_s": round(load_s, 2), "rss_mb_after_load": round(loaded_rss / 2**20),
              "rss_mb_for_index": round((loaded_rss - before) / 2**20), "queries": len(queries)}
    for mode in ("hybrid", "dense", "lexical"):
        retriever.search(query_vectors[0], queries[0], k=k, mode=mode)  # warm-up
        times = []
        for question, vector in zip(queries, query_vectors):
            clock = time.perf_counter()
            retriever.search(vector, question, k=k, mode=mode)
            times.append((time.perf_counter() - clock) * 1000.0)
        result[f"{mode}_p50_ms"] = round(metrics.percentile(times, 50), 1)
        result[f"{mode}_p95_ms"] = round(metrics.percentile(times, 95), 1)
    matrix = data.vector_matrix()
    found = []
    for vector in query_vectors[:recall_queries]:
        exact = _exact_top(matrix, vector, k, data.live)
        _, approximate = dense.search(data.vectors, vector, k, data.live)
        found.append(len(set(exact.tolist()) & set(approximate.tolist())) / k)
    result[f"dense_recall_at_{k}"] = round(float(np.mean(found)), 4)
    if isinstance(data.vectors, faiss.IndexIVF):
        result["nprobe_sweep"] = _nprobe_sweep(data, query_vectors[:recall_queries], k)
    result["rss_mb_after_search"] = round(process.memory_info().rss / 2**20)
    return result


def _nprobe_sweep(data: IndexData, query_vectors: np.ndarray, k: int) -> list[dict]:
    """Dense recall@k and search p95 of the IVF index at several ``nprobe`` (to choose it)."""
    matrix, index, chosen = data.vector_matrix(), data.vectors, int(data.vectors.nprobe)
    exact = [set(_exact_top(matrix, v, k, data.live).tolist()) for v in query_vectors]
    sweep = []
    for nprobe in sorted({max(1, index.nlist // d) for d in (64, 32, 16, 8, 4)}):
        index.nprobe = nprobe
        found, times = [], []
        for vector, truth in zip(query_vectors, exact):
            clock = time.perf_counter()
            _, rows = dense.search(index, vector, k, data.live)
            times.append((time.perf_counter() - clock) * 1000.0)
            found.append(len(truth & set(rows.tolist())) / k)
        sweep.append({"nprobe": nprobe, "recall": round(float(np.mean(found)), 4),
                      "p95_ms": round(metrics.percentile(times, 95), 2)})
    index.nprobe = chosen
    return sweep


def _exact_top(matrix: np.ndarray, vector: np.ndarray, k: int, live: np.ndarray | None = None,
               block: int = 131_072) -> np.ndarray:
    """Live rows of the ``k`` highest inner products, by a scan of every row."""
    scores = np.empty(len(matrix), dtype=np.float32)
    for start in range(0, len(matrix), block):
        scores[start:start + block] = np.asarray(matrix[start:start + block]) @ vector.reshape(-1)
    if live is not None:
        scores[~live] = -np.inf
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best])]
