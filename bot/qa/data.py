"""Reading-comprehension data for the reader: SQuAD 1.1 files read in place, the KorQuAD split,
and question/passage pairs turned into model windows with exact character offsets.

KorQuAD 1.0 dev may not be copied or modified (CC BY-ND 2.0 KR), so its split is code:
articles 0-99 in file order train and tune (``TUNE_ARTICLES`` of them tune), 100-139 test.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

KORQUAD_TRAIN = range(0, 90)
KORQUAD_TUNE = range(90, 100)
KORQUAD_TEST = range(100, 140)
# English questions this project wrote over the Korean paragraphs of KorQuAD's training articles
# (``bot train-reader --korquad-english``) and of its tune articles (never trained on: English
# reading of passages the reader has not seen; ``bot eval --korquad --english``). training/README.md.
TRAINING = Path(__file__).resolve().parents[2] / "training"
KORQUAD_EN = TRAINING / "korquad-train-questions-en.jsonl"
KORQUAD_TUNE_EN = TRAINING / "korquad-tune-questions-en.jsonl"
# More of them over the training paragraphs the first file does not use, with questions on a
# paragraph's topic that it does not answer (``bot train-reader --korquad-english-more``).
KORQUAD_EN_MORE = TRAINING / "korquad-more-questions-en.jsonl"
# The same kind over TyDi QA GoldP Korean train passages (``bot train-reader --tydi-english-more``).
TYDI_EN_MORE = TRAINING / "tydi-ko-more-questions-en.jsonl"


@dataclass(frozen=True)
class Example:
    """One question over one passage. ``answer_start`` is -1 when the passage does not answer."""

    qid: str
    question: str
    context: str
    answer_start: int
    answer_text: str
    answers: tuple[str, ...]
    passage_id: str
    language: str


def read_squad(path: str | Path, language: str, articles: range | None = None,
               prefix: str = "") -> list[Example]:
    """Every question of a SQuAD 1.1 file (its first answer as the label), optionally only the
    articles in ``articles`` (file order)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    examples = []
    for a, article in enumerate(data):
        if articles is not None and a not in articles:
            continue
        for p, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                first = qa["answers"][0]
                start, text = int(first["answer_start"]), first["text"]
                if context[start:start + len(text)] != text:
                    continue
                examples.append(Example(
                    qid=qa["id"], question=qa["question"], context=context, answer_start=start,
                    answer_text=text, answers=tuple(dict.fromkeys(x["text"] for x in qa["answers"])),
                    passage_id=f"{prefix}{a}-{p}", language=language))
    return examples


def read_translated(path: str | Path, examples: list[Example], prefix: str = "") -> list[Example]:
    """The questions of ``examples`` asked in English (a JSON-lines file of ``id`` and
    ``question_en``), over the same passages with the same answers; an id not among the examples
    is skipped."""
    by_id = {e.qid: e for e in examples}
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        e = by_id.get(row["id"])
        if e is not None:
            out.append(Example(qid=f"{prefix}{e.qid}", question=row["question_en"], context=e.context,
                               answer_start=e.answer_start, answer_text=e.answer_text, answers=e.answers,
                               passage_id=e.passage_id, language="en"))
    return out


def read_written(path: str | Path, contexts: dict[str, str], language: str, prefix: str = "") -> list[Example]:
    """Questions this project wrote over passages it reads in place: a JSON-lines file of
    ``paragraph_id``, ``question`` and the answer as character offsets (``start``, ``end``) into
    that passage, so that the file copies none of the passage's text. A row whose ``start`` and
    ``end`` are null asks what its passage does not say: an unanswerable pair. ``BadDocument``
    names the line whose passage is unknown or does not hold its offsets."""
    from ..errors import BadDocument

    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        context = contexts.get(row["paragraph_id"])
        if context is not None and row["start"] is None and row["end"] is None:
            out.append(Example(qid=f"{prefix}{n}", question=row["question"], context=context,
                               answer_start=-1, answer_text="", answers=(),
                               passage_id=row["paragraph_id"], language=language))
            continue
        if context is None or row["start"] is None or not 0 <= row["start"] < row["end"] <= len(context):
            raise BadDocument(f"{path}:{n}: no paragraph {row['paragraph_id']} holding "
                              f"characters {row['start']}-{row['end']}")
        text = context[row["start"]:row["end"]]
        out.append(Example(qid=f"{prefix}{n}", question=row["question"], context=context,
                           answer_start=row["start"], answer_text=text, answers=(text,),
                           passage_id=row["paragraph_id"], language=language))
    return out


def unanswerable(example: Example, context: str, passage_id: str) -> Example:
    """The question paired with a passage that does not answer it."""
    return Example(qid=f"{example.qid}#neg-{passage_id}", question=example.question, context=context,
                   answer_start=-1, answer_text="", answers=(), passage_id=passage_id,
                   language=example.language)


def without_answer(example: Example, min_chars: int = 100) -> Example | None:
    """The question over its own passage with the sentences that hold its answer taken out: a
    passage on the question's topic that does not answer it. None when an answer is still in what
    is left, or less than two sentences or ``min_chars`` characters are left."""
    from ..chunking import sentences

    start, end = example.answer_start, example.answer_start + len(example.answer_text)
    kept = [(a, b) for a, b in sentences(example.context) if b <= start or a >= end]
    text = " ".join(example.context[a:b] for a, b in kept)
    if len(kept) < 2 or len(text) < min_chars or any(x and x in text for x in example.answers):
        return None
    return unanswerable(example, text, f"{example.passage_id}-without-answer")


@dataclass(frozen=True)
class Window:
    """A model input: question + one window of a passage. ``offsets[i]`` is the character span of
    token i in the passage (None for question and special tokens); labels are token positions,
    0 (the first token) when the window holds no answer."""

    input_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int] | None, ...]
    start_label: int
    end_label: int
    example: int  # index of the example it came from


def windows(tokenizer, examples: list[Example], max_length: int = 256, stride: int = 96,
            max_question_tokens: int = 64) -> list[Window]:
    """Every window of every example (the HF question-answering preprocessing, kept exact)."""
    questions = [e.question.strip() for e in examples]
    q_ids = tokenizer(questions, add_special_tokens=False)["input_ids"]
    questions = [tokenizer.decode(ids[:max_question_tokens]) if len(ids) > max_question_tokens else q
                 for q, ids in zip(questions, q_ids)]
    encoded = tokenizer(questions, [e.context for e in examples], truncation="only_second",
                        max_length=max_length, stride=stride, return_overflowing_tokens=True,
                        return_offsets_mapping=True)
    out = []
    for i, ids in enumerate(encoded["input_ids"]):
        n = encoded["overflow_to_sample_mapping"][i]
        example = examples[n]
        sequence = encoded.sequence_ids(i)
        offsets = tuple(tuple(o) if s == 1 else None
                        for o, s in zip(encoded["offset_mapping"][i], sequence))
        start_label = end_label = 0
        if example.answer_start >= 0:
            a, b = example.answer_start, example.answer_start + len(example.answer_text)
            inside = [t for t, o in enumerate(offsets) if o is not None and o[1] > o[0]]
            if inside and offsets[inside[0]][0] <= a and offsets[inside[-1]][1] >= b:
                start_label = next(t for t in inside if offsets[t][1] > a)
                end_label = next(t for t in reversed(inside) if offsets[t][0] < b)
        out.append(Window(tuple(ids), offsets, start_label, end_label, n))
    return out
