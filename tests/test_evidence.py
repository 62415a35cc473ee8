"""Evidence for staff: every passage that states the same figure, across documents, and releases
that disagree shown side by side, the newer first.

Three short releases of one city office (written for the test in the style of the seed article)
beside the seed article itself: a March release counts 50 partner companies, a June release 57,
and a June news item repeats 57.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot import Bot
from bot.documents import load_corpus
from bot.ingest import ingest_documents
from bot.model_build import model_fingerprint

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

RELEASES = {
    "ai-partners-2024-03.txt": (
        "date 2024-03-05 광주시, 인공지능 기업 유치 성과 발표\n"
        "광주광역시는 5일 인공지능 산업 육성 성과를 발표했다.\n"
        "광주시에 따르면 지금까지 업무협약을 맺은 인공지능 협력 기업은 총 50개사이다.\n"
        "시는 올해 하반기까지 실증 사업을 확대할 계획이다.\n"),
    "ai-partners-2024-06.txt": (
        "date 2024-06-10 광주시, 인공지능 협력 기업 확대\n"
        "광주광역시는 10일 인공지능 기업 유치 현황을 새로 발표했다.\n"
        "광주시에 따르면 지금까지 업무협약을 맺은 인공지능 협력 기업은 총 57개사로 늘었다.\n"
        "새로 협약한 기업들은 헬스케어와 자동차 분야에 집중됐다.\n"),
    "ai-partners-news-2024-06.txt": (
        "date 2024-06-11 인공지능 중심도시 광주, 협력 기업 늘어\n"
        "[호남일보 김하늘 기자] 광주시와 업무협약을 맺은 인공지능 협력 기업이 총 57개사로 집계됐다.\n"
        "업계는 실증 인프라가 기업 유치에 도움이 됐다고 평가했다.\n"),
}
QUESTION = "지금까지 업무협약을 맺은 인공지능 협력 기업은 몇 개사인가요?"


@pytest.fixture(scope="module")
def releases_bot(tmp_path_factory, embedder, settings, model_dir):
    corpus = tmp_path_factory.mktemp("releases")
    for name, text in RELEASES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    seed = ROOT / "corpus" / "gwangju-gilab-mou-2020-11.txt"
    (corpus / seed.name).write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    documents, skipped = load_corpus(corpus)
    assert len(documents) == 4 and not skipped
    index_dir = corpus.parent / "index"
    ingest_documents(documents, index_dir, embedder, settings, model_fingerprint(model_dir))
    return Bot.load(index_dir, settings=settings, embedder=embedder)


def test_disagreeing_releases_are_both_shown_newest_first(releases_bot):
    answer = releases_bot.ask(QUESTION)
    assert not answer.refused, answer
    assert answer.conflict
    # The newer figure leads, and the answer says that the releases differ, with both figures.
    assert answer.text.index("57개사") < answer.text.index("50개사"), answer.text
    assert "다릅니다" in answer.text
    assert answer.citations[0].date in ("2024-06-10", "2024-06-11")
    older = [c for c in answer.evidence if c.doc_id == "ai-partners-2024-03"]
    assert older and older[0].quote and "50개사" in older[0].quote
    document = releases_bot.data.documents["ai-partners-2024-03"]
    assert document.text[older[0].span_start:older[0].span_end] == "50개사"


def test_every_document_stating_the_same_figure_is_evidence(releases_bot):
    answer = releases_bot.ask(QUESTION)
    cited = {answer.citations[0].doc_id} | {c.doc_id for c in answer.evidence}
    assert {"ai-partners-2024-06", "ai-partners-news-2024-06"} <= cited
    for citation in (answer.citations[0], *answer.evidence):
        text = releases_bot.data.documents[citation.doc_id].text
        assert text[citation.start:citation.end] == citation.quote
        assert citation.date is not None


def test_one_source_has_no_conflict(corpus_bot):
    answer = corpus_bot.ask("헬스케어 분야 기업은 몇 곳인가요?")
    assert not answer.refused and "8" in answer.text
    assert not answer.conflict
    assert "다릅니다" not in answer.text
