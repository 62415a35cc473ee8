"""Evaluation metrics: pure functions, the one implementation behind ``bot eval`` and ``bot bench``.

Ranks are 1-based positions of the gold document in a ranked list (``None`` when it is absent).
An empty input gives 0.0 for every rate, so a metric over no questions never raises.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from typing import Iterable, Sequence

# Quotes and brackets Korean text uses (KorQuAD's evaluation script blanks the same family), and
# separators that stand between two words: these become a space, so "서울·부산" is two tokens.
_SEPARATORS = re.compile(r"[\"'‘’“”《》〈〉<>「」『』【】()\[\]{}·・/|~…]")


def gold_rank(doc_ids: Iterable[str], gold_doc: str | None) -> int | None:
    """1-based position of the first ``gold_doc`` in ``doc_ids`` (a ranked list), else None."""
    if gold_doc is None:
        return None
    for rank, doc_id in enumerate(doc_ids, start=1):
        if doc_id == gold_doc:
            return rank
    return None


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of queries whose gold item is ranked within the first ``k``."""
    if not ranks:
        return 0.0
    return sum(1 for rank in ranks if rank is not None and rank <= k) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float:
    """Mean reciprocal rank: mean of 1/rank, counting an absent gold item as 0."""
    if not ranks:
        return 0.0
    return sum(1.0 / rank for rank in ranks if rank) / len(ranks)


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100.0
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def normalise_answer(text: str) -> str:
    """Answer text for comparison: NFKC, lower case, quotes/brackets to spaces, punctuation dropped.

    Punctuation inside a token is dropped rather than split on, so ``1,000`` equals ``1000``;
    Hangul, digits and letters are never touched, and runs of whitespace become one space.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = _SEPARATORS.sub(" ", text)
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    return " ".join(text.split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """True when some gold answer occurs in ``text`` (both normalised; an empty gold never counts).

    A match may not run into a longer number or Latin word: ``8`` is not in ``28곳``, ``1`` is
    not in ``2018년``, ``ai`` is not in ``gain``. Hangul needs no such edge, because particles
    attach to the word (``8개사``, ``전창호 대표``).
    """
    haystack = normalise_answer(text)
    return any(gold and _occurs(gold, haystack) for gold in map(normalise_answer, answers))


def _occurs(gold: str, text: str) -> bool:
    start = text.find(gold)
    while start != -1:
        end = start + len(gold)
        if not (_joins(text[start - 1:start], gold[0]) or _joins(text[end:end + 1], gold[-1])):
            return True
        start = text.find(gold, start + 1)
    return False


def _joins(neighbour: str, edge: str) -> bool:
    """True when ``neighbour`` would continue the number or Latin word that ``edge`` ends."""
    if not neighbour:
        return False
    if edge.isdigit():
        return neighbour.isdigit()
    latin = str.isascii
    return latin(edge) and edge.isalpha() and latin(neighbour) and neighbour.isalpha()


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD-style F1 over whitespace tokens of the normalised strings."""
    return counts_f1(Counter(normalise_answer(prediction).split()), Counter(normalise_answer(gold).split()))


def best_f1(prediction: str, answers: Iterable[str]) -> float:
    """The best token-F1 of ``prediction`` against any of the gold answers (0.0 with none)."""
    return max((token_f1(prediction, gold) for gold in answers), default=0.0)


def char_f1(prediction: str, gold: str) -> float:
    """KorQuAD's F1: over the characters of the normalised strings with spaces removed."""
    return counts_f1(char_counts(prediction), char_counts(gold))


def char_counts(text: str) -> Counter:
    """The characters of the normalised text without spaces, counted (what ``char_f1`` compares;
    computed once when one text is compared with many)."""
    return Counter(normalise_answer(text).replace(" ", ""))


def counts_f1(predicted: Counter, expected: Counter) -> float:
    """F1 of the multiset overlap of two counted sequences of units (tokens, or characters:
    ``char_counts``)."""
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((predicted & expected).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(predicted.values()), common / sum(expected.values())
    return 2 * precision * recall / (precision + recall)


def best_char_f1(prediction: str, answers: Iterable[str]) -> float:
    """The best character-F1 against any gold answer (0.0 with none)."""
    return max((char_f1(prediction, gold) for gold in answers), default=0.0)


def exact_match(prediction: str, answers: Iterable[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer (spaces ignored)."""
    predicted = normalise_answer(prediction).replace(" ", "")
    return float(bool(predicted) and any(predicted == normalise_answer(g).replace(" ", "") for g in answers))


def refusal_precision_recall(refused: Sequence[bool], unanswerable: Sequence[bool]) -> tuple[float, float]:
    """(precision, recall) of refusing, taking "unanswerable" as the positive class.

    Precision is 0.0 when nothing was refused and recall 0.0 when nothing was unanswerable.
    """
    if len(refused) != len(unanswerable):
        raise ValueError(f"{len(refused)} refusal flags for {len(unanswerable)} questions")
    hits = sum(1 for r, u in zip(refused, unanswerable) if r and u)
    n_refused, n_unanswerable = sum(map(bool, refused)), sum(map(bool, unanswerable))
    precision = hits / n_refused if n_refused else 0.0
    recall = hits / n_unanswerable if n_unanswerable else 0.0
    return precision, recall


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean, 0.0 for no values."""
    values = list(values)
    return sum(values) / len(values) if values else 0.0
