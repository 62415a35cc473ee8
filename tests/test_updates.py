"""Incremental updates: a press release added while visitors ask is answerable, and gone once removed."""
import shutil
import threading

import numpy as np
import pytest

from bot.errors import BadDocument
from bot.index import IndexData, load_index
from bot.lexical import LexicalIndex
from bot.records import Answer, Document

NEW_RELEASE = Document(
    doc_id="uploads/drone-delivery-2024", title="광주시, 드론 배송 시범사업 착수",
    text=("광주시, 드론 배송 시범사업 착수\n\n광주광역시는 3일 시청에서 드론 배송 시범사업 출범식을 "
          "열었다고 밝혔다.\n\n이번 드론 배송 시범사업에는 물류 기업 17개사가 참여하며, 내년 3월까지 "
          "광산구 일대에서 의약품과 생활용품을 배송한다."),
    date="2024-05-03", source="테스트일보", path="uploads/drone-delivery-2024.txt")
NEW_QUESTION = "드론 배송 시범사업에 참여하는 기업은 몇 개인가?"
VISITOR_QUESTIONS = ["헬스케어 분야 기업은 몇 개인가?", "지아이랩 대표는 누구인가?", NEW_QUESTION,
                     "부산의 인구는 몇 명인가?"]


def _well_formed(answer) -> bool:
    if not isinstance(answer, Answer) or not answer.text:
        return False
    if answer.refused:
        return answer.citations == ()
    return bool(answer.citations) and all(
        c.quote and c.start < c.end and len(c.quote) == c.end - c.start for c in answer.citations)


@pytest.mark.slow
def test_add_and_remove_while_visitors_ask(corpus_index, embedder, settings, tmp_path):
    from bot import Bot

    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    bot = Bot.load(index_dir, settings=settings, embedder=embedder)
    chunks_before = bot.data.live_count
    fingerprint_before = bot.data.manifest["corpus_fingerprint"]

    stop = threading.Event()
    answers, errors = [], []

    def visitor(offset: int) -> None:
        turn = offset
        while not stop.is_set():
            try:
                answers.append(bot.ask(VISITOR_QUESTIONS[turn % len(VISITOR_QUESTIONS)]))
            except Exception as exc:  # noqa: BLE001 - the test reports any failure
                errors.append(exc)
            turn += 1

    visitors = [threading.Thread(target=visitor, args=(i,)) for i in range(3)]
    for thread in visitors:
        thread.start()
    try:
        added = bot.add_documents([NEW_RELEASE])
        after_add = bot.ask(NEW_QUESTION)
        chunks_after_add = bot.data.live_count
        bot.remove_document(NEW_RELEASE.doc_id)
    finally:
        stop.set()
        for thread in visitors:
            thread.join()

    assert errors == []
    assert answers and all(_well_formed(a) for a in answers)

    assert added >= 1 and chunks_after_add == chunks_before + added
    assert not after_add.refused and "17" in after_add.text
    assert after_add.citations[0].doc_id == NEW_RELEASE.doc_id
    assert "17개사" in after_add.citations[0].quote

    after_remove = bot.ask(NEW_QUESTION)
    assert NEW_RELEASE.doc_id not in bot.documents
    assert all(c.doc_id != NEW_RELEASE.doc_id for c in after_remove.citations + after_remove.related)
    assert "17" not in after_remove.text
    assert bot.data.live_count == chunks_before

    on_disk = load_index(index_dir)
    assert on_disk.manifest["chunks"] == on_disk.live_count == chunks_before
    assert on_disk.manifest["corpus_fingerprint"] == fingerprint_before
    # Updated in place: the release's rows were appended, then marked removed; row i is still vector i.
    assert on_disk.vectors.ntotal == len(on_disk.chunks) == on_disk.lexical.size == chunks_before + added
    assert [c.chunk_id for c in on_disk.chunks] == list(range(chunks_before + added))
    assert [c.chunk_id for c in on_disk.live_chunks()] == list(range(chunks_before))


@pytest.mark.slow
def test_two_updates_at_once_are_serialised(corpus_index, embedder, settings, tmp_path):
    from dataclasses import replace

    from bot import Bot

    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    bot = Bot.load(index_dir, settings=settings, embedder=embedder)
    before = bot.data.live_count
    second = replace(NEW_RELEASE, doc_id="uploads/second", path="uploads/second.txt")
    results, errors = [], []

    def add(document):
        try:
            results.append(bot.add_documents([document]))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(d,)) for d in (NEW_RELEASE, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {NEW_RELEASE.doc_id, second.doc_id} <= set(bot.documents)
    assert bot.data.live_count == before + sum(results)
    # The English-Korean glossary survives the update (English questions keep their Korean terms).
    reloaded = load_index(index_dir)
    assert reloaded.glossary is not None and reloaded.glossary.terms == bot.data.glossary.terms
    assert len(reloaded.glossary.terms) > 1000


def _tiny_index() -> IndexData:
    """Two documents, three passages, with made-up vectors (no model: a pure unit test)."""
    import faiss

    from bot.chunking import split_all
    from bot.index import passage_text

    documents = [Document("a", "가", "가 문서의 첫 문장이다."), Document("b", "나", "나 문서의 문장이다.")]
    chunks = split_all(documents, 400, 80)
    vectors = np.eye(4, dtype=np.float32)[: len(chunks)]
    flat = faiss.IndexFlatIP(4)
    flat.add(vectors)
    manifest = {"chunk_size": 400, "chunk_overlap": 80, "corpus_fingerprint": "x"}
    return IndexData(manifest, {d.doc_id: d for d in documents}, chunks, flat,
                     LexicalIndex.build([passage_text(c) for c in chunks]))


def test_updated_keeps_old_vectors_and_renumbers_chunks():
    from bot.updates import updated

    data = _tiny_index()
    new = Document("c", "다", "다 문서는 새로 올라왔다.")
    result = updated(data, add=[new], remove=["a"], encode=lambda texts: np.full((len(texts), 4), 0.5, np.float32))
    assert [c.doc_id for c in result.chunks] == ["b", "c"]
    assert [c.chunk_id for c in result.chunks] == [0, 1]
    assert result.vectors.tolist() == [[0, 1, 0, 0], [0.5, 0.5, 0.5, 0.5]]
    assert result.added == 1 and result.removed == 1 and result.lexical.size == 2
    assert result.manifest["corpus_fingerprint"] != "x"
    assert all(new.text[c.start:c.end] == c.text for c in result.chunks if c.doc_id == "c")


def test_removing_an_unknown_document_says_so():
    from bot.updates import updated

    with pytest.raises(BadDocument, match="no document 'zzz'"):
        updated(_tiny_index(), remove=["zzz"])
