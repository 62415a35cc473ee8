"""``kill -9`` of a process that keeps adding and removing a release in place leaves a loadable
index that answers, holding the release or not, never half of it.

A real child process (its own interpreter, real Kiwi; the new release's vectors come from the
real model, computed here once and handed over in a file) adds then removes the same release in
a loop, updating the live version in place (``bot.index.append``: vectors appended, one SQLite
transaction). It is killed with SIGKILL at spread-out moments; after each kill the index must
load, hold the release wholly or not at all (records, keyword rows, vectors agree), answer a
question with an exact citation, and take the next update.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bot.chunking import split_all
from bot.documents import read_file
from bot.index import live_folder, load_index, passage_text
from bot.updates import add_documents, stored_vectors

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
RELEASE_QUESTION = "헬스케어 분야 기업은 몇 개인가?"  # answered by the Gwangju release only

CHILD = r"""
import json, sys
import numpy as np
from bot.documents import read_file
from bot.updates import add_documents, remove_document
from pathlib import Path
index_dir, root, vectors_file = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
release, _ = read_file(root / "corpus" / "gwangju-gilab-mou-2020-11.txt", root / "corpus")
table = json.load(open(vectors_file, encoding="utf-8"))
encode = lambda texts: np.asarray([table[t] for t in texts], dtype=np.float32)
print("ready", flush=True)
while True:
    add_documents(index_dir, release, encode)
    print("added", flush=True)
    remove_document(index_dir, release[0].doc_id)
    print("removed", flush=True)
"""


@pytest.fixture(scope="module")
def start_index(tmp_path_factory, embedder, settings, model_dir):
    """An index of twelve Wikinews articles (the release is added by the child), and the release's vectors."""
    from bot.ingest import ingest_documents
    from bot.model_build import model_fingerprint

    folder = tmp_path_factory.mktemp("kill")
    wikinews, _ = read_file(ROOT / "corpus" / "kowikinews" / "articles.jsonl", ROOT / "corpus")
    ingest_documents(wikinews[:12], folder / "index", embedder, settings, model_fingerprint(model_dir))
    release, _ = read_file(ROOT / "corpus" / "gwangju-gilab-mou-2020-11.txt", ROOT / "corpus")
    texts = [passage_text(c) for c in split_all(release, settings.chunk_size, settings.chunk_overlap)]
    table = {t: v.tolist() for t, v in zip(texts, embedder.encode_passages(texts))}
    (folder / "vectors.json").write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    return folder, release[0]


def _consistent(index_dir: Path, release_id: str) -> bool:
    """Load the index; check its parts agree; return whether it holds the release."""
    data = load_index(index_dir)
    chunks = data.live_chunks()
    assert {c.doc_id for c in chunks} == set(data.documents)
    assert data.manifest["chunks"] == len(chunks) == data.live_count
    assert data.manifest["documents"] == len(data.documents)
    assert len(stored_vectors(data)) == len(chunks)
    assert data.vectors.ntotal == len(data.chunks) == data.lexical.size
    for chunk in chunks:
        assert data.documents[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text
    holds = release_id in data.documents
    assert any(c.doc_id == release_id for c in chunks) == holds
    return holds


def test_kill_9_during_in_place_updates_leaves_an_index_that_answers(start_index, tmp_path, settings, embedder):
    from bot import Bot

    folder, release = start_index
    import shutil

    index_dir = tmp_path / "index"
    shutil.copytree(folder / "index", index_dir)
    version = live_folder(index_dir).name
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    seen = {True: 0, False: 0}
    for share in (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(index_dir), str(ROOT), str(folder / "vectors.json")],
                                 stdout=subprocess.PIPE, text=True, env=env)
        assert child.stdout.readline().strip() == "ready"
        assert child.stdout.readline().strip() == "added"  # Kiwi has started; the loop is running
        assert child.stdout.readline().strip() == "removed"
        assert child.stdout.readline().strip() == "added"
        started = time.perf_counter()
        assert child.stdout.readline().strip() == "removed"
        assert child.stdout.readline().strip() == "added"
        cycle = time.perf_counter() - started  # one remove and one add
        time.sleep(share * cycle)  # a kill at a different point of the next cycle each time
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        assert child.returncode == -signal.SIGKILL
        holds = _consistent(index_dir, release.doc_id)
        seen[holds] += 1
        assert live_folder(index_dir).name == version  # updated in place: no new version
        answer = Bot.load(index_dir, settings=settings, embedder=embedder).ask(RELEASE_QUESTION)
        if holds:
            assert not answer.refused and "8" in answer.text
            citation = answer.citations[0]
            assert citation.doc_id == release.doc_id
            assert release.text[citation.start:citation.end] == citation.quote
        else:
            assert all(c.doc_id != release.doc_id for c in answer.citations)
    # The next update after the last kill lands.
    if not _consistent(index_dir, release.doc_id):
        add_documents(index_dir, [release], lambda texts: np.asarray(
            [json.loads((folder / "vectors.json").read_text(encoding="utf-8"))[t] for t in texts], dtype=np.float32))
        assert _consistent(index_dir, release.doc_id)
    print(f"kills that left the release in: {seen[True]}, out: {seen[False]}")
