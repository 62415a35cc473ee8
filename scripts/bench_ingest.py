"""Where a cold ingestion's time goes, stage by stage, in wall and CPU seconds.

    .venv/bin/python scripts/bench_ingest.py [--corpus corpus] [--sample N] [--batch-sizes 16 32]

CPU seconds (this process, all threads) are printed beside wall seconds because the machine is
often shared: when wall time is far above CPU time / cores, other work took the cores and the
wall figures are contended. ``bot ingest`` times the shipped pipeline itself (chunks/s and the
same stages); this script takes the stages apart and compares embedding batch sizes.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.bilingual import Glossary  # noqa: E402
from bot.chunking import split_all  # noqa: E402
from bot.documents import load_corpus  # noqa: E402
from bot.embedding import Embedder  # noqa: E402
from bot.index import passage_text  # noqa: E402
from bot.lexical import LexicalIndex  # noqa: E402
from bot.settings import Settings  # noqa: E402


@contextmanager
def timed(label: str, count: int | None = None, unit: str = ""):
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rate = f", {count / wall:.1f} {unit}/s" if count else ""
    print(f"{label}: {wall:.1f} s wall, {cpu:.1f} s CPU{rate}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--sample", type=int, default=None, help="embed only N passages (seeded sample)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None,
                        help="embedding batch sizes to compare (default: the setting)")
    args = parser.parse_args()
    settings = Settings.from_env()
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")

    with timed("reading + chunking"):
        documents, _ = load_corpus(args.corpus)
        chunks = split_all(documents, settings.chunk_size, settings.chunk_overlap)
        texts = [passage_text(c) for c in chunks]
    print(f"  {len(documents)} documents, {len(chunks)} passages")
    with timed("loading the model"):
        embedder = Embedder(settings.model_dir, settings.embed_precision)
    print(f"  precision {embedder.precision}")
    sample = texts if args.sample is None else random.Random(13).sample(texts, min(args.sample, len(texts)))
    for batch_size in args.batch_sizes or [settings.embed_batch_size]:
        with timed(f"embedding {len(sample)} passages, batch {batch_size}", len(sample), "passages"):
            embedder.encode_passages(sample, batch_size=batch_size)
    with timed("keyword index (Kiwi once per passage + BM25)", len(texts), "passages"):
        lexical = LexicalIndex.build(texts)
    with timed("glossary, cold"):
        glossary = Glossary.build(lexical.vocabulary, embedder)
    print(f"  {len(glossary.terms)} terms embedded")
    with timed("glossary, rebuilt from the previous one"):
        Glossary.build(lexical.vocabulary, embedder, reuse=glossary)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
