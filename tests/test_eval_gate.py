"""The quality gate: the bot over the bundled corpus must not fall below eval/baseline.json.

A gated metric (answer_accuracy, citation_accuracy, refusal_recall) may drop by at most one
question's worth. When it fails, the message names the questions that passed in the baseline
and fail now; after a deliberate change, accept a new baseline with `bot eval --write-baseline`.
"""
import pytest

from bot.evaluation import gate, load_baseline, load_questions, run_eval

pytestmark = pytest.mark.slow


def test_the_bundled_corpus_passes_the_gate(corpus_bot):
    run = run_eval(corpus_bot, load_questions())
    failures = gate(run, load_baseline())
    if failures:
        print("\n".join(failures))
        for result in run.results:
            if not result.correct:
                print(f"{result.id}: {result.failure}: {result.question} -> {result.answer}")
    assert failures == [], "\n".join(failures)
