"""Scanned releases: PDF pages with no text layer are read by Tesseract (Korean model).

The scan is made from a real release: page 1 of the MOEF 2024 Q1 release (shared/data/formats)
rendered to a bitmap and saved as a PDF that holds only that image, as a scanner would. It is
ingested by the real pipeline beside two other releases and asked about a figure printed on it.
A scanned page OCR cannot read is reported, never indexed empty; OCR stays within the file's
limits (pages, time).
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw

from bot import Bot, limits
from bot.documents import load_corpus, read_file
from bot.errors import BadDocument
from bot.formats import ocr
from bot.ingest import ingest
from bot.model_build import model_fingerprint

FORMATS = Path(__file__).resolve().parents[2] / "shared" / "data" / "formats"
RELEASE = FORMATS / "moef-2024q1-odi.pdf"
SCAN_DPI = 200  # a common scanner setting; the reader renders the page again at ocr.DPI

needs_tesseract = pytest.mark.skipif(ocr.unavailable() is not None,
                                     reason=f"{ocr.unavailable()} (make ocr)")


def scan_of(source: Path, target: Path, pages=(0,), dpi: int = SCAN_DPI) -> Path:
    """``target``: an image-only PDF of ``pages`` of ``source``, one grayscale bitmap a page."""
    document = pdfium.PdfDocument(str(source))
    images = [document[number].render(scale=dpi / 72, grayscale=True).to_pil() for number in pages]
    document.close()
    images[0].save(target, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return target


def picture(target: Path, resolution: float = 200) -> Path:
    """An image-only PDF page with no writing on it: shapes, as on a photo page of a release
    (A4 at the default ``resolution``; a lower one declares a larger page)."""
    image = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((200, 300, 1450, 1100), fill=150)
    draw.ellipse((500, 1300, 1150, 1950), fill=60)
    image.save(target, "PDF", resolution=resolution)
    return target


def text_layer_chars(path: Path) -> int:
    document = pdfium.PdfDocument(str(path))
    count = sum(page.get_textpage().count_chars() for page in document)
    document.close()
    return count


@pytest.fixture(scope="module")
def scan_corpus(tmp_path_factory) -> Path:
    if not RELEASE.is_file():
        pytest.skip(f"sample documents not found at {FORMATS} (shared/ beside the repo)")
    corpus = tmp_path_factory.mktemp("scans") / "corpus"
    corpus.mkdir()
    scan_of(RELEASE, corpus / "moef-2024q1-scan.pdf")
    for name in ("moef-2025q2-odi.hwpx", "mot.hwpx"):  # same series other figures; another ministry
        shutil.copy(FORMATS / name, corpus / name)
    return corpus


def test_wrapped_lines_are_joined_and_short_lines_kept():
    # Tesseract's text for page 1 of the scanned release: it started a paragraph mid-sentence.
    text = ("< 분기별 해외직접투자액 추이 >\n\n"
            "2024년 1분기(1~3월) 해외직접투자액은 총투자액 기준 150.9억 달러로\n"
            "전년 동기(176.8억 달러) 대비 14.6% 하락하였다. 한편, 총투자액에서 회수\n"
            "금액(지분매각, 청산 등)을 차감한 순투자액은 128.7억 달러로 전년 동기\n\n"
            "(138.4억 달러) 대비 7.0% 감소하였다.\n\n"
            "2022년  2023년\n11.7\n\x0c")
    assert ocr.text_lines(text) == [
        "< 분기별 해외직접투자액 추이 >",
        "2024년 1분기(1~3월) 해외직접투자액은 총투자액 기준 150.9억 달러로 전년 동기(176.8억 달러) "
        "대비 14.6% 하락하였다. 한편, 총투자액에서 회수 금액(지분매각, 청산 등)을 차감한 순투자액은 "
        "128.7억 달러로 전년 동기 (138.4억 달러) 대비 7.0% 감소하였다.",
        "2022년 2023년", "11.7"]


def test_confidence_is_the_words_mean_weighted_by_length():
    table = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
             "1\t1\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t\n"
             "5\t1\t1\t1\t1\t1\t100\t100\t80\t50\t90.5\t순투\n"
             "5\t1\t1\t1\t1\t2\t200\t100\t80\t50\t30\t자액은\n")
    assert ocr.mean_confidence(table) == pytest.approx((90.5 * 2 + 30 * 3) / 5)
    assert ocr.mean_confidence("") == 0.0


@needs_tesseract
@pytest.mark.slow
def test_figure_on_a_scanned_page_is_answered_from_ocr(scan_corpus, tmp_path, embedder, settings,
                                                      model_dir):
    scan = scan_corpus / "moef-2024q1-scan.pdf"
    assert text_layer_chars(scan) == 0  # nothing to read but the picture of the page
    report = ingest(scan_corpus, tmp_path / "index", embedder, settings, model_fingerprint(model_dir))
    assert report.documents == 3 and report.skipped == (), report.skipped
    bot = Bot.load(tmp_path / "index", settings=settings, embedder=embedder)
    document = bot.data.documents["moef-2024q1-scan.pdf"]
    assert document.meta["ocr_pages"] == [1]

    answer = bot.ask("2024년 1분기 순투자액은 얼마인가요?")
    assert not answer.refused, answer
    assert "128.7억 달러" in answer.text, answer.text
    first = answer.citations[0]
    assert first.doc_id == "moef-2024q1-scan.pdf" and first.ocr
    # The quote is the OCR text at its offsets, and the answering span holds the figure.
    assert document.text[first.start:first.end] == first.quote
    assert "순투자액" in first.quote
    assert "128.7억" in document.text[first.span_start:first.span_end]
    # Documents with a text layer are not marked.
    other = bot.ask("2025년 2분기 해외직접투자액은 총투자액 기준 얼마인가?")
    assert all(not c.ocr for c in other.citations if c.doc_id != "moef-2024q1-scan.pdf")


def test_a_pdf_with_a_text_layer_is_not_ocrd():
    if not RELEASE.is_file():
        pytest.skip(f"sample documents not found at {FORMATS}")
    (document,), skipped = read_file(RELEASE, FORMATS)
    assert skipped == [] and "ocr_pages" not in document.meta
    assert "순투자액은 128.7억 달러" in document.text


def test_a_page_of_any_declared_size_is_rendered_within_the_pixel_limit(tmp_path):
    # At 2 "dpi" the page declares itself 827 x 1170 inches: 2.4 billion pixels at 200 dpi.
    document = pdfium.PdfDocument(str(picture(tmp_path / "huge.pdf", resolution=2)))
    image = ocr.render(document[0])
    assert limits.MAX_OCR_PIXELS / 2 < image.width * image.height <= limits.MAX_OCR_PIXELS
    document.close()


@needs_tesseract
def test_an_image_only_pdf_ocr_cannot_read_is_skipped_with_its_reason(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    picture(corpus / "photo.pdf")
    documents, skipped = load_corpus(corpus)
    assert documents == []
    assert [s.path for s in skipped] == ["photo.pdf"]
    assert "image-only PDF" in skipped[0].reason and "OCR could not read" in skipped[0].reason


@needs_tesseract
def test_an_unreadable_scanned_page_is_reported_and_the_rest_indexed(tmp_path):
    if not RELEASE.is_file():
        pytest.skip(f"sample documents not found at {FORMATS}")
    photo = picture(tmp_path / "photo.pdf")
    combined = pdfium.PdfDocument.new()
    combined.import_pages(pdfium.PdfDocument(str(RELEASE)), [0])
    combined.import_pages(pdfium.PdfDocument(str(photo)), [0])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    combined.save(str(corpus / "release-with-photo.pdf"))
    documents, skipped = load_corpus(corpus)
    (document,) = documents
    assert "순투자액은 128.7억 달러" in document.text
    assert document.meta["ocr_pages"] == [] and "pages_not_read" not in document.meta
    assert [(s.path, s.reason.split(":")[0]) for s in skipped] == [("release-with-photo.pdf", "page 2")]
    assert "OCR could not read" in skipped[0].reason


def test_a_scan_without_tesseract_is_refused_naming_the_fix(tmp_path, monkeypatch):
    if not RELEASE.is_file():
        pytest.skip(f"sample documents not found at {FORMATS}")
    monkeypatch.setattr(ocr, "unavailable", lambda: "Tesseract is not installed (run scripts/install-ocr.sh)")
    scan = scan_of(RELEASE, tmp_path / "scan.pdf", dpi=72)
    with pytest.raises(BadDocument, match="install-ocr.sh"):
        read_file(scan, tmp_path)


def test_more_scanned_pages_than_the_limit_are_refused_before_any_ocr(tmp_path, monkeypatch):
    if not RELEASE.is_file():
        pytest.skip(f"sample documents not found at {FORMATS}")
    monkeypatch.setattr(limits, "MAX_OCR_PAGES", 2)
    monkeypatch.setattr(ocr, "read_page", lambda *args: pytest.fail("OCR ran"))
    scan = scan_of(RELEASE, tmp_path / "scan.pdf", pages=(0, 1, 2), dpi=72)
    with pytest.raises(BadDocument, match="3 scanned pages, over the 2"):
        read_file(scan, tmp_path)


@needs_tesseract
def test_ocr_past_the_files_time_budget_is_killed_and_reported(tmp_path, monkeypatch):
    if not RELEASE.is_file():
        pytest.skip(f"sample documents not found at {FORMATS}")
    # One tall page holding four pages of the release: seconds of work for Tesseract on any
    # machine, and rendered (15 million pixels, under the cap) in a fraction of one.
    document = pdfium.PdfDocument(str(RELEASE))
    pages = [document[number].render(scale=SCAN_DPI / 72, grayscale=True).to_pil() for number in range(4)]
    tall = Image.new("L", (pages[0].width, sum(page.height for page in pages)), 255)
    for number, page in enumerate(pages):
        tall.paste(page, (0, number * pages[0].height))
    tall.save(tmp_path / "tall.pdf", "PDF", resolution=SCAN_DPI)
    # The text layer is read in milliseconds, so Tesseract starts with about a second left.
    monkeypatch.setattr(limits, "SECONDS_PER_FILE", 0.5)
    monkeypatch.setattr(limits, "OCR_SECONDS_PER_PAGE", 1.0)
    started = time.monotonic()
    with pytest.raises(BadDocument, match="OCR of page 1 ran past the file's time budget"):
        read_file(tmp_path / "tall.pdf", tmp_path)
    # Killed at the deadline (pytesseract waits up to 1 s for it to end before it kills).
    assert time.monotonic() - started < limits.SECONDS_PER_FILE + limits.OCR_SECONDS_PER_PAGE + 2
