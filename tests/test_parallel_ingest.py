"""Parallel ingestion on a real Dask cluster (a scheduler and two workers started here on
127.0.0.1), checked against a single-process run of the same real documents; and a rebuild that
embeds only the passages and glossary terms the index it replaces lacks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot import Bot
from bot.cli import main
from bot.documents import load_corpus
from bot.index import load_index, passage_text
from bot.ingest import ingest, ingest_documents, reusable
from bot.model_build import model_fingerprint
from servers import free_port

ROOT = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).parent / "dask"
SEED = ROOT / "corpus" / "gwangju-gilab-mou-2020-11.txt"
KEYWORD_QUERIES = ("오바마 대통령 취임식", "마이클 잭슨은 언제 사망했나요?", "지아이랩과 업무협약을 체결했다",
                   "천안함 침몰 원인")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    """The seed release and the first nine articles of the bundled news corpus (ten documents)."""
    corpus = tmp_path_factory.mktemp("small") / "corpus"
    (corpus / "kowikinews").mkdir(parents=True)
    (corpus / SEED.name).write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    with open(ROOT / "corpus" / "kowikinews" / "articles.jsonl", encoding="utf-8") as articles:
        lines = [next(articles) for _ in range(9)]
    (corpus / "kowikinews" / "articles.jsonl").write_text("".join(lines), encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory):
    """The address of a running Dask scheduler with two single-thread workers (real processes,
    stopped after the module)."""
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask-logs")
    address = f"tcp://127.0.0.1:{free_port()}"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    processes = []

    def start(name: str, command: list[str]) -> None:
        with open(logs / f"{name}.log", "wb") as log:
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))

    start("scheduler", [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                        "--no-dashboard", "--no-show"])
    for number in (1, 2):
        start(f"worker-{number}", [str(DASK), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                   "--no-nanny", "--no-dashboard", "--name", f"worker-{number}"])
    try:
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
        # What the cluster logged while it worked (its shutdown below may log closed connections).
        for log in sorted(logs.iterdir()):
            assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace"), log
    finally:
        for process in processes[1:] + processes[:1]:  # the workers, then the scheduler
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_dask_ingest_builds_the_same_index_as_one_process(dask_scheduler, small_corpus, tmp_path, capsys,
                                                          embedder, settings, model_dir):
    single = ingest(small_corpus, tmp_path / "single", embedder, settings, model_fingerprint(model_dir))
    assert single.documents == 10 and single.chunks >= 10

    code = main(["ingest", str(small_corpus), "--index", str(tmp_path / "dask"), "--model", str(model_dir),
                 "--scheduler", dask_scheduler, "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"as {single.chunks} passages" in printed and "chunks/s" in printed
    assert "stages: chunking" in printed and "embedding" in printed and "glossary" in printed

    one, parallel = load_index(tmp_path / "single"), load_index(tmp_path / "dask")
    assert parallel.manifest["embed_precision"] == one.manifest["embed_precision"] == embedder.precision
    assert parallel.manifest["corpus_fingerprint"] == one.manifest["corpus_fingerprint"]
    rows = lambda data: [(c.doc_id, c.chunk_id, c.start, c.end, c.text) for c in data.chunks]  # noqa: E731
    assert rows(parallel) == rows(one)
    # Workers batch the passages as one process does; another thread count sums in another order.
    np.testing.assert_allclose(parallel.vector_matrix(), one.vector_matrix(), atol=vector_atol(embedder))
    for query in KEYWORD_QUERIES:
        scores = one.lexical.scores(query)
        assert scores.max() > 0, query
        np.testing.assert_array_equal(parallel.lexical.scores(query), scores)
    assert parallel.glossary.terms == one.glossary.terms and len(one.glossary.terms) > 100
    # Terms of one length are batched in another order (1.04e-3 apart at most, measured; bfloat16).
    np.testing.assert_allclose(parallel.glossary.vectors, one.glossary.vectors, atol=3e-3)

    bot = Bot.load(tmp_path / "dask", settings=settings, embedder=embedder)
    answer = bot.ask("광주광역시와 업무협약을 체결한 회사는 어디입니까?")
    assert not answer.refused, answer
    assert "지아이랩" in answer.text
    assert answer.citations[0].doc_id == next(c.doc_id for c in one.chunks if "지아이랩" in c.text)


def vector_atol(embedder) -> float:
    """How far two computations of one vector may differ: float32 agreed within 1e-3; bfloat16 on
    a CPU with AMX differed by up to 1.02e-3 between a worker's threads and this process's."""
    return 3e-3 if embedder.precision == "bfloat16" else 1e-3


def test_blocks_spread_over_both_workers_come_back_in_order(dask_scheduler, small_corpus, embedder, model_dir):
    from distributed import Client, get_task_stream

    from bot.chunking import split_all
    from bot.parallel import ClusterEmbedder

    documents, _ = load_corpus(small_corpus)
    texts = [passage_text(c) for c in split_all(documents)]
    with Client(dask_scheduler, timeout="60s") as client:
        cluster = ClusterEmbedder(client, model_dir, embedder.precision, batches_per_block=1)
        with get_task_stream(client) as stream:
            vectors = cluster.encode_passages(texts, batch_size=2)
    assert len(stream.data) == -(-len(texts) // 2)
    assert len({task["worker"] for task in stream.data}) == 2
    np.testing.assert_allclose(vectors, embedder.encode_passages(texts, batch_size=2), atol=vector_atol(embedder))
    assert (vectors * embedder.encode_passages(texts)).sum(axis=1).min() > 0.999


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, embedder):
        self.embedder, self.precision, self.passages, self.queries = embedder, embedder.precision, [], []

    def encode_passages(self, texts, batch_size=32, progress=False):
        self.passages.extend(texts)
        return self.embedder.encode_passages(texts, batch_size=batch_size, progress=progress)

    def encode_queries(self, texts, batch_size=32):
        self.queries.extend(texts)
        return self.embedder.encode_queries(texts, batch_size=batch_size)


def test_a_rebuild_embeds_only_new_passages_and_glossary_terms(small_corpus, tmp_path, embedder, settings,
                                                                model_dir):
    documents, _ = load_corpus(small_corpus)
    seed = next(d for d in documents if "지아이랩" in d.text)
    others = [d for d in documents if d is not seed]
    index_dir, fingerprint = tmp_path / "index", model_fingerprint(model_dir)

    counting = CountingEmbedder(embedder)
    first = ingest_documents(others, index_dir, counting, settings, fingerprint)
    assert first.passages_embedded == first.chunks == len(counting.passages)
    assert first.glossary_embedded == first.glossary_terms == len(counting.queries) > 50
    built = load_index(index_dir)

    counting = CountingEmbedder(embedder)
    again = ingest_documents(others, index_dir, counting, settings, fingerprint)
    assert counting.passages == counting.queries == []
    assert again.passages_embedded == again.glossary_embedded == 0
    rebuilt = load_index(index_dir)
    assert [c.text for c in rebuilt.chunks] == [c.text for c in built.chunks]
    np.testing.assert_array_equal(rebuilt.vector_matrix(), built.vector_matrix())
    assert rebuilt.glossary.terms == built.glossary.terms
    np.testing.assert_array_equal(rebuilt.glossary.vectors, built.glossary.vectors)

    counting = CountingEmbedder(embedder)
    grown = ingest_documents([seed] + others, index_dir, counting, settings, fingerprint)
    latest = load_index(index_dir)
    seed_passages = [passage_text(c) for c in latest.chunks if c.doc_id == seed.doc_id]
    assert sorted(counting.passages) == sorted(seed_passages) and grown.passages_embedded == len(seed_passages)
    new_terms = sorted(set(latest.glossary.terms) - set(built.glossary.terms))
    assert "지아이랩" in new_terms and sorted(counting.queries) == new_terms  # no term embedded twice
    assert grown.glossary_embedded == len(new_terms) < grown.glossary_terms
    # The seed's passages now come first: every other passage kept its vector under its new row.
    fresh = embedder.encode_passages(seed_passages)
    np.testing.assert_allclose(latest.vector_matrix()[:len(seed_passages)], fresh, atol=vector_atol(embedder))
    np.testing.assert_array_equal(latest.vector_matrix()[len(seed_passages):], built.vector_matrix())

    # Another model's or precision's vectors are never reused.
    assert reusable(index_dir, "0" * 16, embedder.precision).passages == {}
    assert reusable(index_dir, fingerprint, "float16").glossary is None
    assert len(reusable(index_dir, fingerprint, embedder.precision).passages) == grown.chunks
    manifest = json.loads(next(index_dir.glob("v-*/manifest.json")).read_text(encoding="utf-8"))
    assert manifest["embed_precision"] == embedder.precision
