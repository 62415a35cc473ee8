"""The Korean keyword index: BM25 (bm25s) over kiwipiepy content morphemes.

Particles and endings are dropped; nouns, verb and adjective stems, roots, numbers, foreign words
and Chinese characters are kept; Latin is lowercased and numbers normalised (``1,100만`` and
``1100만`` give the same tokens). Kiwi is loaded once per process.
"""
from __future__ import annotations

import json
import math
import os
import re
import threading
from pathlib import Path

import numpy as np

from .language import FRAME_WORDS, KO_STOP_MORPHEMES

# Content morphemes: nouns (general, proper, bound: counters such as 곳/명/개), numerals, verb and
# adjective stems, roots, foreign words (SL), Chinese characters (SH), numbers (SN).
CONTENT_TAGS = ("NNG", "NNP", "NNB", "NR", "VV", "VA", "XR", "SL", "SH", "SN", "VV-R", "VV-I",
                "VA-R", "VA-I", "MAG")

_kiwi = None
_kiwi_lock = threading.Lock()


def kiwi():
    """The process-wide Kiwi analyser (its model ships with kiwipiepy-model)."""
    global _kiwi
    if _kiwi is None:
        with _kiwi_lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi

                _kiwi = Kiwi(num_workers=max(1, min(os.cpu_count() or 1, 4)))
    return _kiwi


def normalise_number(token: str) -> str:
    """``1,100`` -> ``1100``; ``3.0`` -> ``3``."""
    token = token.replace(",", "")
    if re.fullmatch(r"\d+\.0+", token):
        token = token.split(".")[0]
    return token


def tokens(text: str) -> list[str]:
    """Content morphemes of ``text``, normalised, in order (duplicates kept: BM25 counts them)."""
    return tokens_many([text])[0]


def tokens_many(texts: list[str]) -> list[list[str]]:
    """``tokens`` for many texts at once (Kiwi batches them)."""
    analyser = kiwi()
    with _kiwi_lock:
        results = list(analyser.tokenize(list(texts)))
    return [_content(result) for result in results]


NOUN_TAGS = ("NNG", "NNP", "SL", "SH", "SN", "XR", "NR")


def nouns(text: str) -> list[str]:
    """The nouns, names, foreign words and numbers of ``text`` (normalised like ``tokens``):
    what a passage must mention to be about the same thing as a question."""
    out = []
    for m in kiwi().tokenize(text):
        if m.tag in NOUN_TAGS and m.form not in KO_STOP_MORPHEMES:
            out.append(normalise_number(m.form) if m.tag == "SN" else m.form.lower() if m.tag == "SL" else m.form)
    return out


def _content(morphemes) -> list[str]:
    out: list[str] = []
    for m in morphemes:
        tag = m.tag
        if tag not in CONTENT_TAGS:
            continue
        form = m.form
        if tag == "SN":
            out.append(normalise_number(form))
            continue
        if tag == "SL":
            out.append(form.lower())
            continue
        if tag == "MAG" or form in KO_STOP_MORPHEMES:
            continue
        out.append(form)
    return out


def with_bigrams(sequence: list[str], skip=frozenset()) -> list[str]:
    """The tokens and every pair of neighbouring tokens (``협약_체결``): a question that repeats a
    phrase of its passage scores above one that shares the same words scattered. A pair holding a
    word in ``skip`` is left out."""
    pairs = [f"{a}{BIGRAM_JOIN}{b}" for a, b in zip(sequence, sequence[1:]) if a not in skip and b not in skip]
    return sequence + pairs


# Joins a bigram's two tokens; no token holds it (kiwi splits punctuation off).
BIGRAM_JOIN = "_"
EMPTY_ROW = "\u2400"  # the one token of a row with none (or a removed one): no question holds it
# BM25 parameters chosen on KorQuAD dev (docs/benchmarks.md): a lower length normalisation (b) and
# term saturation (k1) than the textbook 1.2/0.75 suit passages of similar length with bigrams.
BM25_K1, BM25_B = 0.9, 0.4


