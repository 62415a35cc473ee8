"""A writer killed at any step of a rebuild, an add or a remove leaves the old index or the new one.

The kill is injected by count, not by time: a child process patches every call that changes the
disk (``open`` for writing, ``os.open`` with write flags, ``os.mkdir``/``rename``/``replace``/
``fsync``/``unlink``/``remove``/``rmdir`` and ``faiss.write_index``) to count itself and
``os._exit(137)`` just before call N (and, for an open, just after it too: the file is there and
empty); N runs 1, 2, ... until the operation finishes unkilled.
Children come from a ``forkserver`` that has imported ``bot``, faiss and bm25s but started neither
the model nor Kiwi, so a step costs a fork, not an interpreter start. The passage vectors are
computed once, here, with the real embedding model, and the passages' Kiwi tokens once with the
real Kiwi: a child replays them (``Lookup`` is its ``encode``, ``Analysed`` its
``bot.lexical.tokens_many``), since Kiwi's worker threads do not survive a fork and starting Kiwi
again would cost about 2 s a step. Everything else, from the lock to the cleaning, runs for real.
"""
import builtins
import io
import multiprocessing
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.chunking import split_all
from bot.documents import read_file
from bot.errors import IndexNotFound
from bot.index import (CURRENT, LOCK, has_index, live_folder, load_index, passage_text, read_manifest,
                       write_index, writing)
from bot.lexical import LexicalIndex
from bot.updates import add_documents, remove_document, stored_vectors, updated

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
KILLED = 137
MAX_STEPS = 400
DISK_CALLS = ("mkdir", "rename", "replace", "fsync", "unlink", "remove", "rmdir")
GILAB_QUESTION = "헬스케어 분야 기업은 몇 개인가?"  # answered by gwangju-gilab-mou-2020-11 only


class Lookup(dict):
    """An ``encode`` for the children: passage text -> the vector the real model gave it here."""

    def __call__(self, texts):
        return np.stack([self[text] for text in texts])

    def of_chunks(self, chunks) -> np.ndarray:
        return self([passage_text(c) for c in chunks])


class Analysed(dict):
    """A ``tokens_many`` for the children: passage text -> the content tokens the real Kiwi gave it here."""

    def __call__(self, texts):
        return [list(self[text]) for text in texts]


# -- what runs in the killed child ----------------------------------------------------------------

def _kill_at_call(step: int) -> None:
    """Count every call that changes the disk (an open twice: before and after); ``os._exit(137)``
    at count ``step``."""
    import faiss

    calls = [0]

    def count() -> None:
        calls[0] += 1
        if calls[0] == step:
            os._exit(KILLED)

    def watch(function, changes_disk=lambda *args, **kwargs: True, opens=False):
        def watched(*args, **kwargs):
            if not changes_disk(*args, **kwargs):
                return function(*args, **kwargs)
            count()
            result = function(*args, **kwargs)
            if opens:
                count()  # also just after: the file exists (or was truncated) and is still empty
            return result
        return watched

    def opens_for_writing(file, mode="r", *args, **kwargs):
        return any(flag in mode for flag in "wax+")

    def os_open_writes(path, flags=0, *args, **kwargs):
        return bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))

    for name in DISK_CALLS:
        setattr(os, name, watch(getattr(os, name)))
    os.open = watch(os.open, os_open_writes, opens=True)
    builtins.open = watch(builtins.open, opens_for_writing, opens=True)
    io.open = watch(io.open, opens_for_writing, opens=True)
    faiss.write_index = watch(faiss.write_index)


def _replay_kiwi(analysed: Analysed) -> None:
    """Tokenise with ``analysed``; and give tqdm (bm25s's progress bars) a thread lock, not the
    process-shared semaphore it would create and a killed child could not release."""
    import threading

    import bot.lexical
    from tqdm import tqdm

    bot.lexical.tokens_many = analysed
    tqdm.set_lock(threading.RLock())


def _run_killed_at(step: int, operation, args: tuple, analysed: Analysed) -> None:
    _replay_kiwi(analysed)
    _kill_at_call(step)
    operation(*args)
    os._exit(0)  # finished before call ``step``: nothing after the operation may count


