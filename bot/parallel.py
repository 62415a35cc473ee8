"""Parallel ingestion with Dask: the workers of a cluster embed, the client does the rest.

``bot ingest --workers N`` starts a local cluster of N worker processes; ``--scheduler
tcp://host:port`` uses a running one (``dask scheduler`` and ``dask worker`` processes, on this
machine or others). The client reads and chunks the documents, sends the passage texts to the
workers in blocks, builds the keyword index while they work, and writes the index with the same
``write_index`` as a single-process run. Each worker process loads the embedding model once, from
``model_dir``: a path every worker must be able to read. Only texts and float32 arrays cross the
wire (the scheduler's msgpack and cloudpickle; nothing is written to disk as a pickle).
"""
from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .embedding import Embedder, resolve_precision
from .errors import ClusterUnavailable

# The models loaded in this worker process, by (folder, precision): loaded by the first block.
_MODELS: dict[tuple[str, str], Embedder] = {}
_MODELS_LOCK = threading.Lock()


def encode_block(model_dir: str, precision: str, threads: int | None, kind: str,
                 texts: list[str], batch_size: int) -> np.ndarray:
    """Runs on a worker: normalised float32 vectors of ``texts`` (``kind`` is ``passage`` or
    ``query``), with the model this process loaded once."""
    key = (model_dir, precision)
    with _MODELS_LOCK:
        embedder = _MODELS.get(key)
        if embedder is None:
            embedder = _MODELS[key] = Embedder(model_dir, precision)
        if threads:
            import torch

            torch.set_num_threads(threads)
    if kind == "query":
        return embedder.encode_queries(texts, batch_size=batch_size)
    return embedder.encode_passages(texts, batch_size=batch_size)


class ClusterEmbedder:
    """``Embedder``'s ``encode_passages``/``encode_queries``, computed by a Dask cluster's workers.

    The precision is resolved here, on the client, and sent with every block, so that all the
    vectors of one index are computed alike whatever CPU each worker has.
    """

    def __init__(self, client, model_dir: str | Path, precision: str = "auto",
                 threads: int | None = None, batches_per_block: int = 8):
        self.client = client
        self.model_dir = str(Path(model_dir).resolve())
        self.precision = resolve_precision(precision)
        self.threads = threads
        self.batches_per_block = batches_per_block

    def encode_passages(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Normalised float32 vectors of passages, row i = ``texts[i]``."""
        return self._encode("passage", texts, batch_size, progress)

    def encode_queries(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Normalised float32 vectors of questions or terms, row i = ``texts[i]``."""
        return self._encode("query", texts, batch_size, False)

    def _encode(self, kind: str, texts, batch_size: int, progress: bool) -> np.ndarray:
        texts = list(texts)
        # Longest first, as the model batches them itself: a block's batches pad little, and its
        # batch boundaries are the ones a single process would draw.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        size = batch_size * self.batches_per_block
        blocks = [order[i:i + size] for i in range(0, len(order), size)] or [[]]
        futures = [self.client.submit(encode_block, self.model_dir, self.precision, self.threads, kind,
                                      [texts[i] for i in block], batch_size, pure=False)
                   for block in blocks]
        if progress:
            from distributed import as_completed
            from tqdm import tqdm

            for _ in tqdm(as_completed(futures), total=len(futures), unit="block", desc="embedding"):
                pass
        results = self.client.gather(futures)
        vectors = np.empty((len(texts), results[0].shape[1]), dtype=np.float32)
        for block, block_vectors in zip(blocks, results):
            vectors[block] = block_vectors
        return vectors


@contextmanager
def cluster_embedder(model_dir: str | Path, precision: str = "auto", workers: int | None = None,
                     scheduler: str | None = None, connect_seconds: float = 30.0):
    """A ``ClusterEmbedder`` on a local cluster of ``workers`` processes (closed after), or on the
    running cluster whose scheduler is at ``scheduler``. ``ClusterUnavailable`` when it cannot be
    reached or has no worker."""
    from distributed import Client, LocalCluster

    if (workers is None) == (scheduler is None):
        raise ValueError("give either workers or scheduler")
    cluster = None
    try:
        if workers is not None:
            if workers < 1:
                raise ClusterUnavailable(f"--workers must be at least 1 (got {workers})")
            # Errors only: closing logs a warning for every worker that takes its time to exit.
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
            threads = max(1, (os.cpu_count() or 1) // workers)  # the cores shared, not oversubscribed
        else:
            client = Client(scheduler, timeout=f"{connect_seconds}s")
            threads = None  # each worker's default: its machine's cores, up to 4
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {scheduler or 'the local cluster'}: "
                                 f"{exc} (start one with `dask scheduler` and `dask worker <address>`)") from None
    try:
        try:
            client.wait_for_workers(1, timeout=connect_seconds)
        except (OSError, TimeoutError):
            raise ClusterUnavailable(f"the Dask scheduler at {scheduler} has no worker after "
                                     f"{connect_seconds:.0f} s: start one with `dask worker {scheduler}`") from None
        yield ClusterEmbedder(client, model_dir, precision, threads)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
