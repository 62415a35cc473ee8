"""Session 26's answerability calibrator experiment (docs/decisions.md; not in the product).

    python scripts/answerability.py collect SET OUT.jsonl [--index DIR]
        SET: kq_train_en | kq_tune_en | kq_tune_ko (over the KorQuAD index, --korquad-index of
        `bot eval --korquad`, default /tmp/kq_index; each question asked over the whole index and
        without its own article) or a questions file (eval/questions.jsonl, eval/heldout/*.jsonl).
    python scripts/answerability.py report DIR
        fits and prints the figures of docs/benchmarks.md § Session 26 from DIR/f_<set>.jsonl
        (kq_train_en, kq_tune_en, kq_tune_ko, evalko = eval/questions.jsonl,
        evalen = eval/english_dev.jsonl, hnews_en, hrel_en = the held-out English sets).
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KORQUAD = ROOT.parent / "shared/data/korquad1/KorQuAD_v1.0_dev.json"
FEATURES = ["margin", "null", "cos_ans", "cos_top", "rank", "gap", "loglen", "n_pos"]


def _features(bot, rows, query, retrieved, hits):
    from bot.qa.decide import decide

    readings = bot.reader.read(retrieved.reader_question(query.reading), [h.chunk.text for h in hits])
    d = decide(query, hits, readings, float("-inf"), bot._years_of, bot.settings.reader_rank_prior)
    if d.answer is None:
        return d, {}
    cos = bot.retriever.dense_scores(retrieved.vector, [rows[(h.doc_id, h.chunk.start)] for h in hits]).tolist()
    i = next(k for k, h in enumerate(hits) if h is d.answer.hit)
    others = [c.margin for c in d.candidates if c.text != d.answer.text]
    margins = [r.best.margin if r.best else None for r in readings]
    return d, {"margin": d.answer.margin, "null": readings[i].null_score, "cos_ans": cos[i], "cos_top": cos[0],
               "rank": i, "gap": min(d.answer.margin - max(others, default=d.answer.margin - 10), 10.0),
               "loglen": math.log(len(d.answer.text)), "n_pos": sum(1 for m in margins if m is not None and m > 0)}


def collect(which: str, out: str, index: str | None) -> None:
    from bot import metrics
    from bot.service import Bot

    with open(out, "w", encoding="utf-8") as fo:
        def write(**row):
            fo.write(json.dumps(row, ensure_ascii=False) + "\n")

        if which.startswith("kq_"):
            from bot.korquad import OTHER_ARTICLES_DEPTH, load_english_questions, load_korquad, of_articles

            documents, qs = load_korquad(KORQUAD)
            if which == "kq_tune_ko":
                qs = of_articles(qs, range(90, 100))
            else:
                name = {"kq_train_en": "korquad-train-questions-en", "kq_tune_en": "korquad-tune-questions-en"}[which]
                qs = load_english_questions(ROOT / "training" / f"{name}.jsonl", documents)
            bot = Bot.load(index or "/tmp/kq_index")
            rows = {(c.doc_id, c.start): i for i, c in enumerate(bot.data.chunks)}
            s = bot.settings
            for q in qs:
                query = bot.understand(q.question)
                retrieved = bot.retrieval(query, s.top_k)
                d, f = _features(bot, rows, query, retrieved, list(retrieved.hits[:s.read_passages]))
                good = metrics.best_char_f1(d.answer.text if d.answer else "", q.answers) >= 0.5
                write(id=q.qid, lang=query.language, good=good, unans=False, **f)
                deeper = bot.retrieval(query, s.top_k + OTHER_ARTICLES_DEPTH, vector=retrieved.vector)
                article = "-".join(q.paragraph_id.split("-")[:2]) + "-"
                others = [h for h in deeper.hits if not h.doc_id.startswith(article)]
                _, f = _features(bot, rows, query, deeper, others[:s.read_passages])
                write(id=q.qid, lang=query.language, good=False, unans=True, **f)
            return
        from bot.evaluation import load_questions, score_answer
        from bot.qa import compose

        bot = Bot.load(index) if index else Bot.load()
        rows = {(c.doc_id, c.start): i for i, c in enumerate(bot.data.chunks)}
        for q in load_questions(which):
            query = bot.understand(q.question)
            if q.dialog or query.field is not None:
                continue
            retrieved = bot.retrieval(query, bot.settings.top_k)
            d, f = _features(bot, rows, query, retrieved, list(retrieved.hits[:bot.settings.read_passages]))
            good = (not q.unanswerable and d.answer is not None
                    and score_answer(q, compose.answer(query, d, bot.data.documents, float("inf")))[0])
            write(id=q.id, lang=query.language, good=bool(good), unans=bool(q.unanswerable), **f)


def _fit(rows, lam=1.0):
    """L2-regularised logistic regression (Newton steps) on standardised features."""
    X = np.array([[r[n] for n in FEATURES] for r in rows if "margin" in r])
    y = np.array([float(r["good"]) for r in rows if "margin" in r])
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = np.hstack([np.ones((len(X), 1)), (X - mu) / sd])
    w, ridge = np.zeros(Z.shape[1]), lam * np.diag(np.r_[0, np.ones(Z.shape[1] - 1)])
    for _ in range(50):
        p = 1 / (1 + np.exp(-Z @ w))
        w -= np.linalg.solve((Z * (p * (1 - p))[:, None]).T @ Z + ridge, Z.T @ (p - y) + ridge @ w)
    return lambda r: (float(1 / (1 + np.exp(-(w[0] + ((np.array([r[n] for n in FEATURES]) - mu) / sd) @ w[1:]))))
                      if "margin" in r else -1.0)


def _auc(pos, neg):
    pos, neg = np.array(pos)[:, None], np.array(neg)[None, :]
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


def _counts(rows, score, cut):
    answered = [score(r) >= cut for r in rows]
    return {"right": sum((a and r["good"]) or (not a and r["unans"]) for a, r in zip(answered, rows)),
            "answered_right": sum(a and r["good"] for a, r in zip(answered, rows)),
            "unanswerable_refused": f"{sum(not a for a, r in zip(answered, rows) if r['unans'])}"
                                    f" of {sum(r['unans'] for r in rows)}"}


def _most_right(rows, score, grid):
    return max(grid, key=lambda c: (_counts(rows, score, c)["right"], -c))


def report(folder: str) -> None:
    load = lambda name: [json.loads(x) for x in open(Path(folder) / f"f_{name}.jsonl", encoding="utf-8")]  # noqa: E731
    margin = lambda r: r.get("margin", -99.0)  # noqa: E731
    tune, held = load("kq_tune_en"), load("hnews_en") + load("hrel_en")
    checks = {"held-out English": held, "English dev": load("evalen"),
              "evaluation set English": [r for r in load("evalko") if r["lang"] == "en"]}
    calibrated = _fit(load("kq_train_en"))
    cut = _most_right(tune, calibrated, np.arange(0.02, 0.981, 0.01))
    negatives = [r for r in tune if r["unans"]]
    recall_cut = max((c for c in np.arange(0.02, 0.981, 0.01)
                      if np.mean([calibrated(r) < c for r in negatives]) >= 0.9),
                     key=lambda c: (_counts(tune, calibrated, c)["answered_right"], -c))
    print(f"English: calibrator cut {cut:.2f} (recall-bound {recall_cut:.2f}), tune {_counts(tune, calibrated, cut)}")
    print(f"English: margin best cut {_most_right(tune, margin, np.arange(-10, 15.01, 0.25))}, "
          f"tune {_counts(tune, margin, _most_right(tune, margin, np.arange(-10, 15.01, 0.25)))}")
    for name, rows in checks.items():
        print(f"  {name}: margin 6.0 {_counts(rows, margin, 6.0)}; calibrator {_counts(rows, calibrated, cut)}; "
              f"recall-bound {_counts(rows, calibrated, recall_cut)}")
    good, unans = [r for r in held if r["good"]], [r for r in held if r["unans"]]
    print(f"  held-out English AUC right vs unanswerable: calibrator "
          f"{_auc([calibrated(r) for r in good], [calibrated(r) for r in unans]):.3f}, "
          f"margin {_auc([margin(r) for r in good], [margin(r) for r in unans]):.3f}")
    korean_tune = load("kq_tune_ko")
    korean = _fit(korean_tune)
    kcut = _most_right(korean_tune, korean, np.arange(0.02, 0.981, 0.01))
    evaluation = [r for r in load("evalko") if r["lang"] == "ko"]
    print(f"Korean: calibrator tune {_counts(korean_tune, korean, kcut)}, margin 7.0 {_counts(korean_tune, margin, 7.0)}; "
          f"evaluation set: calibrator {_counts(evaluation, korean, kcut)}, margin 7.0 {_counts(evaluation, margin, 7.0)}")


if __name__ == "__main__":
    if sys.argv[1] == "collect":
        collect(sys.argv[2], sys.argv[3], sys.argv[sys.argv.index("--index") + 1] if "--index" in sys.argv else None)
    else:
        report(sys.argv[2])
