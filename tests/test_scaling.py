"""`bot bench scale`'s synthetic index: real passages repeated under new ids, a real format-3
version that loads, searches and measures like any other."""
import numpy as np
import pytest

from bot import scaling
from bot.index import load_index

QUESTIONS = ["헬스케어 분야 기업은 몇 개인가?", "지아이랩 대표는 누구인가?", "북한 미사일 발사",
             "How many healthcare companies signed?", "올림픽 금메달", "인공지능 집적단지 조성 사업"]


@pytest.mark.slow
def test_scaled_index_repeats_real_passages_and_measures(corpus_index, embedder, tmp_path):
    source = load_index(corpus_index)
    base = scaling.base_of([source])
    size = len(base.chunks)
    assert size == source.live_count > 1000
    rows = 2 * size + 500  # two whole copies and part of a third
    took = scaling.build(tmp_path / "scaled", base, rows, source.manifest, exact_up_to=size)
    assert took["disk_bytes"] > 0 and took["build_s"] > 0

    data = load_index(tmp_path / "scaled")
    assert len(data.chunks) == data.live_count == rows
    assert data.manifest["dense_index"]["type"] == "ivf"  # above the exact threshold given
    first, copy = data.chunks[0], data.chunks[size]
    assert copy.doc_id == f"{first.doc_id}#copy1" and copy.text == first.text
    assert (copy.start, copy.end) == (first.start, first.end)
    assert data.documents[copy.doc_id].text == data.documents[first.doc_id].text
    assert data.chunks[2 * size + 499].doc_id.endswith("#copy2")
    matrix = data.vector_matrix()
    np.testing.assert_array_equal(matrix[:size], source.vector_matrix()[:size])  # the first copy is the base
    similarity = (matrix[size:2 * size] * matrix[:size]).sum(axis=1)
    assert 0.9 < similarity.min() and similarity.max() < 0.9999  # perturbed copies, none identical
    scores = data.lexical.scores("헬스케어 기업")
    assert scores.max() > 0
    np.testing.assert_allclose(scores[size:2 * size], scores[:size], rtol=1e-6)  # same tokens, same score

    vectors = embedder.encode_queries(QUESTIONS)
    measured = scaling.measure(tmp_path / "scaled", QUESTIONS, vectors, recall_queries=len(QUESTIONS))
    assert measured["rows"] == rows and measured["queries"] == len(QUESTIONS)
    assert measured["load_s"] > 0 and measured["rss_mb_after_load"] > 0
    for mode in ("hybrid", "dense", "lexical"):
        assert 0 < measured[f"{mode}_p50_ms"] <= measured[f"{mode}_p95_ms"]
    # Every list probed (fewer lists than the floor): the IVF top-10 is the exact top-10.
    assert data.manifest["dense_index"]["nprobe"] == data.manifest["dense_index"]["nlist"]
    assert measured["dense_recall_at_10"] == 1.0
    sweep = [point["recall"] for point in measured["nprobe_sweep"]]  # more lists probed, never worse
    assert len(sweep) >= 3 and sweep == sorted(sweep)
