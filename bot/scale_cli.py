"""``bot bench scale``: argument parsing and printing only (the work is in ``bot.scaling``)."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .settings import Settings


def add_scale_command(kinds) -> None:
    """Add ``bench scale`` to the ``bot bench`` sub-commands."""
    s = kinds.add_parser("scale", help="build, load and search synthetic indexes of N rows",
                         description="build a synthetic index of N rows from real passages (repeated "
                                     "with perturbed vectors), then load it in a fresh process and "
                                     "report build time, disk, memory, cold start, search p50/p95 "
                                     "per mode and dense recall@10 against exact search")
    s.set_defaults(run=_bench_scale)
    s.add_argument("--rows", type=int, nargs="+", required=True, metavar="N", help="index sizes, e.g. 10000 100000 1000000")
    s.add_argument("--index", type=Path, default=argparse.SUPPRESS, help="base index (default: the configured one)")
    s.add_argument("--also", type=Path, nargs="*", default=[], metavar="DIR",
                   help="more base indexes (e.g. one of the KorQuAD paragraphs)")
    s.add_argument("--model", type=Path, default=argparse.SUPPRESS, help="embedding model folder")
    s.add_argument("--work", type=Path, help="folder for the scaled indexes (default: a temporary one)")
    s.add_argument("--keep", action="store_true", help="keep the scaled indexes")
    s.add_argument("--reuse", action="store_true",
                   help="measure an index --keep left in --work again instead of building it (and keep it)")
    s.add_argument("--exact-up-to", type=int, default=None, metavar="N",
                   help="largest index searched exactly (default: bot.dense.EXACT_UP_TO)")
    s.add_argument("--sigma", type=float, default=0.01, help="noise per dimension added to copied vectors")
    s.add_argument("--json", action="store_true", help="print one JSON object per size")


def _bench_scale(args) -> int:
    from . import dense, metrics, scaling
    from .embedding import Embedder
    from .evaluation import load_questions
    from .index import has_index, load_index
    from .model_build import model_fingerprint

    settings = Settings.from_env(index_dir=getattr(args, "index", None), model_dir=getattr(args, "model", None))
    embedder = Embedder(settings.model_dir, settings.embed_precision)
    fingerprint = model_fingerprint(embedder.model_dir)
    sources = [load_index(settings.index_dir, fingerprint)] + [load_index(p, fingerprint) for p in args.also]
    base = scaling.base_of(sources)
    questions = [q.question for q in load_questions()]
    embedder.encode_queries(questions[:4])
    times = []
    vectors = []
    for question in questions:
        started = time.perf_counter()
        vectors.append(embedder.encode_queries([question])[0])
        times.append((time.perf_counter() - started) * 1000.0)
    query_vectors = np.stack(vectors)
    embedding = {"p50_ms": round(metrics.percentile(times, 50), 1), "p95_ms": round(metrics.percentile(times, 95), 1)}
    print(f"base: {len(base.chunks)} passages; {len(questions)} questions; query embedding alone "
          f"p50 {embedding['p50_ms']} ms, p95 {embedding['p95_ms']} ms", file=sys.stderr)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    exact_up_to = dense.EXACT_UP_TO if args.exact_up_to is None else args.exact_up_to
    rows_out = []
    try:
        for rows in args.rows:
            index_dir = work / f"rows-{rows}"
            if args.reuse and has_index(index_dir) and (index_dir / "build.json").is_file():
                built = dict(json.loads((index_dir / "build.json").read_text(encoding="utf-8")), reused=True)
            else:
                shutil.rmtree(index_dir, ignore_errors=True)
                print(f"{rows} rows: building", file=sys.stderr)
                built = scaling.build(index_dir, base, rows, dict(sources[0].manifest), sigma=args.sigma,
                                      exact_up_to=exact_up_to)
                (index_dir / "build.json").write_text(json.dumps(built), encoding="utf-8")
            print(f"{rows} rows: built in {built['build_s']:.1f} s; loading and searching in a fresh process",
                  file=sys.stderr)
            measured = scaling.measure(index_dir, questions, query_vectors)
            row = {"rows": rows, **{k: round(v, 1) if isinstance(v, float) else v for k, v in built.items()},
                   **measured, "query_embedding": embedding}
            rows_out.append(row)
            if args.json:
                print(json.dumps(row, ensure_ascii=False), flush=True)
            else:
                _print_row(row)
            if not (args.keep or args.reuse):  # an index measured again is kept for the next time
                shutil.rmtree(index_dir, ignore_errors=True)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _print_row(row: dict) -> None:
    spec = row["dense_index"]
    kind = spec["type"] if spec["type"] == "flat" else f"ivf nlist={spec['nlist']} nprobe={spec['nprobe']}"
    print(f"| {row['rows']:,} | {kind} | {row['build_s']} s (dense {row['dense_s']}, keyword {row['keyword_s']}, "
          f"records {row['records_s']}) | {row['disk_bytes'] / 2**20:.0f} MiB | {row['rss_mb_after_load']} MiB "
          f"(+{row['rss_mb_for_index']}) | {row['load_s']} s | {row['hybrid_p50_ms']} / {row['hybrid_p95_ms']} | "
          f"{row['dense_p50_ms']} / {row['dense_p95_ms']} | {row['lexical_p50_ms']} / {row['lexical_p95_ms']} | "
          f"{row['dense_recall_at_10']} |", flush=True)
