"""The Hangul word prefixes that English spellings of Korean names are read against are stored
with the documents, so that loading a large index does not read every document."""
import shutil

from bot.index import load_index
from bot.records import Document
from bot.romanized import NamePrefixes, read_names

RELEASE = Document(
    doc_id="uploads/ambassador-visit", title="광주시, 주한 대사 방문",
    text="광주시, 주한 대사 방문\n\n탁무경 대사는 5일 광주시청을 찾아 협력 방안을 논의했다.",
    date="2025-03-05", source="테스트일보", path="uploads/ambassador-visit.txt")


def test_stored_prefixes_are_the_documents_prefixes(corpus_index):
    data = load_index(corpus_index)
    stored = data.snapshot.name_prefixes()
    computed = NamePrefixes(d.text for d in data.documents.values())
    assert len(stored) == len(computed) > 10_000
    assert all(prefix in computed for prefix in stored)
    data.snapshot.close()


def test_an_added_document_adds_its_prefixes(corpus_index, embedder, settings, tmp_path):
    from bot import Bot

    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    bot = Bot.load(index_dir, settings=settings, embedder=embedder)
    prefixes = NamePrefixes(prefixes=bot.data.snapshot.name_prefixes())
    assert "탁무경" not in prefixes and read_names("Ambassador Tak Mu-gyeong", prefixes) == []
    bot.add_documents([RELEASE])
    prefixes = NamePrefixes(prefixes=bot.data.snapshot.name_prefixes())
    assert "탁무경" in prefixes and "탁무" in prefixes
    assert "탁무경" in [name for name, _ in read_names("Ambassador Tak Mu-gyeong", prefixes)]
    assert bot.search("Who is Tak Mu-gyeong?", k=1)[0].doc_id == RELEASE.doc_id
