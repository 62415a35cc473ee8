#!/usr/bin/env bash
# The held-out question sets (eval/heldout/README.md), asked with the current settings (BOT_*):
# the news sets over the bundled corpus's index, the release sets over an index of the corpus
# plus five real government releases read from ../shared/data/formats (built once, in .cache/).
set -euo pipefail
cd "$(dirname "$0")/.."
BOT=.venv/bin/bot
FORMATS=../shared/data/formats
HELD=.cache/heldout
if [ ! -f "$HELD/index/CURRENT" ]; then
  rm -rf "$HELD/corpus" && mkdir -p "$HELD/corpus/releases"
  cp -r corpus/. "$HELD/corpus/"
  for f in noori.hwp moef-2024q1-odi.hwpx moef-2025q2-odi.hwpx mot.hwpx digital-gov-innovation-plan-2019.hwp; do
    cp "$FORMATS/$f" "$HELD/corpus/releases/"
  done
  "$BOT" ingest "$HELD/corpus" --index "$HELD/index" --quiet
fi
for set in news_ko news_en; do
  printf '%-12s ' "$set"; "$BOT" eval "eval/heldout/$set.jsonl" --json
done
for set in releases_ko releases_en; do
  printf '%-12s ' "$set"; "$BOT" eval "eval/heldout/$set.jsonl" --index "$HELD/index" --json
done
