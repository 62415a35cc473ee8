"""Pure fusion and dedup functions."""
import numpy as np

from bot.records import Chunk, Hit
from bot.retrieval import Filters, dedupe, minmax, rrf_fusion, weighted_fusion


def test_weighted_fusion_balances_both_sides():
    rows = np.array([10, 11, 12])
    fused = weighted_fusion(rows, np.array([0.9, 0.8, 0.7]), np.array([0.0, 5.0, 1.0]), 0.5)
    assert [row for row, _ in fused] == [11, 10, 12]


def test_rrf_prefers_items_ranked_well_by_both():
    assert [row for row, _ in rrf_fusion([[1, 2, 3], [9, 2, 3]])][:2] == [2, 3]


def test_minmax_of_a_constant_vector():
    assert minmax(np.array([2.0, 2.0])).tolist() == [1.0, 1.0]


def _hit(doc, start, end, score):
    return Hit(Chunk(doc, 0, "x" * (end - start), start, end, {}), score)


def test_dedupe_drops_overlapping_chunks_of_one_document():
    hits = [_hit("a", 0, 100, 0.9), _hit("a", 80, 180, 0.8), _hit("b", 0, 100, 0.7), _hit("a", 200, 300, 0.6)]
    kept = dedupe(hits, 3)
    assert [(h.doc_id, h.chunk.start) for h in kept] == [("a", 0), ("b", 0), ("a", 200)]


def test_filters_by_date_and_source():
    chunk = Chunk("a", 0, "t", 0, 1, {"date": "2020-11", "source": "아시아경제"})
    assert Filters(date_from="2020-01-01", date_to="2020-12-31").admits(chunk)
    assert not Filters(date_from="2021-01-01").admits(chunk)
    assert not Filters(sources=("ko.wikinews",)).admits(chunk)