def _rebuild(index_dir, documents, vectors, manifest, glossary) -> None:
    """A full rebuild of ``index_dir`` with new content (what ``bot ingest`` does after embedding)."""
    chunks = split_all(documents, manifest["chunk_size"], manifest["chunk_overlap"])
    write_index(index_dir, documents, chunks, vectors.of_chunks(chunks), LexicalIndex.build(
        [passage_text(c) for c in chunks]), manifest, glossary)


def _add_in_child(index_dir, documents, encode, analysed: Analysed) -> None:
    _replay_kiwi(analysed)
    add_documents(index_dir, documents, encode)


# -- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_documents():
    """Six real press releases: the Gwangju one and five Korean Wikinews articles."""
    gilab, _ = read_file(ROOT / "corpus" / "gwangju-gilab-mou-2020-11.txt", ROOT / "corpus")
    wikinews, _ = read_file(ROOT / "corpus" / "kowikinews" / "articles.jsonl", ROOT / "corpus")
    return gilab + wikinews[:5]


@pytest.fixture(scope="module")
def vectors(corpus_documents, embedder, settings):
    """Every passage of the six documents, embedded once by the real model."""
    chunks = split_all(corpus_documents, settings.chunk_size, settings.chunk_overlap)
    texts = [passage_text(c) for c in chunks]
    return Lookup(zip(texts, embedder.encode_passages(texts)))


@pytest.fixture(scope="module")
def analysed(corpus_documents, settings):
    """Every passage of the six documents, tokenised once by the real Kiwi."""
    from bot.lexical import tokens_many

    texts = [passage_text(c) for c in split_all(corpus_documents, settings.chunk_size, settings.chunk_overlap)]
    return Analysed(zip(texts, tokens_many(texts)))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, corpus_documents, embedder, settings, model_dir):
    """A versioned index of the first three documents, and the same index in the old layout."""
    from bot.ingest import ingest_documents
    from bot.model_build import model_fingerprint

    folder = tmp_path_factory.mktemp("pristine")
    ingest_documents(corpus_documents[:3], folder / "index", embedder, settings, model_fingerprint(model_dir))
    shutil.copytree(live_folder(folder / "index"), folder / "old-layout")
    return folder


