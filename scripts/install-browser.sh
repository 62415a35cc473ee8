#!/bin/sh
# Chromium (and its driver) for tests/test_browser.py, and a Korean font so screenshots show Hangul.
# Idempotent: installs only what is missing. Needs root (CI containers run as root).
set -eu
missing=""
[ -x /usr/bin/chromium ] || missing="chromium chromium-driver"
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing="$missing fonts-noto-cjk"
if [ -n "$missing" ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
