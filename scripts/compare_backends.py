"""The local and the Milvus backend over the evaluation questions: does the top-5 agree, how fast.

    .venv/bin/python scripts/compare_backends.py [--index index] [--questions eval/questions.jsonl]
                                                 [--uri http://127.0.0.1:19530]

Without ``--uri`` a Milvus Lite server is started on 127.0.0.1 in a temporary folder (and stopped).
Each question is asked through ``Bot.search`` (k=5) of two bots over the same index, one per
backend; a question agrees when both return the same (doc_id, chunk row) in the same order.
Search ms is the time spent in ``retriever.search`` per question (the embedding is left out).
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import Bot  # noqa: E402
from bot.embedding import Embedder  # noqa: E402
from bot.milvus_backend import lite_server  # noqa: E402
from bot.settings import Settings  # noqa: E402


def timed(bot: Bot) -> list[float]:
    """Record the milliseconds of every ``bot.retriever.search`` call into the returned list."""
    spent: list[float] = []
    search = bot.retriever.search

    def timed_search(*args, **kwargs):
        started = time.perf_counter()
        try:
            return search(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - started) * 1000)

    bot.retriever.search = timed_search
    return spent


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def compare(index: Path, questions: list[dict], uri: str) -> dict:
    settings = Settings.from_env(index_dir=index)
    embedder = Embedder(settings.model_dir, settings.embed_precision)
    started = time.perf_counter()
    bots = {"local": Bot.load(index, settings.with_(index_backend="local"), embedder),
            "milvus": Bot.load(index, settings.with_(index_backend="milvus", milvus_uri=uri), embedder)}
    load_seconds = time.perf_counter() - started
    spent = {name: timed(bot) for name, bot in bots.items()}
    per_question = {name: [] for name in bots}
    agree, differing = 0, []
    for item in questions:
        tops = {}
        for name, bot in bots.items():
            before = len(spent[name])
            hits = bot.search(item["question"], k=5)
            per_question[name].append(sum(spent[name][before:]))
            tops[name] = [(h.doc_id, h.chunk.chunk_id) for h in hits]
        if tops["local"] == tops["milvus"]:
            agree += 1
        else:
            differing.append({"id": item.get("id"), "question": item["question"], **tops})
    return {"questions": len(questions), "agree": agree, "share": agree / len(questions),
            "ms": {name: {"p50": statistics.median(v), "p95": percentile(v, 0.95)} for name, v in per_question.items()},
            "load_seconds": load_seconds, "differing": differing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("--uri", help="a running Milvus server; default: start Milvus Lite")
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.uri:
        result = compare(args.index, questions, args.uri)
    else:
        with tempfile.TemporaryDirectory() as folder, lite_server(folder) as uri:
            result = compare(args.index, questions, uri)
    print(f"top-5 agree on {result['agree']} of {result['questions']} questions ({result['share']:.1%})")
    for name, ms in result["ms"].items():
        print(f"{name:>6}: search p50 {ms['p50']:.1f} ms, p95 {ms['p95']:.1f} ms")
    print(f"both bots loaded (the Milvus collection synced) in {result['load_seconds']:.1f} s")
    for case in result["differing"]:
        print(json.dumps(case, ensure_ascii=False))


if __name__ == "__main__":
    main()
