"""The Milvus backend (``index_backend = milvus``) against a real Milvus Lite server on 127.0.0.1:
the same passages as the local backend, exact citations, filters, re-sync of a changed index; and
the front-door tests of tests/test_service.py run again on it, their assertions unchanged."""
from pathlib import Path

import pytest

from bot.errors import BadSettings
from bot.milvus_backend import filter_expression, milvus_text, milvus_token
from bot.retrieval import Filters
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEED = "gwangju-gilab-mou-2020-11"
QUESTIONS = [
    "헬스케어 분야 기업은 몇 곳인가요?", "광주광역시와 업무협약을 체결한 회사는 어디입니까?",
    "지아이랩 대표는 누구인가?", "협약식은 어디에서 열렸나?", "폴란드 대통령 전용기 기종은 뭐야?",
    "마이클 잭슨은 언제 사망했나?", "천안함은 어디에서 침몰했나?", "2010년 월드컵 우승국은?",
    "오바마는 몇 대 대통령인가?", "칸 영화제 황금종려상 수상작은?",
    "Who is the CEO of GI Lab?", "How many people have these companies hired?",
    "When did Michael Jackson die?", "Which team won the 2010 FIFA World Cup?",
]


# -- pure ------------------------------------------------------------------------------------------

def test_tokens_reach_milvus_as_one_word_each():
    assert milvus_token("협약") == "협약"
    assert milvus_token("ai") == "ai"
    assert milvus_token("3.5") == "0x332e35"  # the standard tokenizer would split it at the dot
    assert milvus_token("자연어 처리") == "0x" + "자연어 처리".encode().hex()
    assert milvus_text(["협약", "체결", "협약_체결", "3.5"]) == "협약 체결 협약_체결 0x332e35"


def test_the_backend_setting_is_checked():
    assert Settings().index_backend == "local"
    with pytest.raises(BadSettings, match="local or milvus"):
        Settings(index_backend="faiss")
    with pytest.raises(BadSettings, match="milvus_uri"):
        Settings(index_backend="milvus")
    env = {"BOT_INDEX_BACKEND": "milvus", "BOT_MILVUS_URI": "http://127.0.0.1:19530"}
    assert Settings.from_env(env).milvus_uri == "http://127.0.0.1:19530"


def test_filter_expression_names_each_restriction():
    expression = filter_expression(Filters(date_from="2020-11", date_to="2020-12-31", sources=("아시아경제",)))
    assert 'date >= "2020-11"' in expression and 'date in ["2", "20", "202", "2020", "2020-", "2020-1"]' in expression
    assert 'date like "2020-12-31%"' in expression and 'source in ["아시아경제"]' in expression
    assert filter_expression(None) == filter_expression(Filters()) == ""


# -- against a Milvus Lite server --------------------------------------------------------------------

@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory):
    """A Milvus Lite server process on a free port of 127.0.0.1, stopped at the end of the session."""
    from bot.milvus_backend import lite_server

    with lite_server(tmp_path_factory.mktemp("milvus")) as uri:
        yield uri


def _documents(count: int):
    from bot.documents import read_file

    seed, _ = read_file(ROOT / "corpus" / f"{SEED}.txt", ROOT / "corpus")
    articles, _ = read_file(ROOT / "corpus" / "kowikinews" / "articles.jsonl", ROOT / "corpus")
    return seed + articles[:count]


@pytest.fixture(scope="module")
def small_index(tmp_path_factory, embedder, settings, model_dir) -> Path:
    """The seed release and twelve Wikinews articles (2009-2010) from corpus/, indexed."""
    from bot.ingest import ingest_documents
    from bot.model_build import model_fingerprint

    index_dir = tmp_path_factory.mktemp("milvus-small") / "index"
    ingest_documents(_documents(12), index_dir, embedder, settings, model_fingerprint(model_dir))
    return index_dir


@pytest.fixture(scope="module")
def bots(small_index, embedder, settings, milvus_uri):
    """A bot per backend over the same index."""
    from bot import Bot

    return {"local": Bot.load(small_index, settings=settings, embedder=embedder),
            "milvus": Bot.load(small_index, settings=settings.with_(index_backend="milvus", milvus_uri=milvus_uri),
                               embedder=embedder)}


