"""Hybrid retrieval: dense (FAISS) and keyword (BM25) candidates, fused, deduplicated, filtered.

The fusion and dedup functions are pure: lists in, list out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import dense
from .index import IndexData
from .records import Chunk, Hit

# A filter that admits at most this many rows is searched exactly over them (a scan is cheaper
# than an approximate search that may visit none of them).
BRUTE_FORCE_UP_TO = 20_000


@dataclass(frozen=True)
class Filters:
    """Optional restrictions: ISO date bounds (inclusive, prefix-compared) and sources."""

    date_from: str | None = None
    date_to: str | None = None
    sources: tuple[str, ...] = ()

    def admits(self, chunk: Chunk) -> bool:
        date = chunk.meta.get("date") or ""
        if self.date_from and (not date or date < self.date_from[: len(date)]):
            return False
        if self.date_to and (not date or date[: len(self.date_to)] > self.date_to):
            return False
        if self.sources and (chunk.meta.get("source") or "") not in self.sources:
            return False
        return True

    def __bool__(self) -> bool:
        return bool(self.date_from or self.date_to or self.sources)


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; a constant vector becomes all ones (no information, no penalty)."""
    if scores.size == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-9:
        return np.ones_like(scores) if high > 0 else np.zeros_like(scores)
    return (scores - low) / (high - low)


def weighted_fusion(rows: np.ndarray, dense: np.ndarray, lexical: np.ndarray,
                    dense_weight: float) -> list[tuple[int, float]]:
    """Weighted sum of min-max normalised scores over the candidate rows, best first."""
    fused = dense_weight * minmax(dense) + (1.0 - dense_weight) * minmax(lexical)
    order = np.argsort(-fused, kind="stable")
    return [(int(rows[i]), float(fused[i])) for i in order]


def rrf_fusion(rankings: list[list[int]], k: int = 60) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of several rankings (rows best first), best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def dedupe(hits: list[Hit], k: int) -> list[Hit]:
    """Keep the best ``k`` hits such that no two are overlapping chunks of one document."""
    kept: list[Hit] = []
    for hit in hits:
        c = hit.chunk
        if any(o.chunk.doc_id == c.doc_id and o.chunk.start < c.end and c.start < o.chunk.end
               for o in kept):
            continue
        kept.append(hit)
        if len(kept) == k:
            break
    return kept


def ranks_of(order: np.ndarray) -> dict[int, int]:
    """Row -> 1-based rank for a ranking given as rows best first."""
    return {int(row): rank for rank, row in enumerate(order, start=1)}


class HybridRetriever:
    """Searches one loaded index with one query vector and the question's keywords."""

    def __init__(self, data: IndexData, candidates: int = 50, dense_weight: float = 0.5,
                 fusion: str = "weighted"):
        self.data = data
        self.candidates = candidates
        self.dense_weight = dense_weight
        self.fusion = fusion
        self._matrix = data.vector_matrix()
        self._filter_cache: dict[Filters, np.ndarray] = {}

    def search(self, query_vector: np.ndarray | None, question: str, k: int = 10,
               mode: str = "hybrid", filters: Filters | None = None,
               dense_weight: float | None = None, extra_terms: tuple[str, ...] = ()) -> list[Hit]:
        """The best ``k`` passages for the question, best first (``mode``: hybrid/dense/lexical; a
        lexical search needs no query vector)."""
        n = len(self.data.chunks)
        if n == 0:
            return []
        mask = self._allowed(filters)
        if mask is not None and not mask.any():
            return []
        take = min(n, max(self.candidates, k * 3))
        dense_rows, dense_scores = (self._dense(query_vector, take, mask) if mode != "lexical"
                                    else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)))
        lexical_all = (self.data.lexical.scores(question, extra_terms) if mode != "dense"
                       else np.zeros(n, np.float32))
        if mask is not None and mode != "dense":
            lexical_all = np.where(mask, lexical_all, -1.0)
        lexical_rows = _top(lexical_all, take) if mode != "dense" else np.zeros(0, dtype=np.int64)
        lexical_rows = lexical_rows[lexical_all[lexical_rows] > 0]
        dense_rank = ranks_of(dense_rows)
        lexical_rank = ranks_of(lexical_rows)
        if mode == "dense":
            ranked = list(zip(dense_rows.tolist(), dense_scores.tolist()))
        elif mode == "lexical":
            ranked = [(int(r), float(lexical_all[r])) for r in lexical_rows]
        elif self.fusion == "rrf":
            ranked = rrf_fusion([dense_rows.tolist(), lexical_rows.tolist()])
        else:
            rows = np.unique(np.concatenate([dense_rows, lexical_rows]))
            dense = self._matrix[rows] @ query_vector.reshape(-1)
            weight = self.dense_weight if dense_weight is None else dense_weight
            ranked = weighted_fusion(rows, dense, lexical_all[rows], weight)
        chunks = self._chunks([row for row, _ in ranked])
        hits = [Hit(chunk, score, {"dense": dense_rank.get(row, 0), "lexical": lexical_rank.get(row, 0)})
                for chunk, (row, score) in zip(chunks, ranked)]
        return dedupe(hits, k)

    def _chunks(self, rows: list[int]) -> list[Chunk]:
        """The chunks of ``rows`` (read in one go from an index whose records are on disk)."""
        batch = getattr(self.data.chunks, "at", None)
        return batch(rows) if batch else [self.data.chunks[row] for row in rows]

    def dense_scores(self, query_vector: np.ndarray, rows) -> np.ndarray:
        """Cosine of the question to the given chunk rows."""
        return self._matrix[np.asarray(rows, dtype=np.int64)] @ query_vector.reshape(-1)

    def _allowed(self, filters: Filters | None) -> np.ndarray | None:
        """Bool per row: live and admitted by ``filters`` (None: every row)."""
        live = self.data.live
        if not filters:
            return live
        cached = self._filter_cache.get(filters)
        if cached is None:
            snapshot = self.data.snapshot
            if snapshot is not None:
                keys, pairs = snapshot.filter_keys()
                admitted = np.array([filters.admits(_Dated(date, source)) for date, source in pairs], dtype=bool)
                cached = admitted[keys] if len(keys) else np.zeros(0, dtype=bool)
            else:
                cached = np.array([filters.admits(c) for c in self.data.chunks], dtype=bool)
            if live is not None:
                cached = cached & live
            if len(self._filter_cache) > 64:
                self._filter_cache.clear()
            self._filter_cache[filters] = cached
        return cached

    def _dense(self, query_vector: np.ndarray, take: int, mask) -> tuple[np.ndarray, np.ndarray]:
        if mask is not None and int(mask.sum()) <= BRUTE_FORCE_UP_TO:
            admitted = np.flatnonzero(mask)
            scores = np.asarray(self._matrix[admitted] @ query_vector.reshape(-1), dtype=np.float32)
            best = _top(scores, min(take, len(admitted)))
            return admitted[best], scores[best]
        scores, rows = dense.search(self.data.vectors, query_vector, take, mask)
        return rows, scores


@dataclass(frozen=True)
class _Dated:
    """What ``Filters.admits`` reads of a chunk: its date and source."""

    date: str
    source: str

    @property
    def meta(self) -> dict:
        return {"date": self.date, "source": self.source}


def _top(scores: np.ndarray, take: int) -> np.ndarray:
    """Rows of the ``take`` highest scores, best first (ties by row)."""
    take = min(take, scores.size)
    if take <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, take - 1)[:take]
    return part[np.lexsort((part, -scores[part]))].astype(np.int64)
