"""The reader: a multilingual-e5-small encoder fine-tuned for extractive question answering.

Given a question and passages it returns, for each passage, its best answer spans (exact
character offsets into the passage) with scores, and the passage's no-answer score: the model's
start and end logits on the first token (SQuAD 2.0 style). A span's ``margin`` is its score minus
the passage's no-answer score; the answer stage refuses below a threshold chosen on held-out data.
"""
from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..embedding import resolve_precision
from ..errors import ModelNotFound
from ..language import BRACKET_PAIRS
from ..metrics import char_counts, counts_f1
from .data import Example, Window, windows

MAX_LENGTH = 256
STRIDE = 96
MAX_ANSWER_TOKENS = 30
TOP_TOKENS = 20
# The answer shown is chosen among this many best spans of a passage by expected char-F1
# (minimum Bayes risk); 0: the best-scoring span.
MBR_SPANS = 20
_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json")
_SHARED: dict = {}
_SHARED_LOCK = threading.Lock()


@dataclass(frozen=True)
class Span:
    """An answer span in passage ``passage`` (index into the passages read): ``text ==
    passages[passage][start:end]``."""

    passage: int
    start: int
    end: int
    text: str
    score: float
    margin: float


@dataclass(frozen=True)
class Reading:
    """What the reader found in one passage: its spans, best first, and its no-answer score."""

    spans: tuple[Span, ...]
    null_score: float

    @property
    def best(self) -> Span | None:
        return self.spans[0] if self.spans else None


class Reader:
    """A loaded reader; thread-safe."""

    def __init__(self, model_dir: str | Path, precision: str = "auto"):
        model_dir = Path(model_dir)
        missing = [name for name in _REQUIRED if not (model_dir / name).is_file()]
        if missing:
            raise ModelNotFound(f"reader model folder {model_dir} is missing {', '.join(missing)}: "
                                "run `make model` (or `bot build-model`)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        import transformers
        from transformers import AutoTokenizer, BertForQuestionAnswering

        transformers.utils.logging.disable_progress_bar()
        self._torch = torch
        self.model_dir = model_dir
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        self.precision = resolve_precision(precision)
        dtype = torch.bfloat16 if self.precision == "bfloat16" else torch.float32
        self.model = BertForQuestionAnswering.from_pretrained(str(model_dir), local_files_only=True,
                                                              dtype=dtype).eval()
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, model_dir: str | Path, precision: str = "auto") -> "Reader":
        """One reader per folder and precision in a process (bots over several indexes share it)."""
        key = (str(Path(model_dir).resolve()), precision)
        with _SHARED_LOCK:
            if key not in _SHARED:
                _SHARED[key] = cls(model_dir, precision)
            return _SHARED[key]

    @classmethod
    def from_model(cls, model, tokenizer, precision: str = "float32") -> "Reader":
        """A reader around a model in memory (training evaluates through the same decoding)."""
        import torch

        reader = cls.__new__(cls)
        reader._torch, reader.model, reader.tokenizer = torch, model, tokenizer
        reader.model_dir, reader.precision, reader._lock = None, precision, threading.Lock()
        return reader

    def share_embeddings(self, other: "Reader") -> None:
        """Use ``other``'s word embeddings where they are the same tensor's values: readers trained
        from one base with the word embeddings frozen then hold one copy (most of a reader's memory)
        instead of two."""
        torch = self._torch
        mine = self.model.get_input_embeddings()
        theirs = other.model.get_input_embeddings()
        if (mine.weight is not theirs.weight and mine.weight.shape == theirs.weight.shape
                and mine.weight.dtype == theirs.weight.dtype and torch.equal(mine.weight, theirs.weight)):
            mine.weight = theirs.weight

    trim_particles = True  # a number's span takes its unit; trailing particles and endings are cut
    mbr_spans = MBR_SPANS

    def read(self, question: str, passages: list[str], n_best: int = 3) -> list[Reading]:
        """Read every passage for the question in one batch."""
        examples = [Example("q", question, p, -1, "", (), str(i), "") for i, p in enumerate(passages)]
        return self.read_examples(examples, n_best)

    def read_examples(self, examples: list[Example], n_best: int = 3,
                      batch_size: int = 32) -> list[Reading]:
        """One ``Reading`` per example (its question over its passage)."""
        if not examples:
            return []
        feats = windows(self.tokenizer, examples, MAX_LENGTH, STRIDE)
        start_logits, end_logits = self._logits(feats, batch_size)
        per_example: list[list[int]] = [[] for _ in examples]
        for i, w in enumerate(feats):
            per_example[w.example].append(i)
        readings = []
        for n, rows in enumerate(per_example):
            context = examples[n].context
            null = min(float(start_logits[i][0] + end_logits[i][0]) for i in rows)
            found: dict[tuple[int, int], float] = {}
            for i in rows:
                for (a, b), score in _spans(feats[i], start_logits[i], end_logits[i]):
                    if score > found.get((a, b), -1e9):
                        found[(a, b)] = score
            spans = []
            weight: dict[tuple[int, int], float] = {}
            ranked = sorted(found.items(), key=lambda item: -item[1])
            top = ranked[0][1] if ranked else 0.0
            for rank, ((a, b), score) in enumerate(ranked):
                if rank >= max(n_best, self.mbr_spans) and len(spans) >= n_best:
                    break
                a, b = _trimmed(context, a, b)
                a = _word_start(context, a, b)
                if self.trim_particles:
                    b = a + _without_endings(context[a:_with_unit(context, a, b)])
                if b <= a:
                    continue
                if rank < self.mbr_spans:
                    weight[(a, b)] = weight.get((a, b), 0.0) + math.exp(score - top)
                if any(s.start == a and s.end == b for s in spans):
                    continue
                spans.append(Span(n, a, b, context[a:b], score, score - null))
            if len(weight) > 1:
                spans = _least_risk_first(spans, weight)
            readings.append(Reading(tuple(spans[:n_best]), null))
        return readings

    def _logits(self, feats: list[Window], batch_size: int):
        torch = self._torch
        order = sorted(range(len(feats)), key=lambda i: len(feats[i].input_ids))
        starts: list = [None] * len(feats)
        ends: list = [None] * len(feats)
        with self._lock, torch.inference_mode():
            for b in range(0, len(order), batch_size):
                rows = order[b:b + batch_size]
                ids, mask = pad([feats[i].input_ids for i in rows], self.tokenizer.pad_token_id)
                out = self.model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
                s = out.start_logits.float().numpy()
                e = out.end_logits.float().numpy()
                for j, i in enumerate(rows):
                    n = len(feats[i].input_ids)
                    starts[i], ends[i] = s[j, :n], e[j, :n]
        return starts, ends


