"""Chunks keep exact offsets and split at Korean sentence ends."""
from pathlib import Path

from bot.chunking import sentences, split, split_all
from bot.documents import load_corpus
from bot.records import Document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_every_chunk_of_the_bundled_corpus_is_its_document_at_its_offsets():
    documents, _ = load_corpus(CORPUS)
    by_id = {d.doc_id: d for d in documents}
    chunks = split_all(documents, 400, 80)
    assert len(chunks) > len(documents)
    assert [c.chunk_id for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert by_id[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text
        assert len(chunk.text) <= 400
    covered = {c.doc_id for c in chunks}
    assert covered == set(by_id)


def test_chunks_end_at_sentence_ends_and_overlap():
    sentence = "광주시는 인공지능 기업과 협약을 체결했다. "
    text = "".join(f"{i}번째 {sentence}" for i in range(40)).strip()
    chunks = split(Document("d", "t", text), 200, 60)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text.endswith("다.")
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:]))


def test_sentences_keep_quotes_and_list_items_together():
    text = "전 대표는 “성장하겠다”고 말했다. 주요 내용은 ▲기술개발 ▲인재육성 등이다.\n한편 협약식이 열렸다."
    spans = [text[a:b] for a, b in sentences(text)]
    assert spans == ["전 대표는 “성장하겠다”고 말했다.", "주요 내용은 ▲기술개발 ▲인재육성 등이다.", "한편 협약식이 열렸다."]
