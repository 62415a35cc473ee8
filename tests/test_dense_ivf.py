"""The inverted-list (IVF) dense index that large indexes get: chosen by size, stored, searched,
updated in place. Here a real corpus index is rewritten with the exact-search threshold lowered,
so that its 1,738 passages get the IVF index a 100k+ index would."""
import numpy as np
import pytest

from bot import dense
from bot.index import load_index, write_index
from bot.records import Document

RELEASE = Document(
    doc_id="uploads/hydrogen-bus-2025", title="광주시, 수소버스 40대 도입",
    text=("광주시, 수소버스 40대 도입\n\n광주광역시는 올해 시내버스 노선에 수소버스 40대를 새로 "
          "투입한다고 밝혔다.\n\n수소버스는 상무지구와 첨단지구를 잇는 노선부터 운행하며, 충전소 "
          "두 곳이 함께 문을 연다."),
    date="2025-02-11", source="테스트일보", path="uploads/hydrogen-bus-2025.txt")
QUESTIONS = ["헬스케어 분야 기업은 몇 개인가?", "지아이랩 대표는 누구인가?", "인공지능 집적단지 조성 사업",
             "북한 미사일 발사", "올림픽 금메달"]


def test_plan_by_size():
    assert dense.plan(dense.EXACT_UP_TO) == {"type": "flat"}
    spec = dense.plan(1_000_000)
    assert spec == {"type": "ivf", "nlist": 4096, "nprobe": 256}  # the 1M row of docs/benchmarks.md
    assert dense.plan(2_000, exact_up_to=1_000)["nprobe"] == dense.plan(2_000, exact_up_to=1_000)["nlist"]


@pytest.fixture(scope="module")
def ivf_index(corpus_index, tmp_path_factory):
    data = load_index(corpus_index)
    folder = tmp_path_factory.mktemp("ivf") / "index"
    write_index(folder, list(data.documents.values()), list(data.chunks), data.vector_matrix(),
                data.lexical, data.manifest, data.glossary, exact_up_to=1_000)
    return folder


@pytest.mark.slow
def test_ivf_index_searches_like_exact_and_takes_updates(ivf_index, corpus_bot, embedder, settings):
    from bot import Bot

    data = load_index(ivf_index)
    spec = data.manifest["dense_index"]
    assert spec == dense.plan(len(data.chunks), exact_up_to=1_000)
    assert spec["type"] == "ivf" and spec["nlist"] == 128 and spec["nprobe"] == 128  # fewer lists than MIN_PROBES
    live = data.snapshot.path.parent
    assert (live / dense.file_name(0)).is_file()
    assert type(data.vectors).__name__ == "IndexIVFFlat" and data.vectors.ntotal == len(data.chunks)
    data.snapshot.close()

    bot = Bot.load(ivf_index, settings=settings, embedder=embedder)
    for question in QUESTIONS:  # every list probed: the same passages, in the same order, as exact search
        ivf = [(h.doc_id, h.chunk.chunk_id) for h in bot.search(question, k=10, mode="dense")]
        flat = [(h.doc_id, h.chunk.chunk_id) for h in corpus_bot.search(question, k=10, mode="dense")]
        assert ivf == flat, question

    rows_before = len(bot.data.chunks)
    added = bot.add_documents([RELEASE])
    assert added >= 1 and len(bot.data.chunks) == rows_before + added
    assert bot.data.vectors.ntotal == rows_before + added  # appended to the lists, not rebuilt
    assert bot.data.snapshot.path.parent == live and (live / dense.file_name(1)).is_file()
    assert not (live / dense.file_name(0)).exists()
    hits = bot.search("수소버스 몇 대를 도입하나?", k=3, mode="dense")
    assert hits[0].doc_id == RELEASE.doc_id
    answer = bot.ask("광주시가 도입하는 수소버스는 몇 대인가?")
    assert not answer.refused and "40" in answer.text and answer.citations[0].doc_id == RELEASE.doc_id

    bot.remove_document(RELEASE.doc_id)
    assert bot.data.vectors.ntotal == rows_before + added  # removed rows stay in the lists ...
    for question in ("수소버스 몇 대를 도입하나?", *QUESTIONS):  # ... and are never returned
        assert all(h.doc_id != RELEASE.doc_id for h in bot.search(question, k=10, mode="dense"))
    reloaded = load_index(ivf_index)
    assert reloaded.live_count == rows_before and RELEASE.doc_id not in reloaded.documents
    vector = embedder.encode_queries(["수소버스 몇 대를 도입하나?"])
    _, rows = reloaded.vectors.search(np.ascontiguousarray(vector, dtype=np.float32), 5)
    assert max(rows[0]) >= rows_before  # the dead rows are still in the file
    reloaded.snapshot.close()
