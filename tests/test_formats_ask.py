"""Asking about a figure of a real release, whichever format the office published it in.

The moef 2024 Q1 release is indexed alone as HWP, as HWPX and as PDF (read in place from
shared/data/formats), each time beside the 2025 Q2 release of the same series (same sentences,
other figures) and another ministry's release: the answer must be the 2024 Q1 figure, quoted from
the file that was indexed.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot import Bot
from bot.documents import read_file
from bot.ingest import ingest_documents
from bot.model_build import model_fingerprint

FORMATS = Path(__file__).resolve().parents[2] / "shared" / "data" / "formats"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=[".hwp", ".hwpx", ".pdf"])
def release_bot(request, tmp_path_factory, embedder, settings, model_dir):
    if not FORMATS.is_dir():
        pytest.skip(f"sample documents not found at {FORMATS} (shared/ beside the repo)")
    suffix = request.param
    documents = []
    for name in (f"moef-2024q1-odi{suffix}", "moef-2025q2-odi.hwpx", "mot.hwpx"):
        read, skipped = read_file(FORMATS / name, FORMATS)
        assert read and not skipped, name
        documents += read
    index_dir = tmp_path_factory.mktemp(f"moef{suffix.strip('.')}") / "index"
    ingest_documents(documents, index_dir, embedder, settings, model_fingerprint(model_dir))
    return suffix, Bot.load(index_dir, settings=settings, embedder=embedder)


@pytest.mark.parametrize("question, figure, quoted", [
    # The net figure sits in the sentence after the gross one: 순투자액, not 총투자액.
    ("2024년 1분기 순투자액은 얼마인가요?", "128.7억 달러", "순투자액은 128.7억 달러"),
    ("2024년 1분기 해외직접투자액은 총투자액 기준 얼마였나?", "150.9억 달러", "총투자액 기준 150.9억 달러"),
])
def test_figure_is_answered_from_each_format(release_bot, question, figure, quoted):
    suffix, bot = release_bot
    answer = bot.ask(question)
    assert not answer.refused, answer
    assert figure in answer.text, answer.text
    first = answer.citations[0]
    assert first.doc_id == f"moef-2024q1-odi{suffix}", first.doc_id
    assert quoted in first.quote
    document = bot.data.documents[first.doc_id]
    assert document.text[first.start:first.end] == first.quote
    assert figure in document.text[first.span_start:first.span_end]
    assert first.date == "2024-06-21" and first.source == "기획재정부"
