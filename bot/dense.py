"""The dense (FAISS) index of passage vectors: exact up to a size, inverted lists beyond it.

The type is chosen by the number of rows when a version is written and recorded in its manifest
(``dense_index``). Exact inner product (``IndexFlatIP``) is rebuilt at load from ``vectors.f32``
(a copy, no file of its own). Beyond ``EXACT_UP_TO`` rows an ``IndexIVFFlat`` (inner product,
``nlist`` lists, ``nprobe`` of them searched) is stored as ``dense-g<generation>.faiss``; it holds
the vectors in its lists, so a search reads exact scores of the rows it visits. Rows that are no
longer live (removed documents) are excluded at search time by a bitmap selector, so a removal
never rewrites this file; an append adds the new rows to it. The figures behind ``EXACT_UP_TO``,
``nlist`` and ``nprobe`` are in docs/benchmarks.md (``bot bench scale``).
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

EXACT_UP_TO = 100_000
LISTS_PER_SQRT_ROW = 4  # nlist = 4 * sqrt(rows), the FAISS guideline for IVF
PROBE_SHARE = 1 / 16  # nprobe = nlist / 16: the share of lists one search visits ...
MIN_PROBES = 256  # ... but never fewer lists than this (all of them if there are fewer)
TRAIN_PER_LIST = 40  # k-means training points per list (FAISS warns below 39)
_FILE = re.compile(r"dense-g(\d+)\.faiss")


def plan(rows: int, exact_up_to: int = EXACT_UP_TO) -> dict:
    """The dense index for an index of ``rows`` rows, as recorded in the manifest."""
    if rows <= exact_up_to:
        return {"type": "flat"}
    nlist = int(2 ** round(math.log2(LISTS_PER_SQRT_ROW * math.sqrt(rows))))
    return {"type": "ivf", "nlist": nlist, "nprobe": min(nlist, max(MIN_PROBES, int(nlist * PROBE_SHARE)))}


def build(matrix: np.ndarray, spec: dict, seed: int = 13):
    """A FAISS index over ``matrix`` (rows of normalised float32 vectors) as ``spec`` says."""
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building uses every core; ``search`` sets one
    dimension = int(matrix.shape[1])
    if spec["type"] == "flat":
        index = faiss.IndexFlatIP(dimension)
        _add(index, matrix)
        return index
    if spec["type"] != "ivf":
        raise ValueError(f"unknown dense index type {spec['type']!r}")
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFFlat(quantizer, dimension, int(spec["nlist"]), faiss.METRIC_INNER_PRODUCT)
    sample = min(len(matrix), TRAIN_PER_LIST * int(spec["nlist"]))
    picks = np.sort(np.random.default_rng(seed).choice(len(matrix), size=sample, replace=False))
    index.train(np.ascontiguousarray(matrix[picks], dtype=np.float32))
    _add(index, matrix)
    index.nprobe = int(spec["nprobe"])
    return index


def stored(spec: dict) -> bool:
    """Whether this type has a file of its own (the exact index is rebuilt from the vectors)."""
    return spec["type"] != "flat"


def file_name(generation: int) -> str:
    return f"dense-g{generation}.faiss"


def newest_file(folder: Path, generation: int) -> Path | None:
    """The dense file of the highest generation not above ``generation`` in ``folder``."""
    best = None
    for path in folder.iterdir():
        match = _FILE.fullmatch(path.name)
        if match and int(match.group(1)) <= generation and (best is None or int(match.group(1)) > best[0]):
            best = (int(match.group(1)), path)
    return best[1] if best else None


def load(folder: Path, spec: dict, matrix: np.ndarray, generation: int):
    """The dense index of a version: the exact one rebuilt from ``matrix``, or the newest stored
    file brought up to ``matrix``'s rows (a writer killed after its commit left it behind)."""
    import faiss

    if not stored(spec):
        return build(matrix, spec)
    path = newest_file(folder, generation)
    if path is None:
        raise FileNotFoundError(f"no {file_name(generation)} in {folder}")
    index = faiss.read_index(str(path))
    if index.ntotal > len(matrix):
        raise ValueError(f"{path.name} holds {index.ntotal} vectors, the records {len(matrix)}")
    _add(index, matrix[index.ntotal:])
    index.nprobe = int(spec.get("nprobe", 1))
    return index


def search(index, query: np.ndarray, take: int, allowed: np.ndarray | None):
    """(scores, rows) of the ``take`` best rows for one query; ``allowed`` (bool per row) limits
    them to live, filtered rows. One query is searched on one thread: OpenMP threads for a single
    query cost more than they save on two busy cores (docs/benchmarks.md, session 13)."""
    import faiss

    faiss.omp_set_num_threads(1)

    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if allowed is None:
        scores, rows = index.search(query, take)
    else:
        bitmap = np.packbits(allowed, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap))
        if isinstance(index, faiss.IndexIVF):
            params = faiss.SearchParametersIVF(sel=selector, nprobe=int(index.nprobe))
        else:
            params = faiss.SearchParameters(sel=selector)
        scores, rows = index.search(query, take, params=params)
    keep = rows[0] >= 0
    return scores[0][keep], rows[0][keep].astype(np.int64)


def _add(index, matrix: np.ndarray, batch: int = 65_536) -> None:
    for start in range(0, len(matrix), batch):
        index.add(np.ascontiguousarray(matrix[start:start + batch], dtype=np.float32))
