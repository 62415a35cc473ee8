"""Loading the corpus: formats, metadata, ids, and files that cannot be read."""
import json
from pathlib import Path

import pytest

from bot.documents import load_corpus, parse_html, parse_jsonl, parse_text, read_file
from bot.errors import BadDocument

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def test_bundled_corpus_has_the_seed_and_644_wikinews_articles_of_which_7_are_copies():
    documents, skipped = load_corpus(CORPUS)
    # 13 articles of the collection in 6 groups of identical text: the first of each is kept.
    assert sorted((s.path, s.reason) for s in skipped) == sorted(
        (f"kowikinews/articles.jsonl ({dropped})", f"same text as kowikinews/articles.jsonl ({kept})") for dropped, kept in [
            ("kowikinews-0615", "kowikinews-0614"), ("kowikinews-0624", "kowikinews-0623"),
            ("kowikinews-0627", "kowikinews-0626"), ("kowikinews-0631", "kowikinews-0628"),
            ("kowikinews-0630", "kowikinews-0629"), ("kowikinews-0642", "kowikinews-0641"),
            ("kowikinews-0643", "kowikinews-0641")])
    assert len(documents) == 638
    ids = {d.doc_id for d in documents}
    assert "gwangju-gilab-mou-2020-11" in ids and "kowikinews-0641" in ids and "kowikinews-0643" not in ids


def test_seed_header_gives_date_title_outlet_and_reporter():
    documents, _ = load_corpus(CORPUS)
    seed = next(d for d in documents if d.doc_id == "gwangju-gilab-mou-2020-11")
    assert seed.date == "2020-11"
    assert seed.title.startswith("이용섭 시장")
    assert seed.source == "아시아경제"
    assert seed.meta["reporter"] == "박선강"
    assert "date 2020-11" not in seed.text and "헬스케어 분야 8" in seed.text


def test_text_without_header_uses_first_line_as_title():
    doc = parse_text("광주시 보도자료 제목\n\n본문 첫 문장이다.", "press/a.txt")
    assert doc.title == "광주시 보도자료 제목" and doc.date is None and doc.doc_id == "press/a"


def test_jsonl_id_becomes_document_id_and_bad_lines_are_reported():
    text = "\n".join([
        json.dumps({"id": "r-1", "title": "제목", "text": "본문", "date": "2024-01-02", "url": "http://x"}),
        "{broken",
        json.dumps({"id": "r-2", "title": "", "text": "본문"}),
    ])
    documents, skipped = parse_jsonl(text, "a.jsonl")
    assert [d.doc_id for d in documents] == ["r-1"]
    assert documents[0].date == "2024-01-02" and documents[0].url == "http://x"
    assert [s.path for s in skipped] == ["a.jsonl:2", "a.jsonl:3"]


def test_html_goes_through_a_parser_and_drops_scripts():
    html = "<html><head><title>보도자료</title><script>alert(1)</script></head>" \
           "<body><h1>큰 제목</h1><p>광주시는 <b>6일</b> 협약을 맺었다.</p></body></html>"
    doc = parse_html(html, "x.html")
    assert doc.title == "보도자료"
    assert "alert" not in doc.text and "6일" in doc.text and "광주시는" in doc.text


def test_unreadable_files_are_reported_and_the_rest_is_read(tmp_path):
    (tmp_path / "good.txt").write_text("제목\n본문이다.", encoding="utf-8")
    (tmp_path / "cp949.txt").write_bytes("옛날 보도자료\n한글 본문".encode("cp949"))
    (tmp_path / "binary.txt").write_bytes(b"\x00\xff\xfe\x00garbage\x00")
    (tmp_path / "empty.md").write_text("   ", encoding="utf-8")
    documents, skipped = load_corpus(tmp_path)
    assert sorted(d.doc_id for d in documents) == ["cp949", "good"]
    assert sorted(s.path for s in skipped) == ["binary.txt", "empty.md"]
    assert all(s.reason for s in skipped)


def test_read_file_names_the_file_in_its_error(tmp_path):
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"\x00\x01\x02\xff")
    with pytest.raises(BadDocument, match="broken.txt"):
        read_file(bad, tmp_path)
