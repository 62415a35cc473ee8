"""The index folder: atomic writes, save/load round trip, refusal of incompatible indexes.

A writer killed at every step is tests/test_index_crash.py."""
import json
import shutil

import pytest

from bot.errors import IndexIncompatible, IndexNotFound
from bot.index import CURRENT, LOCK, live_folder, load_index, read_manifest
from bot.model_build import model_fingerprint
from bot.retrieval import HybridRetriever

pytestmark = pytest.mark.slow


def test_manifest_records_how_the_index_was_built(corpus_index, model_dir):
    manifest = read_manifest(corpus_index)
    assert manifest["documents"] == 638  # 645 files' documents, 7 exact copies dropped
    assert manifest["model"] == "intfloat/multilingual-e5-small"
    assert manifest["model_fingerprint"] == model_fingerprint(model_dir)
    assert manifest["dimension"] == 384
    assert {"chunk_size", "chunk_overlap", "corpus_fingerprint", "format_version", "built_at"} <= set(manifest)
    assert json.loads((live_folder(corpus_index) / "manifest.json").read_text(encoding="utf-8")) == manifest


def test_every_stored_chunk_is_its_document_at_its_offsets(corpus_index):
    data = load_index(corpus_index)
    for chunk in data.chunks:
        assert data.documents[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text


def test_save_then_load_gives_the_same_ranking(corpus_index, tmp_path, embedder):
    copy = tmp_path / "copy"
    shutil.copytree(corpus_index, copy)
    question = "헬스케어 분야 기업은 몇 개인가?"
    vector = embedder.encode_queries([question])[0]
    first = HybridRetriever(load_index(corpus_index)).search(vector, question, k=5)
    second = HybridRetriever(load_index(copy)).search(vector, question, k=5)
    assert [(h.doc_id, h.chunk.start) for h in first] == [(h.doc_id, h.chunk.start) for h in second]


def test_a_keyword_search_needs_no_query_vector(corpus_index):
    hits = HybridRetriever(load_index(corpus_index)).search(None, "헬스케어 분야 기업", k=3, mode="lexical")
    assert hits and hits[0].doc_id == "gwangju-gilab-mou-2020-11"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_missing_index_says_to_run_make_index(tmp_path):
    with pytest.raises(IndexNotFound, match="make index"):
        load_index(tmp_path / "nowhere")


def test_index_from_another_model_or_format_is_refused(corpus_index, tmp_path, model_dir):
    copy = tmp_path / "old"
    shutil.copytree(corpus_index, copy)
    manifest_file = live_folder(copy) / "manifest.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    with pytest.raises(IndexIncompatible, match="another embedding model"):
        load_index(copy, model_fingerprint="0000other")
    manifest["format_version"] = 0
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexIncompatible, match="rebuild"):
        load_index(copy, model_fingerprint(model_dir))


def test_a_failed_write_leaves_the_old_index_untouched(corpus_index, tmp_path, embedder, settings, model_dir, monkeypatch):
    from bot import ingest as ingest_module
    from bot.documents import parse_text
    from bot.lexical import LexicalIndex

    target = tmp_path / "index"
    shutil.copytree(corpus_index, target)
    live = live_folder(target)
    before = (live / "manifest.json").read_bytes()

    def crash(self, folder):
        raise OSError("disk full")

    monkeypatch.setattr(LexicalIndex, "save", crash)
    document = parse_text("새 보도자료\n광주시는 새 협약을 맺었다.", "new.txt")
    with pytest.raises(OSError):
        ingest_module.ingest_documents([document], target, embedder, settings, model_fingerprint(model_dir))
    assert live_folder(target) == live and (live / "manifest.json").read_bytes() == before
    assert len(load_index(target).chunks) == read_manifest(target)["chunks"]
    assert sorted(p.name for p in target.iterdir()) == sorted([CURRENT, LOCK, live.name])  # no staging left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]
