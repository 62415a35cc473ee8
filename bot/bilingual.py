"""English questions against Korean passages: English words mapped to the Korean terms of the
keyword index that lie nearest in the multilingual embedding space (``healthcare`` -> ``헬스케어``,
``automotive`` -> ``자동차``), so the keyword side can help English questions too.

Built at ingestion from the keyword index's vocabulary and saved beside it (``glossary/``).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

_HANGUL_TERM = re.compile(r"^[가-힣]{2,}$")


class Glossary:
    """Korean index terms with their (query-side) embeddings."""

    def __init__(self, terms: list[str], vectors: np.ndarray):
        self.terms = terms
        self.vectors = vectors.astype(np.float32)

    @classmethod
    def build(cls, vocabulary, embedder, batch_size: int = 256) -> "Glossary":
        """Embed every Hangul term (two syllables or more) of the keyword index."""
        terms = sorted(t for t in vocabulary if _HANGUL_TERM.match(t))
        vectors = embedder.encode_queries(terms, batch_size=batch_size) if terms else np.zeros((0, 1), np.float32)
        return cls(terms, vectors)

    def translate(self, word_vectors: np.ndarray, threshold: float = 0.88, per_word: int = 2) -> list[str]:
        """Korean terms whose cosine to an English word is at least ``threshold`` (best first)."""
        if not self.terms or word_vectors.size == 0:
            return []
        similarity = word_vectors @ self.vectors.T
        out: list[str] = []
        for row in similarity:
            best = np.argsort(-row)[:per_word]
            out.extend(self.terms[i] for i in best if row[i] >= threshold)
        return list(dict.fromkeys(out))

    def save(self, folder: str | Path) -> None:
        """``terms.json`` and ``vectors.npy`` (float16; never pickle)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "vectors.npy", self.vectors.astype(np.float16), allow_pickle=False)

    @classmethod
    def load(cls, folder: str | Path) -> "Glossary":
        """Load what ``save`` wrote."""
        folder = Path(folder)
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
        return cls(terms, vectors)
