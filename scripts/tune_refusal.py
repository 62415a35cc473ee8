"""Choose the refusal thresholds on the evaluation set (not by guessing).

Runs every question of eval/questions.jsonl with refusal by score switched off, records each
answer's evidence (`Answer.confidence`) and whether it would be right, then searches the grid of
thresholds for the one that gets the most questions right: answerable ones answered correctly plus
unanswerable ones refused. Ties go to the lower threshold (fewer refusals of real questions).

    .venv/bin/python scripts/tune_refusal.py [--index index]
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
    parser.add_argument("--questions", default="eval/questions.jsonl")
    args = parser.parse_args()
    settings = Settings.from_env(index_dir=args.index).with_(
        refusal_threshold=0.0, english_refusal_threshold=0.0, refusal_coverage=0.0, refusal_inside=0.0)
    bot = Bot.load(settings=settings)
    evidence: dict[str, dict] = {}
    ask = bot.ask

    def recording_ask(question, history=()):
        answer = ask(question, history)
        evidence[question] = dict(answer.confidence, lang=answer.language, typed_miss=answer.refused)
        return answer

    bot.ask = recording_ask
    run = run_eval(bot, load_questions(args.questions))
    rows = [(evidence[r.question], r) for r in run.results]
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


if __name__ == "__main__":
    sys.exit(main())