def _rows(hits):
    return [(h.doc_id, h.chunk.chunk_id) for h in hits]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_milvus_finds_what_the_local_index_finds(bots, mode):
    from bot.milvus_backend import MilvusRetriever

    assert isinstance(bots["milvus"].retriever, MilvusRetriever)
    for question in QUESTIONS:
        local = bots["local"].search(question, k=5, mode=mode)
        remote = bots["milvus"].search(question, k=5, mode=mode)
        assert _rows(remote) == _rows(local), question
        assert [h.score for h in remote] == pytest.approx([h.score for h in local], rel=1e-4, abs=1e-5), question


@pytest.mark.slow
def test_an_answer_from_milvus_cites_its_document_exactly(bots):
    bot = bots["milvus"]
    answer = bot.ask("헬스케어 분야 기업은 몇 개인가?")
    assert not answer.refused and answer.citations[0].doc_id == SEED
    assert "8" in answer.text
    for citation in answer.citations + answer.related:
        document = bot.documents[citation.doc_id]
        assert document.text[citation.start:citation.end] == citation.quote


@pytest.mark.slow
@pytest.mark.parametrize("filters", [
    Filters(date_from="2020-01-01"), Filters(date_to="2009-12"), Filters(date_from="2009-06", date_to="2010-03-31"),
    Filters(date_from="2010"), Filters(sources=("ko.wikinews",)), Filters(sources=("아시아경제", "없는 출처")),
    Filters(date_from="2030-01-01")])
def test_filters_restrict_milvus_as_they_restrict_the_local_index(bots, filters):
    for question in ("헬스케어 분야 기업", "축구 국가대표팀 사망", "Who won the World Cup?"):
        local = bots["local"].search(question, k=5, filters=filters)
        remote = bots["milvus"].search(question, k=5, filters=filters)
        assert _rows(remote) == _rows(local), (question, filters)
        assert all(filters.admits(h.chunk) for h in remote)
    chunks = bots["local"].data.chunks
    assert any(filters.admits(c) for c in chunks) == bool(bots["milvus"].search("사망", k=5, filters=filters,
                                                                              mode="dense"))


@pytest.mark.slow
def test_a_changed_index_is_synced_again(tmp_path, embedder, settings, model_dir, milvus_uri):
    from bot import Bot
    from bot.ingest import ingest_documents
    from bot.model_build import model_fingerprint

    index_dir = tmp_path / "index"
    ingest_documents(_documents(3), index_dir, embedder, settings, model_fingerprint(model_dir))
    bot = Bot.load(index_dir, settings=settings.with_(index_backend="milvus", milvus_uri=milvus_uri), embedder=embedder)
    first = bot.retriever.collection
    assert bot.retriever.sync(bot.data) is False  # unchanged: the server's collection is reused
    assert all(h.doc_id != "kowikinews-0007" for h in bot.search("천안함 침몰", k=5))

    ingest_documents(_documents(8), index_dir, embedder, settings, model_fingerprint(model_dir))
    bot.reload()
    assert bot.retriever.collection != first
    assert bot.search("천안함은 어디에서 침몰했나?", k=5)[0].doc_id == "kowikinews-0007"
    assert first in bot.retriever.client.list_collections()  # replicas not yet reloaded still search it


@pytest.mark.slow
def test_an_unreachable_server_is_a_library_error(small_index, embedder, settings):
    import socket

    from bot import Bot
    from bot.errors import IndexBackendUnavailable

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(IndexBackendUnavailable, match="Milvus"):
        Bot.load(small_index, settings=settings.with_(index_backend="milvus", milvus_uri=f"http://127.0.0.1:{port}"),
                 embedder=embedder)


# -- tests/test_service.py on the Milvus backend ----------------------------------------------------

@pytest.fixture(scope="module")
def corpus_bot(corpus_index, embedder, settings, milvus_uri):
    """The whole bundled corpus, searched on Milvus (overrides conftest's local ``corpus_bot``)."""
    from bot import Bot

    return Bot.load(corpus_index, settings=settings.with_(index_backend="milvus", milvus_uri=milvus_uri),
                    embedder=embedder)


import test_service  # noqa: E402

# Collected here again with the Milvus ``corpus_bot`` above (their module's marks do not follow them).
test_service_seed_on_milvus = pytest.mark.slow(test_service.test_healthcare_count_is_answered_from_the_seed_article)
test_service_refusal_on_milvus = pytest.mark.slow(test_service.test_a_question_the_corpus_cannot_answer_is_refused)
test_service_english_on_milvus = pytest.mark.slow(test_service.test_english_question_finds_the_korean_passage)
test_service_citations_on_milvus = pytest.mark.slow(test_service.test_every_citation_quotes_its_document_exactly)
test_service_search_on_milvus = pytest.mark.slow(test_service.test_search_returns_distinct_passages_best_first)
