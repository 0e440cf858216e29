"""Reciprocal-rank fusion, checked against a brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest

from rag.fusion import RRF_K, reciprocal_rank_fusion


def _oracle(rankings, weights, k=RRF_K):
    ids = sorted({i for r in rankings for i in r})
    scores = np.zeros(len(ids))
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[ids.index(item)] += weight / (k + rank)
    return {i: s for i, s in zip(ids, scores, strict=True)}


@pytest.mark.parametrize("seed", range(20))
def test_fused_scores_equal_the_brute_force_sum(seed):
    rng = np.random.default_rng(seed)
    dense = list(rng.permutation(50)[:30])
    lexical = list(rng.permutation(50)[:30])
    weights = [float(rng.uniform(0.1, 2)), float(rng.uniform(0.1, 2))]
    fused = reciprocal_rank_fusion([dense, lexical], weights)
    oracle = _oracle([dense, lexical], weights)
    assert {i: pytest.approx(s) for i, s in fused} == oracle
    assert [s for _, s in fused] == sorted((s for _, s in fused), reverse=True)


def test_lexical_weight_zero_gives_exactly_the_dense_ranking():
    dense = [5, 3, 9, 1, 7]
    lexical = [1, 2, 3, 4, 5, 6]
    fused = reciprocal_rank_fusion([dense, lexical], [1.0, 0.0])
    assert [i for i, _ in fused][: len(dense)] == dense


def test_an_item_ranked_well_by_both_beats_one_ranked_first_by_one():
    fused = reciprocal_rank_fusion([[1, 2, 3], [4, 2, 5]])
    assert fused[0][0] == 2