class LexicalIndex:
    """BM25 over the chunks' content morphemes and their bigrams; row i is chunk i."""

    def __init__(self, retriever, size: int, tokens: list[list[str]] | None = None):
        self._bm25 = retriever
        self.size = size
        # Each row's content tokens (no bigrams) when this index was built here; stored with the
        # chunk records so that an update rebuilds the index without Kiwi.
        self.tokens = tokens

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        """Index passages (already joined with their titles by the caller)."""
        return cls.from_tokens(tokens_many(texts))

    @classmethod
    def from_tokens(cls, rows, live=None, keep: bool = True) -> "LexicalIndex":
        """Index rows given as their content tokens (``tokens`` of each passage); a row that is
        not ``live`` (bool per row) keeps its number but matches nothing. ``rows`` may be an
        iterator (the stored tokens of a large index, read one row at a time); with ``keep``
        false the token lists are not kept on the index, so only their ids are held at once."""
        import gc

        import bm25s
        from bm25s.tokenization import Tokenized

        vocabulary: dict[str, int] = {}
        by_list: dict[int, list[int]] = {}  # a token list repeated by object (a scaled index) is converted once
        empty = [vocabulary.setdefault(EMPTY_ROW, 0)]  # an empty or removed passage keeps its row
        ids, kept = [], []
        collecting = gc.isenabled()
        gc.disable()  # millions of small lists, none in a cycle: the collector would only walk them
        try:
            for i, sequence in enumerate(rows):
                if keep:
                    kept.append(sequence)
                if live is not None and not live[i]:
                    ids.append(empty)
                    continue
                converted = by_list.get(id(sequence)) if keep else None  # ids of freed lists are reused
                if converted is None:
                    converted = [vocabulary.setdefault(t, len(vocabulary)) for t in with_bigrams(sequence)] or empty
                    if keep:
                        by_list[id(sequence)] = converted
                ids.append(converted)
            retriever = bm25s.BM25(k1=BM25_K1, b=BM25_B)
            retriever.index(Tokenized(ids=ids, vocab=vocabulary), show_progress=False)
        finally:
            if collecting:
                gc.enable()
        return cls(retriever, len(ids), kept if keep else None)

    def scores(self, query: str, extra_tokens: tuple[str, ...] = ()) -> np.ndarray:
        """BM25 score of every passage for the question (zeros when no token is known);
        ``extra_tokens`` are added as they are (an English question's Korean terms)."""
        query_tokens = self.query_tokens(query, extra_tokens)
        if not query_tokens:
            return np.zeros(self.size, dtype=np.float32)
        return self._relevance([self._bm25.vocab_dict[t] for t in query_tokens])

    def _relevance(self, token_ids: list[int]) -> np.ndarray:
        """Sum of the stored BM25 scores of the tokens (a repeated token counts again), per row.
        A token's postings name each row once, so a plain indexed add is exact (and much faster at
        a million rows than bm25s's ``np.add.at``)."""
        stored = self._bm25.scores
        data, indices, indptr = stored["data"], stored["indices"], stored["indptr"]
        out = np.zeros(self.size, dtype=np.float32)
        for token in token_ids:
            start, end = int(indptr[token]), int(indptr[token + 1])
            out[indices[start:end]] += data[start:end]
        return out

    def query_tokens(self, query: str, extra_tokens: tuple[str, ...] = ()) -> list[str]:
        """The index tokens a question is scored on (``scores``; the Milvus backend sends the same)."""
        words = tokens(query)
        asked = [t for t in with_bigrams(words, FRAME_WORDS) if t in self._bm25.vocab_dict]
        query_tokens = [t for t in asked if t not in FRAME_WORDS] or asked
        return query_tokens + [t for t in extra_tokens if t in self._bm25.vocab_dict]

    @property
    def vocabulary(self) -> list[str]:
        """Every token of the index (bigrams left out)."""
        return [t for t in self._bm25.vocab_dict if BIGRAM_JOIN not in t]

    def knows(self, token: str) -> bool:
        """Whether any passage has the token."""
        return token in self._bm25.vocab_dict

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of a token over the passages (unknown: the maximum)."""
        index = self._bm25.vocab_dict.get(token)
        indptr = self._bm25.scores["indptr"]
        n = self.size
        df = 0
        if index is not None and index + 1 < len(indptr):
            df = int(indptr[index + 1] - indptr[index])
        return math.log((n - df + 0.5) / (df + 0.5) + 1.0)

    def save(self, folder: str | Path) -> None:
        """Save with bm25s's own numpy/JSON files (never pickle)."""
        folder = Path(folder)
        self._bm25.save(str(folder), allow_pickle=False, show_progress=False)
        (folder / "lexical.json").write_text(json.dumps({"size": self.size}), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path, mmap: bool = False) -> "LexicalIndex":
        """Load what ``save`` wrote (``mmap``: the score arrays stay on disk, paged in as read)."""
        import bm25s

        folder = Path(folder)
        size = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))["size"]
        retriever = bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False, mmap=mmap)
        return cls(retriever, size)
