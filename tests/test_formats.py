"""Format readers on real press releases (read in place from shared/data/formats) and their pure
helpers. The files are never copied into the project; without the folder those tests skip."""
from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from bot.errors import BadDocument
from bot.formats import READERS, Extracted, build, read, table_lines
from bot.formats.hwp import decode_para_text, decrypt_distribution_stream
from bot.formats.html import hancom_html_text
from bot.formats.press_meta import extract, parse_date, release_date

FORMATS = Path(__file__).resolve().parents[2] / "shared" / "data" / "formats"


@pytest.fixture(scope="module")
def formats() -> Path:
    if not FORMATS.is_dir():
        pytest.skip(f"sample documents not found at {FORMATS} (shared/ beside the repo)")
    return FORMATS


_cache: dict[str, Extracted] = {}


def extracted(folder: Path, name: str) -> Extracted:
    if name not in _cache:
        _cache[name] = read(folder / name)
    return _cache[name]


def row(*cells: str) -> re.Pattern:
    """A table row with these adjacent cells, separated by `` | `` (or by spaces, as in PDF)."""
    return re.compile(r"\s*(?:\|\s*)?".join(re.escape(cell) for cell in cells))


# --- each file: characteristic sentences and table figures -------------------------------------

EXPECTED = {
    "noori.hwp": ["｢누리｣", "한국형발사체(KSLV-2)의 새로운 이름으로 “누리”가 선정되었다고 밝혔다.",
                  "약 6,300여명의 국민이 참여하여", row("총 길이", "47.2 m", "25.8 m"),
                  row("이륙 중량", "200 톤", "52.1 톤")],
    "moef-2024q1-odi.hwp": ["총투자액 기준 150.9억 달러로", "순투자액은 128.7억 달러로",
                            row("‘24.1Q", "55.0", "40.5", "22.4", "9.3", "6.3"),
                            row("총투자", "282.3", "198.5", "184.8", "150.9", "176.8")],
    "moef-2024q1-odi.hwpx": ["총투자액 기준 150.9억 달러로", "순투자액은 128.7억 달러로",
                             row("‘24.1Q", "55.0", "40.5", "22.4", "9.3", "6.3"),
                             row("총투자", "282.3", "198.5", "184.8", "150.9", "176.8")],
    "moef-2024q1-odi.pdf": ["총투자액 기준 150.9억 달러로", "순투자액은 128.7억 달러로",
                            row("‘24.1Q", "55.0", "40.5", "22.4", "9.3", "6.3"),
                            row("총투자", "282.3", "198.5", "184.8", "150.9", "176.8")],
    "moef-2025q2-odi.hwpx": ["총투자액 기준 141.5억 달러로 전년 동기(163.4억 달러) 대비 13.4% 감소하였다.",
                             row("‘25.2Q", "66.3", "35.3", "7.5", "7.1", "6.6")],
    "mot.hwpx": ["장미란 제2차관", "진천 국가대표 선수촌", "200일 남짓 남은 기간",
                 row("체육정책과", "담당자", "사무관", "최준규", "(044-203-3129)")],
    "no_manifest.hwpx": ["울산광역시 남구 구세 조례 일부개정조례안", "‘재산분’의 명칭을 ‘사업소분’으로 개정",
                         row("제1절 재산분", "제1절 사업소분")],
    "digital-gov-innovation-plan-2019.hwp": ["디지털 정부혁신 추진계획", "관계부처 합동",
                                             "공공부문 마이데이터 활성화", "(비전) 디지털로 여는 좋은 세상"],
    "distribution.hwp": ["2025년 강남세움센터 시설관리원 용역업체 선정 입찰공고",
                         "금72,300,000원(금칠천이백삼십만원)"],
    "sample-word-document.docx": ["Semantic Search", "정의: 임베딩은 단어나 문장 같은 텍스트 데이터를",
                                  "벡터스토어", "연관키워드: 자연어 처리, 벡터화, 딥러닝"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_file_text_has_its_sentences_and_table_rows(formats, name):
    text = extracted(formats, name).text
    for expected in EXPECTED[name]:
        if isinstance(expected, re.Pattern):
            assert expected.search(text), f"{name}: no table row like {expected.pattern!r}"
        else:
            assert expected in text, f"{name}: {expected!r} missing"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_text_is_clean(formats, name):
    text = extracted(formats, name).text
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\ue000-\uf8ff]", text)
    for line in text.split("\n"):
        assert line and line == line.strip() and "  " not in line, f"{name}: unclean line {line!r}"


def test_same_release_reads_the_same_in_hwp_hwpx_and_pdf(formats):
    texts = {suffix: extracted(formats, f"moef-2024q1-odi{suffix}").text for suffix in (".hwp", ".hwpx", ".pdf")}
    headline = {"150.9억 달러", "176.8억 달러", "128.7억 달러", "138.4억 달러", "14.6%", "7.0%"}
    for suffix, text in texts.items():
        assert headline <= set(re.findall(r"\d+\.\d+억 달러|\d+\.\d+%", text)), suffix
    assert texts[".hwp"] == texts[".hwpx"]
    words = lambda text: set(re.findall(r"\w+", text))  # noqa: E731
    assert len(words(texts[".pdf"]) & words(texts[".hwp"])) >= 0.95 * len(words(texts[".hwp"]))


# --- metadata ----------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".hwp", ".hwpx", ".pdf"])
def test_moef_metadata(formats, suffix):
    found = extracted(formats, f"moef-2024q1-odi{suffix}")
    assert found.meta["issuer"] == "기획재정부"
    assert found.meta["date"] == "2024-06-21"
    assert found.meta["department"] == "대외경제국 국제경제과"
    assert "황예진" in found.meta["contact"]
    assert found.meta["format"] == suffix[1:]
    assert found.title == "‘24년 1분기 해외직접투자는 150.9억 달러로 전년동기비 14.6% 감소"


def test_noori_metadata(formats):
    found = extracted(formats, "noori.hwp")
    assert found.meta["issuer"] == "과학기술정보통신부"
    assert found.meta["date"] == "2018-09-04"  # 보도일시, not 배포일시 (9. 3.)
    assert found.meta["department"] == "거대공공연구정책과"
    assert found.meta["contact"] == "용찬재 사무관(02-2110-2428)"
    assert found.title == "우리가 독자 개발하여 최초 발사하는 한국형발사체, 국민이 정한 그 이름은 ｢누리｣"


@pytest.mark.parametrize("name, issuer, date", [
    ("mot.hwpx", "문화체육관광부", "2024-01-02"),
    ("moef-2025q2-odi.hwpx", "기획재정부", "2025-09-19"),
    ("digital-gov-innovation-plan-2019.hwp", "관계부처 합동", "2019-10-29"),
    ("no_manifest.hwpx", "울산광역시 남구", "2021-02-05"),
])
def test_issuer_and_date(formats, name, issuer, date):
    found = extracted(formats, name)
    assert (found.meta.get("issuer"), found.meta.get("date")) == (issuer, date)


# --- 배포용, damaged and unsupported files -------------------------------------------------------

def test_distribution_document_is_decrypted_never_the_placeholder(formats):
    try:
        found = read(formats / "distribution.hwp")
    except BadDocument as error:
        assert "distribution.hwp" in str(error) and "배포용" in str(error)
        return
    assert "배포용 문서" not in found.text and "뷰어가 필요합니다" not in found.text
    assert "입찰참가자격" in found.text and len(found.text) > 1500


def test_placeholder_notice_is_refused():
    notice = ["이 문서는 상위 버전의 배포용 문서입니다. 문서를 읽으려면 최신 버전의 글 또는 글 전용 뷰어가 필요합니다."]
    with pytest.raises(BadDocument, match="placeholder"):
        build(notice, "hwp", Path("notice.hwp"))


def test_distribution_stream_must_start_with_its_key_record():
    with pytest.raises(ValueError):
        decrypt_distribution_stream(b"\x00" * 300)


@pytest.mark.parametrize("suffix", sorted(READERS))
def test_corrupt_file_raises_bad_document_naming_it(tmp_path, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"\x00\x01 this is not a document \xff" * 40)
    with pytest.raises(BadDocument, match=re.escape(path.name)):
        read(path)


@pytest.mark.parametrize("name", ["noori.hwp", "mot.hwpx", "moef-2024q1-odi.pdf", "sample-word-document.docx"])
def test_truncated_file_raises_bad_document(formats, tmp_path, name):
    path = tmp_path / f"truncated-{name}"
    path.write_bytes((formats / name).read_bytes()[:4000])
    with pytest.raises(BadDocument, match=re.escape(path.name)):
        read(path)


def test_unsupported_or_missing_file(tmp_path):
    with pytest.raises(BadDocument, match="unsupported"):
        read(tmp_path / "notes.txt")
    with pytest.raises(BadDocument, match="gone.hwp"):
        read(tmp_path / "gone.hwp")


def test_readers_cover_the_formats():
    assert set(READERS) == {".hwp", ".hwpx", ".pdf", ".docx"}


# --- Hancom HTML export --------------------------------------------------------------------------

def test_hancom_html_reads_whole_words_like_the_hwp(formats):
    html = (formats / "noori.html").read_text(encoding="utf-8-sig")
    text, title = hancom_html_text(html)
    assert "이름으로" in text  # "이름" and "으로" are separate spans
    assert "“누리”가 선정되었다고 밝혔다." in text  # "선정" | "되었다고" across spans
    assert "비행성능을" in text  # a word the layout wrapped across two lines
    assert row("총 길이", "47.2 m", "25.8 m").search(text)
    assert title is not None and "누리" in title
    words = lambda value: re.findall(r"\w+", value)  # noqa: E731
    html_words, hwp_words = words(text), set(words(extracted(formats, "noori.hwp").text))
    assert sum(word in hwp_words for word in html_words) >= 0.97 * len(html_words)


def test_hancom_html_empty():
    assert hancom_html_text("") == ("", None)


# --- pure helpers --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, iso", [
    ("2026. 1. 30.(금) 11:00", "2026-01-30"),
    ("2024.6.21.", "2024-06-21"),
    ("2024년 6월 21일(금)", "2024-06-21"),
    ("2024-06-21", "2024-06-21"),
    ("2024. 13. 40.", None),
    ("배포 없음", None),
])
def test_parse_date(text, iso):
    assert parse_date(text) == iso


