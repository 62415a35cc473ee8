"""OCR time per page: scans of a real release's pages, read as the ingest reads them.

    .venv/bin/python scripts/bench_ocr.py [PDF] [--pages 3] [--scan-dpi 200]

Each page of PDF (default: the MOEF 2024 Q1 release in shared/data/formats) is rendered to a
bitmap and saved as an image-only PDF, as a scanner would; ``bot.formats.pdf.read`` then reads
that file (render at ``ocr.DPI``, Tesseract kor+eng). Prints the seconds and characters of each
page, and the median, with the Tesseract version and the CPU count: the figure for
docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.formats import ocr, pdf  # noqa: E402

RELEASE = ROOT.parent / "shared" / "data" / "formats" / "moef-2024q1-odi.pdf"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pdf", nargs="?", type=Path, default=RELEASE)
    parser.add_argument("--pages", type=int, default=3, help="pages to time (from the first)")
    parser.add_argument("--scan-dpi", type=int, default=200, help="resolution of the simulated scan")
    args = parser.parse_args()
    reason = ocr.unavailable()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 1
    import pytesseract

    source = pdfium.PdfDocument(str(args.pdf))
    count = min(args.pages, len(source))
    timings = []
    with tempfile.TemporaryDirectory() as folder:
        for number in range(count):
            image = source[number].render(scale=args.scan_dpi / 72, grayscale=True).to_pil()
            scan = Path(folder) / f"page-{number + 1}.pdf"
            image.save(scan, "PDF", resolution=args.scan_dpi)
            started = time.perf_counter()
            extracted = pdf.read(scan)
            seconds = time.perf_counter() - started
            timings.append(seconds)
            print(f"page {number + 1}: {seconds:.2f} s, {len(extracted.text):,} characters")
    source.close()
    print(f"OCR per page: median {statistics.median(timings):.2f} s over {count} page(s) "
          f"(render {ocr.DPI} dpi, {ocr.LANGUAGES}, Tesseract {pytesseract.get_tesseract_version()}, "
          f"{os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
