"""Search latency at a given index size (``bot bench retrieval --rows N``).

The bundled corpus and KorQuAD dev hold about 3,600 passages together; the latency target is set
on 10,000. ``scaled`` repeats real passages (and their vectors: no re-embedding) under new
document ids until the index has ``rows`` rows. Search cost depends on the number of rows and the
keyword postings, which repetition scales as a larger corpus would; recall on such an index means
nothing, so only latency is measured on it.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from . import metrics
from .index import IndexData, passage_text
from .lexical import LexicalIndex


def scaled(sources: list[IndexData], rows: int) -> IndexData:
    """One in-memory index of ``rows`` rows from the passages of ``sources``, repeated as needed."""
    import faiss

    base_chunks = [c for data in sources for c in data.chunks]
    base_vectors = np.vstack([data.vectors.reconstruct_n(0, data.vectors.ntotal) for data in sources])
    if not base_chunks:
        raise ValueError("no passages to scale")
    chunks, picks = [], []
    for row in range(rows):
        source = row % len(base_chunks)
        copy = row // len(base_chunks)
        chunk = base_chunks[source]
        doc_id = chunk.doc_id if copy == 0 else f"{chunk.doc_id}#copy{copy}"
        chunks.append(replace(chunk, doc_id=doc_id, chunk_id=row))
        picks.append(source)
    flat = faiss.IndexFlatIP(base_vectors.shape[1])
    flat.add(np.ascontiguousarray(base_vectors[picks], dtype=np.float32))
    lexical = LexicalIndex.build([passage_text(c) for c in chunks])
    documents = {}
    for data in sources:
        documents.update(data.documents)
    glossary = next((data.glossary for data in sources if data.glossary is not None), None)
    return IndexData(dict(sources[0].manifest, chunks=rows), documents, chunks, flat, lexical, glossary)


def search_latency(bot, queries: list[str], k: int = 10) -> dict:
    """p50/p95 (ms) of ``bot.search`` in hybrid mode and of the query embedding alone, over the
    same queries (one untimed warm-up each)."""
    if not queries:
        return {"queries": 0}
    bot.search(queries[0], k=k)
    bot.embedder.encode_queries([queries[0]])
    searched, embedded = [], []
    for query in queries:
        started = time.perf_counter()
        bot.embedder.encode_queries([query])
        embedded.append((time.perf_counter() - started) * 1000.0)
        started = time.perf_counter()
        bot.search(query, k=k)
        searched.append((time.perf_counter() - started) * 1000.0)
    p50, embed50 = metrics.percentile(searched, 50), metrics.percentile(embedded, 50)
    return {"queries": len(queries), "rows": len(bot.data.chunks),
            "search_p50_ms": round(p50, 1), "search_p95_ms": round(metrics.percentile(searched, 95), 1),
            "embedding_p50_ms": round(embed50, 1),
            "embedding_p95_ms": round(metrics.percentile(embedded, 95), 1),
            "search_over_embedding_p50": round(p50 / embed50, 2) if embed50 else None}
