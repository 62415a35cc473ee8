#!/bin/sh
# Tesseract and its Korean model, for reading scanned (image-only) PDF pages (bot/formats/ocr.py).
# Idempotent: installs only what is missing. Needs root (CI containers run as root).
set -eu
missing=""
command -v tesseract >/dev/null 2>&1 || missing="tesseract-ocr"
tesseract --list-langs 2>/dev/null | grep -qx kor || missing="$missing tesseract-ocr-kor"
if [ -n "$missing" ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
