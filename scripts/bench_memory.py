"""Resident memory of the product: the bot loaded (embedding model, readers, index) and one Korean
and one English question asked. Prints MiB; `BOT_READER_EN_DIR=none` for the reader alone.

    .venv/bin/python scripts/bench_memory.py
"""
import os
import resource

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot import Bot  # noqa: E402

bot = Bot.load()
bot.ask("헬스케어 기업은 몇 곳이 협약했나요?")
bot.ask("How many healthcare companies signed?")
with open("/proc/self/status", encoding="utf-8") as status:
    rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
print(f"english reader: {bot.reader_en is not bot.reader}, precision {bot.reader.precision}, "
      f"resident {rss / 1024:.0f} MiB, peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