@pytest.fixture(scope="module")
def forkserver():
    """Where the killed children come from: one long-lived process that has imported the index code."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["faiss", "bm25s", "bot.index", "bot.updates", __name__])
    return context


# -- checks ---------------------------------------------------------------------------------------

def _content(index_dir: Path) -> tuple:
    """What an index holds, every part of it: a mix of two versions differs from both."""
    data = load_index(index_dir)
    chunks = data.live_chunks()
    assert {c.doc_id for c in chunks} == set(data.documents)
    vectors = stored_vectors(data)
    keyword_rows = data.lexical.size if data.live is None else int(data.live.sum())
    return (tuple(sorted(data.documents)), data.manifest["corpus_fingerprint"],
            tuple((c.doc_id, c.start, c.end, c.text) for c in chunks), vectors.round(5).tobytes(),
            keyword_rows, tuple(data.glossary.terms) if data.glossary else None)


def _rewrite(index_dir: Path) -> None:
    """The next write after a crash: write back what is live."""
    data = load_index(index_dir)
    chunks = [replace(c, chunk_id=row) for row, c in enumerate(data.live_chunks())]
    write_index(index_dir, list(data.documents.values()), chunks, stored_vectors(data),
                LexicalIndex.build([passage_text(c) for c in chunks]), data.manifest, data.glossary)


def _is_clean(index_dir: Path) -> bool:
    """Only the pointer, the lock and the live version are left (nothing beside the folder either),
    and the live version holds one generation of its keyword index and no half-written file."""
    names = sorted(p.name for p in index_dir.iterdir())
    beside = [p for p in index_dir.parent.iterdir() if p.name.startswith(f".{index_dir.name}.")]
    inside = [p.name for p in live_folder(index_dir).iterdir()]
    half_written = [n for n in inside if n.startswith(".tmp-")]
    generations = [n for n in inside if n.startswith("lexical")]
    return (names == sorted([CURRENT, LOCK, live_folder(index_dir).name]) and not beside
            and not half_written and len(generations) == 1)


def _top_document(index_dir: Path, question: str, settings, embedder) -> str:
    from bot import Bot

    return Bot.load(index_dir, settings=settings, embedder=embedder).search(question, k=1)[0].doc_id


def _kill_at_every_step(forkserver, analysed, start: Path, work: Path, operation, args: tuple,
                        ask) -> list[str]:
    """Run ``operation(index_dir, *args)`` on a fresh copy of ``start`` killed at call 1, 2, ...;
    after each kill the index must load with the old or the new content (the reference run's), and
    the next write must succeed and clean up. Returns the state after each step."""
    reference = work / "reference" / "index"
    shutil.copytree(start, reference)
    operation(reference, *args)
    old, new = _content(start), _content(reference)
    assert old != new
    states, left_something = [], []
    for step in range(1, MAX_STEPS):
        index_dir = work / f"step-{step}" / "index"
        shutil.copytree(start, index_dir)
        child = forkserver.Process(target=_run_killed_at,
                                   args=(step, operation, (index_dir, *args), analysed))
        child.start()
        child.join(120)
        assert child.exitcode in (KILLED, 0), f"step {step}: the child ended with {child.exitcode}"
        content = _content(index_dir)
        assert content in (old, new), f"step {step}: the index holds neither the old nor the new content"
        states.append("old" if content == old else "new")
        if step == 1 or states[-1] != states[-2] or child.exitcode == 0:  # Bot.load hashes the model: ~1 s
            ask(index_dir, states[-1])
        left_something.append(not _is_clean(index_dir))
        _rewrite(index_dir)
        assert _content(index_dir) == content and _is_clean(index_dir), f"step {step}: not cleaned"
        shutil.rmtree(index_dir.parent)
        if child.exitcode == 0:
            break
    assert states[-1] == "new", "the operation never finished unkilled"
    # Killed before the pointer moved: old; after: new. Both happen, and never back again.
    assert "old" in states[:-1] and "new" in states[:-1], states
    assert states == sorted(states, key=("old", "new").index), states
    assert len(states) > 15, f"only {len(states)} steps: the kill points are not being counted"
    assert any(left_something), "no kill left anything for the next write to clean"
    return states


# -- tests ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["index", "old-layout"])
def test_a_rebuild_killed_at_any_step_leaves_the_old_or_the_new_index(
        layout, forkserver, analysed, pristine, corpus_documents, vectors, tmp_path, settings, embedder):
    start = pristine / layout
    documents = corpus_documents[2:5]  # one document kept, two new ones, the Gwangju one dropped
    manifest = dict(read_manifest(start), corpus_fingerprint=f"rebuilt-{layout}")

    def ask(index_dir, state):
        top = _top_document(index_dir, GILAB_QUESTION, settings, embedder)
        assert (top == "gwangju-gilab-mou-2020-11") == (state == "old")

    glossary = load_index(start).glossary
    states = _kill_at_every_step(forkserver, analysed, start, tmp_path, _rebuild,
                                 (documents, vectors, manifest, glossary), ask)
    assert {doc.doc_id for doc in documents} == set(load_index(tmp_path / "reference" / "index").documents)
    print(f"{layout}: {len(states)} steps, {states.count('old')} left the old index")


def test_an_add_killed_at_any_step_leaves_the_old_or_the_new_index(
        forkserver, analysed, pristine, corpus_documents, vectors, tmp_path, settings, embedder):
    added = corpus_documents[5]

    def ask(index_dir, state):
        top = _top_document(index_dir, added.title, settings, embedder)
        assert (top == added.doc_id) == (state == "new")

    states = _kill_at_every_step(forkserver, analysed, pristine / "index", tmp_path, add_documents,
                                 ([added], vectors), ask)
    assert set(load_index(tmp_path / "reference" / "index").documents) == {
        d.doc_id for d in corpus_documents[:3] + [added]}
    print(f"add: {len(states)} steps")


def test_a_remove_killed_at_any_step_leaves_the_old_or_the_new_index(
        forkserver, analysed, pristine, corpus_documents, tmp_path, settings, embedder):
    removed = corpus_documents[0]

    def ask(index_dir, state):
        top = _top_document(index_dir, GILAB_QUESTION, settings, embedder)
        assert (top == removed.doc_id) == (state == "old")

    states = _kill_at_every_step(forkserver, analysed, pristine / "index", tmp_path, remove_document,
                                 (removed.doc_id,), ask)
    assert set(load_index(tmp_path / "reference" / "index").documents) == {
        d.doc_id for d in corpus_documents[1:3]}
    print(f"remove: {len(states)} steps")


def test_the_next_write_removes_what_crashed_writers_left(pristine, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(pristine / "index", index_dir)
    live = live_folder(index_dir).name
    shutil.copytree(index_dir / live, index_dir / "v-20200101T000000000000000Z-1-0000dead")  # never published
    shutil.copytree(index_dir / live, index_dir / f".tmp-v-20200101T000000000000000Z-2-0000beef")
    (index_dir / f".tmp-v-20200101T000000000000000Z-2-0000beef" / "manifest.json").unlink()  # half built
    (index_dir / f"{CURRENT}.tmp-3-0000cafe").write_text("v-2020", encoding="utf-8")
    (index_dir / "notes.txt").write_text("운영 메모", encoding="utf-8")  # not ours: kept
    shutil.copytree(index_dir / live, tmp_path / ".index.old-4-1700000000")  # the two-rename swap's
    shutil.copytree(index_dir / live, tmp_path / ".index.tmp-5abc")
    before = _content(index_dir)

    remove_document(index_dir, "gwangju-gilab-mou-2020-11")

    names = sorted(p.name for p in index_dir.iterdir())
    assert names == sorted([CURRENT, LOCK, live_folder(index_dir).name, "notes.txt"])
    assert live_folder(index_dir).name == live  # a remove updates the live version in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]
    assert set(_content(index_dir)[0]) == set(before[0]) - {"gwangju-gilab-mou-2020-11"}


def test_an_index_lost_by_the_old_two_rename_swap_is_pointed_at(pristine, tmp_path):
    shutil.copytree(pristine / "old-layout", tmp_path / ".index.old-4-1700000000")
    with pytest.raises(IndexNotFound, match=r"mv .*\.index\.old-4-1700000000"):
        load_index(tmp_path / "index")


def test_an_old_layout_index_loads_and_the_next_write_converts_it(
        pristine, corpus_documents, vectors, tmp_path, settings, embedder):
    index_dir = tmp_path / "index"
    shutil.copytree(pristine / "old-layout", index_dir)
    assert live_folder(index_dir) == index_dir and has_index(index_dir)
    before = _content(index_dir)
    assert before == _content(pristine / "index")
    assert _top_document(index_dir, GILAB_QUESTION, settings, embedder) == "gwangju-gilab-mou-2020-11"

    added = corpus_documents[5]
    add_documents(index_dir, [added], vectors)

    assert _is_clean(index_dir)  # the loose files of the old layout are gone
    assert (index_dir / CURRENT).read_text(encoding="utf-8").strip() == live_folder(index_dir).name
    assert set(_content(index_dir)[0]) == set(before[0]) | {added.doc_id}
    assert _top_document(index_dir, added.title, settings, embedder) == added.doc_id


def test_two_processes_adding_at_once_both_land(forkserver, analysed, pristine, corpus_documents, vectors,
                                                tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(pristine / "index", index_dir)
    first, second = corpus_documents[3], corpus_documents[4]
    writers = [forkserver.Process(target=_add_in_child, args=(index_dir, [doc], vectors, analysed)) for doc in (first, second)]
    with writing(index_dir):  # both start while this process holds the lock: they must wait
        for writer in writers:
            writer.start()
        time.sleep(1.0)
        assert all(writer.is_alive() for writer in writers)
        assert set(load_index(index_dir).documents) == {d.doc_id for d in corpus_documents[:3]}
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    assert set(load_index(index_dir).documents) == {d.doc_id for d in corpus_documents[:5]}
    assert _is_clean(index_dir)


def test_a_reader_whose_version_is_removed_mid_read_reads_the_new_one(pristine, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    shutil.copytree(pristine / "index", index_dir)
    first = live_folder(index_dir)
    load_lexical = LexicalIndex.load
    swapped = []

    def load_while_a_writer_swaps(folder, **options):
        if not swapped:  # the reader has read the manifest and the vectors of ``first``
            swapped.append(True)
            result = updated(load_index(index_dir), remove=["gwangju-gilab-mou-2020-11"])
            write_index(index_dir, result.documents, result.chunks, result.vectors, result.lexical,
                        result.manifest, result.glossary)  # a rebuild: a new version; ``first`` removed
        return load_lexical(folder, **options)

    monkeypatch.setattr(LexicalIndex, "load", staticmethod(load_while_a_writer_swaps))
    data = load_index(index_dir)
    assert swapped and not first.exists() and live_folder(index_dir) != first
    assert "gwangju-gilab-mou-2020-11" not in data.documents and len(data.documents) == 2
