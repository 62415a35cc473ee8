"""``bot eval`` and ``bot bench retrieval``: argument parsing and printing only.

Registered into ``bot.cli`` by ``register(sub, command)``. Results go to stdout (``--json``: one
JSON object and nothing else); progress goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .evaluation import BASELINE_FILE, ENGLISH_DEV_FILES, METRIC_KEYS, QUESTIONS_FILE, REPORTS_DIR
from .settings import ROOT, Settings

KORQUAD_FILE = ROOT.parent / "shared" / "data" / "korquad1" / "KorQuAD_v1.0_dev.json"
# Measured on the 2-core build machine (shared, load 4-6): 4.1-4.9 s per KorQuAD question (ask +
# search), so all 5,774 would take 6-8 hours and even an idle machine (~0.4 s) needs ~40 min.
# `bot eval --korquad` therefore asks a fixed seeded sample (bot.korquad.SAMPLE_SEED) of 200
# questions, about 15 minutes at the measured rate; --sample N changes it, --sample 0 asks all.
KORQUAD_SAMPLE = 200
PROVISIONAL = ("provisional: written while answering is still being improved; rewrite with "
               "`bot eval --write-baseline` when a better run is accepted")


def register(sub, command) -> None:
    """Add ``eval`` and ``bench`` to the ``bot`` parser (``command`` adds --index and --model)."""
    p = command("eval", _eval, "ask the gold questions, score answers, citations, retrieval and refusals")
    p.add_argument("questions", nargs="?", type=Path, default=QUESTIONS_FILE,
                   help="question file (default: eval/questions.jsonl)")
    p.add_argument("--save", type=Path, metavar="FILE",
                   help="save the run as JSON and append its metrics to eval/reports/history.jsonl")
    p.add_argument("--compare", type=Path, metavar="FILE", help="a saved run to compare with")
    p.add_argument("--json", action="store_true", help="print only the metrics, as one JSON object")
    p.add_argument("--gate", action="store_true", help="exit 1 when a gated metric regressed from the baseline")
    p.add_argument("--baseline", type=Path, default=BASELINE_FILE, metavar="FILE",
                   help="baseline file (default: eval/baseline.json)")
    p.add_argument("--write-baseline", action="store_true", help="accept this run as the new baseline")
    p.add_argument("--report", action="store_true",
                   help="write eval/reports/latest.md and eval/reports/metrics.png")
    p.add_argument("--korquad", type=Path, metavar="PATH", nargs="?", const=KORQUAD_FILE,
                   help="evaluate on KorQuAD 1.0 (read in place) instead of the question file")
    p.add_argument("--articles", choices=("all", "test", "tune"), default="all",
                   help="KorQuAD: ask the questions of all articles, of the test articles 100-139 only, or "
                        "of the reader's tuning articles 90-99 (retrieval still over all 964 paragraphs)")
    p.add_argument("--english", action="store_true",
                   help="KorQuAD: ask the project's English questions over the Korean paragraphs "
                        "(training/korquad-tune-questions-en.jsonl) instead of KorQuAD's own; with "
                        "--choose-threshold, the English threshold")
    p.add_argument("--gold-paragraph", action="store_true",
                   help="KorQuAD: the reader alone on each question's gold paragraph (EM, character-F1)")
    p.add_argument("--choose-threshold", action="store_true",
                   help="reader: choose the no-answer threshold. With --korquad, in the open-domain "
                        "setting (each question over the whole index, and over the index without its "
                        "own article): the Korean one, or with --english the English one; without "
                        "--korquad, the English one over the English questions of "
                        f"{', '.join(f.name for f in ENGLISH_DEV_FILES)}")
    p.add_argument("--korquad-index", type=Path, metavar="DIR",
                   help="KorQuAD: keep the paragraphs' index here and reuse it when it exists")
    p.add_argument("--keep-particles", action="store_true",
                   help="KorQuAD: do not cut trailing particles and endings from the reader's spans")
    p.add_argument("--sample", type=int, metavar="N",
                   help=f"KorQuAD: ask a fixed seeded sample of N questions (default {KORQUAD_SAMPLE}; 0 = all)")

    p = command("bench", _bench_usage, "benchmarks (see `bot bench retrieval -h`)")
    kinds = p.add_subparsers(dest="bench")
    r = kinds.add_parser("retrieval", help="recall@k, MRR and latency of dense, lexical and hybrid search",
                         description="recall@1/3/5/10, MRR and latency of dense, lexical and hybrid "
                                     "search, the index build time and the query embedding alone")
    r.set_defaults(run=_bench_retrieval)
    r.add_argument("--korquad", type=Path, metavar="PATH", nargs="?", const=KORQUAD_FILE,
                   help="KorQuAD 1.0 file: its 964 paragraphs go into a temporary index")
    r.add_argument("--eval", type=Path, metavar="QUESTIONS", nargs="?", const=QUESTIONS_FILE,
                   help="gold question file (the default when --korquad is not given)")
    r.add_argument("--index", type=Path, default=argparse.SUPPRESS,
                   help="existing index for --eval (default: build corpus/ into a temporary index, timed)")
    r.add_argument("--model", type=Path, default=argparse.SUPPRESS, help="embedding model folder")
    r.add_argument("--sample", type=int, metavar="N", help="KorQuAD: a fixed seeded sample of N questions")
    r.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    from .scale_cli import add_scale_command

    add_scale_command(kinds)


def _settings(args) -> Settings:
    return Settings.from_env(index_dir=getattr(args, "index", None), model_dir=getattr(args, "model", None))


def _progress(label: str):
    """A progress callback writing ``label n/total`` to stderr (in place on a terminal)."""
    tty = sys.stderr.isatty()

    def report(number: int, total: int, *_ignored) -> None:
        if tty:
            print(f"\r{label} {number}/{total}", end="\n" if number == total else "", file=sys.stderr, flush=True)
        elif number == total or number % 50 == 0:
            print(f"{label} {number}/{total}", file=sys.stderr, flush=True)
    return report


def _commit() -> str:
    """Short commit of the working tree (read-only), or '' outside git."""
    try:
        done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _choose_english_threshold(settings: Settings) -> int:
    """The reader's English threshold: over the development sets' English questions, the one that
    answers most of them right while refusing at least 90 % of the unanswerable ones."""
    from . import Bot
    from .evaluation import load_questions, reader_margins
    from .qa.train import threshold_for_recall

    bot = Bot.load(settings=settings)
    questions = [q for path in ENGLISH_DEV_FILES for q in load_questions(path)]
    print(json.dumps(threshold_for_recall(*reader_margins(bot, questions, "en"))))
    return 0


def _eval(args) -> int:
    from . import Bot
    from .eval_report import HISTORY_FILE, append_history, write_report
    from .evaluation import compare_runs, gate, load_baseline, load_questions, load_run, run_eval, save_run, write_baseline

    settings = _settings(args)
    if args.korquad:
        return _eval_korquad(args, settings)
    if args.choose_threshold:
        return _choose_english_threshold(settings)
    questions = load_questions(args.questions)
    bot = Bot.load(settings=settings)
    run = run_eval(bot, questions, on_progress=_progress("asked"))
    run.info.update(questions_file=str(args.questions), commit=_commit())
    comparison = compare_runs(load_run(args.compare), run) if args.compare else None
    if args.save:
        save_run(run, args.save)
        append_history(run, HISTORY_FILE, label=run.info["commit"])
        print(f"saved {args.save}; appended to {HISTORY_FILE}", file=sys.stderr)
    if args.write_baseline:
        write_baseline(run, args.baseline, note=PROVISIONAL)
        print(f"wrote baseline {args.baseline}", file=sys.stderr)
    baseline = None
    if args.gate:
        baseline = load_baseline(args.baseline)
    elif args.report and Path(args.baseline).is_file():
        baseline = load_baseline(args.baseline)
    failures = gate(run, baseline) if args.gate else None
    if args.report:
        paths = write_report(run, REPORTS_DIR, baseline=baseline, gate_failures=failures, comparison=comparison)
        print("wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)
    if args.json:
        print(json.dumps({key: run.metrics[key] for key in METRIC_KEYS}))
    else:
        _print_run(run, comparison)
    for message in failures or ():
        print(f"gate: {message}", file=sys.stderr if args.json else sys.stdout)
    if failures:
        return 1
    if args.gate and not args.json:
        print("gate: pass")
    return 0


def _print_run(run, comparison) -> None:
    print(f"{'id':<10} {'ok':<2} {'rank':>9}  {'answer':<42} {'ms':>7}  why")
    for r in run.results:
        rank = f"{r.citation_rank or '-'}/{r.search_rank or '-'}" if not r.unanswerable else "n/a"
        answer = r.answer.replace("\n", " ")
        answer = answer if len(answer) <= 40 else answer[:39] + "…"
        print(f"{r.id:<10} {'ok' if r.correct else '✗':<2} {rank:>9}  {answer:<42} {r.latency_ms:>7.0f}  "
              f"{r.failure or ''}")
    print("(rank: gold document among citations / among the top 10 search hits)\n")
    for key in METRIC_KEYS:
        print(f"{key:<18} {run.metrics[key]}")
    if comparison is not None:
        print("\nchanges against the compared run:")
        for key, delta in comparison.deltas.items():
            if delta:
                print(f"  {key:<18} {delta:+.4f}")
        for qid, old, new in comparison.changed:
            print(f"  {qid:<10} {old} -> {new}")
        if not comparison.changed:
            print("  no question changed outcome")


def _eval_korquad(args, settings: Settings) -> int:
    from .embedding import Embedder
    from .korquad import build_bot, load_korquad, run_korquad, sample_questions

    from .korquad import load_english_questions, of_articles, run_gold
    from .qa.data import KORQUAD_TEST, KORQUAD_TUNE, KORQUAD_TUNE_EN

    documents, questions = load_korquad(args.korquad)
    if args.english:
        if args.articles == "test":
            raise SystemExit("bot eval: --english asks the tune articles' questions (--articles tune); "
                             "the test articles have no English questions")
        questions = load_english_questions(KORQUAD_TUNE_EN, documents)
    if args.articles != "all":
        questions = of_articles(questions, KORQUAD_TEST if args.articles == "test" else KORQUAD_TUNE)
        n = args.sample or None  # all their questions unless --sample N
    else:
        n = KORQUAD_SAMPLE if args.sample is None else (args.sample or None)
    chosen = sample_questions(questions, n)
    if args.gold_paragraph:
        from .qa.reader import Reader

        english = args.english and settings.reader_en_dir is not None
        reader = Reader(settings.reader_en_dir if english else settings.reader_dir, settings.reader_precision)
        reader.trim_particles = not args.keep_particles
        result = run_gold(reader, chosen, documents)
        print(json.dumps(result) if args.json else
              "\n".join(f"{key:<24} {value}" for key, value in result.items()))
        return 0
    embedder = Embedder(settings.model_dir, settings.embed_precision)
    from .index import has_index
    from .korquad import open_domain_threshold

    def ask(bot) -> dict:
        if args.choose_threshold:
            return open_domain_threshold(bot, chosen)
        return run_korquad(bot, chosen, on_progress=_progress("asked"))

    if args.korquad_index and has_index(args.korquad_index):
        from . import Bot

        bot = Bot.load(args.korquad_index, settings=settings, embedder=embedder)
        result = ask(bot)
        built = {"index_chunks": bot.data.live_count, "index_seconds": None}
    else:
        with tempfile.TemporaryDirectory(prefix="korquad-index-") as folder:
            target = args.korquad_index or Path(folder) / "index"
            print(f"indexing {len(documents)} KorQuAD paragraphs", file=sys.stderr)
            bot, report = build_bot(documents, target, embedder, settings)
            result = ask(bot)
        built = {"index_chunks": report.chunks, "index_seconds": round(report.seconds, 1)}
    if args.choose_threshold:
        print(json.dumps(result))
        return 0
    result = {"questions_in_file": len(questions), "paragraphs": len(documents), **result, **built}
    if args.json:
        print(json.dumps(result))
        return 0
    sampled = f"sample of {len(chosen)} (seeded)" if len(chosen) < len(questions) else "all questions"
    print(f"KorQuAD 1.0 dev: {len(documents)} paragraphs ({result['index_chunks']} passages), "
          f"{len(questions)} questions, {sampled}")
    for key, value in result.items():
        if key != "by_type":
            print(f"{key:<24} {value}")
    print("\nby question type (the bot's reading of the question):")
    print(f"{'type':<14} {'questions':>9} {'contained':>9} {'token_f1':>8} {'refused':>8} {'R@1':>6}")
    for kind, row in result["by_type"].items():
        print(f"{kind:<14} {row['questions']:>9} {row['answer_containment']:>9.3f} {row['token_f1']:>8.3f} "
              f"{row['refused']:>8.3f} {row['gold_paragraph_first']:>6.3f}")
    return 0


def _bench_usage(args) -> int:
    print("usage: bot bench retrieval [--korquad PATH] [--eval QUESTIONS] [--index DIR] "
          "[--sample N] [--json]\n       bot bench scale --rows N [N ...] [--index DIR] [--also DIR ...]",
          file=sys.stderr)
    return 2


def _bench_retrieval(args) -> int:
    from . import Bot
    from .documents import load_corpus
    from .embedding import Embedder
    from .evaluation import bench_query_embedding, bench_retrieval, load_questions, retrieval_queries
    from .ingest import ingest_documents
    from .korquad import load_korquad, sample_questions
    from .model_build import model_fingerprint

    settings = _settings(args)
    embedder = Embedder(settings.model_dir, settings.embed_precision)
    fingerprint = model_fingerprint(embedder.model_dir)
    suites = {}
    with tempfile.TemporaryDirectory(prefix="bench-index-") as folder:
        if args.korquad:
            documents, questions = load_korquad(args.korquad)
            chosen = sample_questions(questions, args.sample or None)
            suites["korquad"] = (documents, None, [(q.question, q.paragraph_id) for q in chosen])
        if args.eval or not args.korquad:
            queries = retrieval_queries(load_questions(args.eval or QUESTIONS_FILE))
            existing = getattr(args, "index", None)
            documents = None if existing else load_corpus(settings.corpus_dir)[0]
            suites["eval"] = (documents, existing, queries)
        results = {}
        for name, (documents, existing, queries) in suites.items():
            build = {"index": str(existing) if existing else "temporary"}
            index_dir = existing or Path(folder) / name
            if documents is not None:
                print(f"{name}: indexing {len(documents)} documents", file=sys.stderr)
                report = ingest_documents(documents, index_dir, embedder, settings, fingerprint)
                build.update(documents=report.documents, chunks=report.chunks,
                             seconds=round(report.seconds, 1), embed_seconds=round(report.embed_seconds, 1),
                             chunks_per_second=round(report.chunks_per_second, 1))
            bot = Bot.load(index_dir, settings=settings, embedder=embedder)
            bars: dict = {}
            modes = bench_retrieval(bot, queries, on_progress=lambda mode, n, total: bars.setdefault(
                mode, _progress(f"{name} {mode}: searched"))(n, total))
            embedding = bench_query_embedding(embedder, [q for q, _ in queries[:200]])
            results[name] = {"build": build, "modes": modes, "query_embedding": embedding}
    if args.json:
        print(json.dumps(results))
        return 0
    _print_bench(results)
    return 0


def _print_bench(results: dict) -> None:
    print("| queries | mode | n | R@1 | R@3 | R@5 | R@10 | MRR | p50 ms | p95 ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, result in results.items():
        for mode, row in result["modes"].items():
            print(f"| {name} | {mode} | {row['queries']} | {row['recall_at_1']:.3f} | {row['recall_at_3']:.3f} | "
                  f"{row['recall_at_5']:.3f} | {row['recall_at_10']:.3f} | {row['mrr']:.3f} | "
                  f"{row['latency_p50_ms']:.1f} | {row['latency_p95_ms']:.1f} |")
    print()
    for name, result in results.items():
        build, embedding = result["build"], result["query_embedding"]
        if "chunks" in build:
            print(f"{name}: index build {build['documents']} documents -> {build['chunks']} passages in "
                  f"{build['seconds']} s ({build['chunks_per_second']} chunks/s; embedding {build['embed_seconds']} s)")
        else:
            print(f"{name}: existing index {build['index']} (build not timed)")
        print(f"{name}: query embedding alone p50 {embedding['latency_p50_ms']} ms, "
              f"p95 {embedding['latency_p95_ms']} ms ({embedding['queries']} queries)")