def _least_risk_first(spans: list[Span], weight: dict[tuple[int, int], float]) -> list[Span]:
    """``spans`` with the one of least expected risk first: the highest expected character-F1
    against the others, each weighted by its probability (``weight``, unnormalised). The first keeps
    the passage's best score and margin: whether to answer is the best span's, which text is this."""
    counts = {s: char_counts(s.text) for s in spans if (s.start, s.end) in weight}

    def expected(span: Span) -> float:
        return sum(weight[(o.start, o.end)] * counts_f1(counts[span], c) for o, c in counts.items())

    chosen = max(counts, key=expected)
    if chosen is spans[0]:
        return spans
    best = spans[0]
    lead = Span(chosen.passage, chosen.start, chosen.end, chosen.text, best.score, best.margin)
    return [lead, *(s for s in spans if s is not chosen)]


def pad(sequences, pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded ids and their attention mask."""
    width = max(len(s) for s in sequences)
    ids = np.full((len(sequences), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for i, s in enumerate(sequences):
        ids[i, :len(s)] = s
        mask[i, :len(s)] = 1
    return ids, mask


def _spans(window: Window, start_logits, end_logits):
    """(char start, char end) and score of the best token spans inside the passage."""
    offsets = window.offsets
    starts = [int(i) for i in np.argsort(-start_logits)[:TOP_TOKENS] if offsets[i] is not None]
    ends = [int(i) for i in np.argsort(-end_logits)[:TOP_TOKENS] if offsets[i] is not None]
    for a in starts:
        for b in ends:
            if b < a or b - a + 1 > MAX_ANSWER_TOKENS:
                continue
            yield (offsets[a][0], offsets[b][1]), float(start_logits[a] + end_logits[b])


# The tokenizer's pieces often hold a word with its particle (시위를, 3명의): the span then ends in
# a particle, a copula or an ending that the answer does not include. Kiwi's tags: particles (J*),
# the copula (VCP), endings (E*) and closing punctuation.
_ENDING_TAGS = ("JKS", "JKC", "JKG", "JKO", "JKB", "JKV", "JKQ", "JX", "JC", "VCP", "EF", "EC", "ETM",
                "ETN", "EP", "SF", "SP")


def _without_endings(text: str) -> int:
    """The length of ``text`` without its trailing particles, copula and the copula's endings
    (Korean). Endings that follow anything but the copula stay: after a verb they are part of the
    word (잠들다, 확실함), after a noun they are Kiwi misreading a name (토바고 as 토바 + 고)."""
    from ..lexical import kiwi

    if not text or not ("가" <= text[-1] <= "힣" or text[-1] in ".,"):
        return len(text)
    run = []
    for token in reversed(kiwi().tokenize(text)):
        if token.tag not in _ENDING_TAGS or token.start == 0:
            break
        run.insert(0, token)
    while run and run[0].tag.startswith("E"):
        run.pop(0)
    end = run[0].start if run else len(text)
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return end if end > 0 else len(text)


def _word_start(text: str, start: int, end: int) -> int:
    """The start of a span that begins inside a word moved to the word's start (the tokenizer's
    piece ``4차`` of ``제4차``, ``머우`` of ``장이머우``)."""
    while 0 < start < end and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    return start


def _with_unit(text: str, start: int, end: int) -> int:
    """The end of a span that stops inside a number's word at the word's end, so that a count
    keeps its counter or unit (``32`` of ``32개사가`` becomes ``32개사가``; its particle is cut
    after)."""
    if end > start and text[end - 1].isdigit():
        while end < len(text) and text[end].isalnum():
            end += 1
    return end


_OPENING_OF = {close: open_ for open_, close in BRACKET_PAIRS.items()}


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without spaces at its ends, nor a bracket or quote at an end whose partner is not
    inside it (the tokenizer's piece ``(214`` gives the span ``(214개사``)."""
    while start < end:
        first = text[start]
        if first.isspace() or (first in BRACKET_PAIRS and BRACKET_PAIRS[first] not in text[start + 1:end]):
            start += 1
        else:
            break
    while end > start:
        last = text[end - 1]
        if last.isspace() or (last in _OPENING_OF and _OPENING_OF[last] not in text[start:end - 1]):
            end -= 1
        else:
            break
    return start, end
