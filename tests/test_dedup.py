"""The same release in two formats is one source; different releases of a series are not."""
import shutil
from pathlib import Path

import pytest

from bot.dedup import near_duplicates
from bot.documents import load_corpus, parse_jsonl, read_file

FORMATS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "formats"
needs_formats = pytest.mark.skipif(not FORMATS.is_dir(), reason="../shared/data/formats is not beside the project")


@needs_formats
def test_hwp_hwpx_and_pdf_of_one_release_become_one_document(tmp_path):
    for name in ("moef-2024q1-odi.hwp", "moef-2024q1-odi.hwpx", "moef-2024q1-odi.pdf",
                 "moef-2025q2-odi.hwpx", "noori.hwp", "noori.html"):
        shutil.copy(FORMATS / name, tmp_path / name)
    documents, skipped = load_corpus(tmp_path)
    assert sorted(d.doc_id for d in documents) == ["moef-2024q1-odi.hwpx", "moef-2025q2-odi.hwpx", "noori.hwp"]
    reasons = {s.path: s.reason for s in skipped}
    assert set(reasons) == {"moef-2024q1-odi.hwp", "moef-2024q1-odi.pdf", "noori.html"}
    assert "kept moef-2024q1-odi.hwpx" in reasons["moef-2024q1-odi.pdf"]


@needs_formats
def test_two_quarters_of_one_release_series_are_not_duplicates():
    first = read_file(FORMATS / "moef-2024q1-odi.hwpx", FORMATS)[0]
    second = read_file(FORMATS / "moef-2025q2-odi.hwpx", FORMATS)[0]
    pdf = read_file(FORMATS / "moef-2024q1-odi.pdf", FORMATS)[0]
    assert near_duplicates(first + second) == []
    assert [d.dropped for d in near_duplicates(second + pdf)] == []


def test_articles_of_one_collection_are_never_merged():
    text = "\n".join('{"id": "a%d", "title": "같은 사건", "text": "광주시는 오늘 인공지능 기업과 협약을 체결했다."}' % i
                     for i in range(2))
    documents, _ = parse_jsonl(text, "news.jsonl")
    assert near_duplicates(documents) == []
