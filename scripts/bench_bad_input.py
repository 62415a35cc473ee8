"""The slowest inputs of tests/test_bad_input.py, timed through ``Bot.ask`` on the built index.

    .venv/bin/python scripts/bench_bad_input.py [--index index]

Prints each case's seconds (best of 3) and the slowest; docs/benchmarks.md keeps the figures.
"""
import argparse
import time

from bot import Bot
from bot.errors import BotError

SEED = "헬스케어 분야 기업은 몇 곳인가요?"
CASES = {
    "500 characters without spaces": "헬스케어" * 125,
    "400 question marks": "?" * 400,
    "Who is + 100 names": "Who is " + "Kim " * 100,
    "one question 14 times": SEED * 14,
    "decomposed Hangul": "\u1100\u1161" * 250,
    "10,000,000 characters": "가" * 10_000_000,
}
FOLLOW_UPS = ("그럼 자동차 분야는?", "그 회사 대표는?", "언제였어?", "and automotive?")


def timed(call) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        try:
            call()
        except BotError:
            pass
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default="index")
    bot = Bot.load(parser.parse_args().index)
    first = bot.ask(SEED)
    figures = {name: timed(lambda q=q: bot.ask(q)) for name, q in CASES.items()}
    earlier = ("광주 인공지능 기업 협약 헬스케어 자동차 " * 40)[:500]
    english = ("company healthcare AI Gwangju signed agreement " * 20)[:500]
    for follow_up in FOLLOW_UPS:
        for label, question in (("Korean", earlier), ("English", english)):
            figures[f"{follow_up} after a 500-character {label} question"] = timed(
                lambda f=follow_up, q=question: bot.ask(f, history=[(q, first)]))
    for name, seconds in figures.items():
        print(f"{seconds:6.2f} s  {name}")
    print(f"slowest: {max(figures.values()):.2f} s")


if __name__ == "__main__":
    main()
