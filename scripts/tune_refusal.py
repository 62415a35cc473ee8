"""Choose the refusal thresholds on the evaluation set (not by guessing).

Runs every question of eval/questions.jsonl with refusal by score switched off, records each
answer's evidence (`Answer.confidence`) and whether it would be right, then searches the grid of
thresholds for the one that gets the most questions right: answerable ones answered correctly plus
unanswerable ones refused. Ties go to the lower threshold (fewer refusals of real questions).

    .venv/bin/python scripts/tune_refusal.py [--index index]

``--english`` chooses only the English threshold, the Korean settings kept, on the English
questions of every ``--questions`` file (the evaluation set has few English unanswerable ones,
eval/english_dev.jsonl adds ten):

    .venv/bin/python scripts/tune_refusal.py --english --questions eval/questions.jsonl \
        --questions eval/english_dev.jsonl
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys

from bot import Bot
from bot.evaluation import load_questions, run_eval
from bot.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default="index")
    parser.add_argument("--questions", action="append", help="a gold question file (repeatable)")
    parser.add_argument("--english", action="store_true", help="choose the English threshold only")
    args = parser.parse_args()
    files = args.questions or ["eval/questions.jsonl"]
    settings = Settings.from_env(index_dir=args.index)
    settings = settings.with_(english_refusal_threshold=0.0) if args.english else settings.with_(
        refusal_threshold=0.0, english_refusal_threshold=0.0, refusal_coverage=0.0, refusal_inside=0.0)
    bot = Bot.load(settings=settings)
    evidence: dict[str, dict] = {}
    ask = bot.ask

    def recording_ask(question, history=()):
        answer = ask(question, history)
        evidence[question] = dict(answer.confidence, lang=answer.language, typed_miss=answer.refused)
        return answer

    bot.ask = recording_ask
    questions = [q for f in files for q in load_questions(f)]
    run = run_eval(bot, questions)
    rows = [(evidence[r.question], r) for r in run.results if r.question in evidence]
    if args.english:
        return _english(rows)
    grid = itertools.product([x / 100 for x in range(70, 101)], [x / 100 for x in range(66, 86)],
                             [x / 20 for x in range(0, 17)], [x / 20 for x in range(0, 11)])
    best = None
    for ko_threshold, en_threshold, coverage, inside in grid:
        right = 0
        for conf, result in rows:
            refuse = conf["typed_miss"] or conf.get("sentence", 0) < (
                en_threshold if conf["lang"] == "en" else ko_threshold) \
                or conf.get("coverage", 1.0) < coverage or conf.get("inside", 1.0) < inside
            right += (refuse if result.unanswerable else (not refuse and result.correct))
        key = (right, -ko_threshold, -coverage, -inside, -en_threshold)
        if best is None or key > best[0]:
            best = (key, ko_threshold, en_threshold, coverage, inside)
    (right, *_), ko_threshold, en_threshold, coverage, inside = best
    print(json.dumps({"questions": len(rows), "right": right, "refusal_threshold": ko_threshold,
                      "english_refusal_threshold": en_threshold, "refusal_coverage": coverage,
                      "refusal_inside": inside}, indent=2))
    return 0


def _english(rows) -> int:
    """The English threshold alone: the sentence score below which an English answer is refused.
    Chosen for the most questions right (as the Korean ones); each threshold's wrong answers
    (answerable ones answered wrongly, unanswerable ones answered) are printed beside it."""
    rows = [(conf, result) for conf, result in rows if conf["lang"] == "en"]
    table = []
    for en_threshold in [x / 100 for x in range(66, 96)]:
        right, wrong, refused_unanswerable, refused_answerable = _tally(rows, en_threshold)
        table.append((right, -en_threshold, wrong, refused_unanswerable, refused_answerable))
    right, threshold, wrong, refused_u, refused_a = max(table)
    # and the share of the question's Korean terms inside the value's clause, at that threshold
    by_inside = {}
    for inside in [x / 20 for x in range(0, 11)]:
        right_i, wrong_i, _, refused_a_i = _tally(rows, -threshold, inside)
        by_inside[f"{inside:.2f}"] = [right_i, wrong_i, refused_a_i]
    print(json.dumps({"english_questions": len(rows),
                      "unanswerable": sum(r.unanswerable for _, r in rows), "right": right,
                      "english_refusal_threshold": -threshold, "wrong": wrong,
                      "unanswerable_refused": refused_u, "answerable_refused": refused_a,
                      "by_threshold (right, wrong, unanswerable refused, answerable refused)":
                          {f"{-t:.2f}": [r, w, u, a] for r, t, w, u, a in sorted(table, key=lambda x: x[1], reverse=True)},
                      "at that threshold, by English inside (right, wrong, answerable refused)": by_inside},
                     indent=1))
    return 0

def _tally(rows, threshold: float, inside: float = 0.0) -> tuple[int, int, int, int]:
    """Questions right, wrong answers, unanswerable refused and answerable refused when an English
    answer is refused below ``threshold`` (sentence score) or ``inside`` (keywords in its clause)."""
    right = wrong = refused_unanswerable = refused_answerable = 0
    for conf, result in rows:
        refuse = conf["typed_miss"] or conf.get("sentence", 0) < threshold or conf.get("inside", 1.0) < inside
        right += (refuse if result.unanswerable else (not refuse and result.correct))
        wrong += not refuse and (result.unanswerable or not result.correct)
        refused_unanswerable += refuse and result.unanswerable
        refused_answerable += refuse and not result.unanswerable
    return right, wrong, refused_unanswerable, refused_answerable


if __name__ == "__main__":
    sys.exit(main())
