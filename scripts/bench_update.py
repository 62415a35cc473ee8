"""Time an in-place add and remove of one release on a large index (issue 22).

Usage: .venv/bin/python scripts/bench_update.py INDEX_DIR
INDEX_DIR is a scaled index (``bot bench scale --rows 100000 --work DIR --keep`` leaves
DIR/rows-100000). Prints the seconds of the add (embedding the release's passages with the real
model included) and of the remove, and the time to load the updated index.
"""
import sys
import time
from pathlib import Path

from bot.documents import read_file
from bot.embedding import Embedder
from bot.index import load_index, live_folder
from bot.settings import Settings
from bot.updates import add_documents, remove_document

ROOT = Path(__file__).resolve().parent.parent


def main(index_dir: Path) -> None:
    settings = Settings.from_env()
    embedder = Embedder(settings.model_dir, settings.embed_precision)
    release, _ = read_file(ROOT / "corpus" / "gwangju-gilab-mou-2020-11.txt", ROOT / "corpus")
    release = [r.__class__(**{**r.__dict__, "doc_id": "bench-update-release"}) for r in release]
    embedder.encode_passages(["warm-up"])
    before = load_index(index_dir)
    rows, live = len(before.chunks), before.live_count
    del before
    version = live_folder(index_dir).name
    started = time.perf_counter()
    added = add_documents(index_dir, release, lambda texts: embedder.encode_passages(texts))
    add_s = time.perf_counter() - started
    started = time.perf_counter()
    removed = remove_document(index_dir, "bench-update-release")
    remove_s = time.perf_counter() - started
    started = time.perf_counter()
    after = load_index(index_dir)
    load_s = time.perf_counter() - started
    assert live_folder(index_dir).name == version and after.live_count == live
    print(f"index of {rows:,} rows ({live:,} live): add 1 release ({added} passages) {add_s:.1f} s, "
          f"remove it ({removed} passages) {remove_s:.1f} s, load afterwards {load_s:.1f} s; "
          f"same version folder, updated in place")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