def test_release_date_prefers_embargo_over_distribution():
    lines = ["배포일시 | 2018. 9. 3.(월) 09:00", "보도일시 | 2018. 9. 4.(화) 조간"]
    assert release_date(lines) == "2018-09-04"
    assert release_date(["배포 2024.6.20."]) == "2024-06-20"


def test_extract_states_only_what_the_text_says():
    title, meta = extract("본문만 있는 짧은 문서입니다.")
    assert title is None and meta == {}


def test_decode_para_text_strips_controls():
    def units(*values: int) -> bytes:
        return struct.pack(f"<{len(values)}H", *values)
    table = units(11, 0x626C, 0x7420, 0, 0, 0, 0, 11)  # extended control ("tbl "): 8 units
    tab = units(9, 0, 0, 0, 0, 0, 0, 9)  # inline control: 8 units
    payload = "가".encode("utf-16-le") + table + "나".encode("utf-16-le") + tab + "다".encode("utf-16-le") + units(13)
    assert decode_para_text(payload) == ["가", 11, "나 다"]


def test_table_lines_rows_and_text_boxes():
    cells = [(0, 1, ["2023"]), (0, 0, ["구분"]), (0, 2, ["2024"]),
             (1, 0, ["총투자"]), (1, 1, ["176.8"]), (1, 2, ["150.9"]),
             (2, 0, ["첫 문단", "둘째 문단"])]
    assert table_lines(cells) == ["구분 | 2023 | 2024", "총투자 | 176.8 | 150.9", "첫 문단", "둘째 문단"]


def test_docx_table_rows_in_body_order(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("표 앞 문단")
    table = document.add_table(rows=2, cols=3)
    for r, values in enumerate([("구분", "2023", "2024"), ("총투자", "176.8", "150.9")]):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    document.add_paragraph("표 뒤 문단")
    path = tmp_path / "table.docx"
    document.save(path)
    assert read(path).text == "표 앞 문단\n구분 | 2023 | 2024\n총투자 | 176.8 | 150.9\n표 뒤 문단"
