"""What the embedded backend searches: BM25 as bm25s scores it, and a base plus changes ranking as a fresh build."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from rag.lexical import terms
from rag.storage import bm25
from rag.storage.embedded.postings import Postings
from rag.storage.embedded.searchable import Base, Searchable
from rag.storage.embedded.store import SegmentRows
from tests.conftest import EXAMPLES

DIMENSION = 16
QUESTIONS = ["military base security", "budget for the harbour", "migration of workers", "rail freight tariffs"]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Real paragraphs: the example transcripts cut at blank lines."""
    paragraphs = []
    for path in sorted(EXAMPLES.glob("*.txt")):
        paragraphs += [p.strip() for p in path.read_text().split("\n\n") if len(p.split()) > 5]
    return paragraphs


def rows_of(ids, texts, seed: int = 0) -> SegmentRows:
    vectors = np.random.default_rng(seed).normal(size=(len(ids), DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return SegmentRows(np.asarray(ids, dtype=np.int64), vectors, [terms(t) for t in texts])


def fresh(tmp_path, rows: SegmentRows, generation: int = 1) -> Searchable:
    base = Base.build(tmp_path / f"base-{generation}", generation, rows, DIMENSION)
    return Searchable.start(base, generation, rows_of([], []), np.zeros(0, dtype=np.int64))


def test_bm25_scores_are_those_bm25s_gives(texts):
    tokens = [terms(t) for t in texts]
    reference = bm25s.BM25()
    reference.index(tokens, show_progress=False)
    postings = Postings.build(tokens)
    average = np.mean(postings.lengths)
    for question in QUESTIONS:
        ours = np.zeros(len(texts))
        for term in terms(question):
            rows, tfs = postings.lookup(term)
            weight = bm25.idf(len(texts), len(rows))
            ours[rows] += bm25.term_scores(weight, tfs, postings.lengths[rows], average)
        expected = reference.get_scores(terms(question))
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_equal_scores_are_ranked_by_id_and_only_positive_scores_count():
    ids = np.array([30, 10, 20, 40])
    assert bm25.top(ids, np.array([1.0, 2.0, 1.0, 0.0]), 4) == [(10, 2.0), (20, 1.0), (30, 1.0)]
    assert bm25.top(ids, np.array([1.0, 1.0, 1.0, 1.0]), 2) == [(10, 1.0), (20, 1.0)]


def test_a_filter_admits_only_its_segments(tmp_path, texts):
    searchable = fresh(tmp_path, rows_of(range(1, len(texts) + 1), texts))
    allowed = np.array([3, 5, 8])
    assert {i for i, _ in searchable.lexical(terms("military base"), 10, allowed)} <= {3, 5, 8}
    vector = rows_of([1], ["x"], seed=9).vectors[0]
    assert [i for i, _ in searchable.dense(vector, 10, allowed)] == sorted(
        [3, 5, 8], key=lambda i: -float(searchable.base.vectors.index.reconstruct(int(i)) @ vector)
    )


def test_a_base_with_changes_ranks_exactly_as_a_fresh_build_of_the_same_segments(tmp_path, texts):
    """Many small advances (adds, deletes of base and delta rows) against one build from scratch."""
    rng = np.random.default_rng(4)
    first = len(texts) // 3
    everything = rows_of(range(1, len(texts) + 1), texts)

    def part(positions) -> SegmentRows:
        positions = np.asarray(positions, dtype=np.int64)
        return SegmentRows(
            everything.ids[positions], everything.vectors[positions], [everything.terms[i] for i in positions]
        )

    current = fresh(tmp_path, part(range(first)))
    live = set(range(1, first + 1))
    generation = 1
    for start in range(first, len(texts), 7):
        generation += 1
        added = part(range(start, min(start + 7, len(texts))))
        doomed = rng.choice(sorted(live), size=min(3, len(live)), replace=False)
        current = current.advance(generation, added, doomed)
        live = (live | set(added.ids.tolist())) - set(doomed.tolist())
    kept = sorted(i - 1 for i in live)
    scratch = fresh(tmp_path, part(kept), generation=99)
    assert current.n_live == scratch.n_live == len(live)
    for question in QUESTIONS:
        ours, theirs = current.lexical(terms(question), 20, None), scratch.lexical(terms(question), 20, None)
        assert [i for i, _ in ours] == [i for i, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-12)
    for seed in range(4):
        vector = rows_of([1], ["x"], seed=100 + seed).vectors[0]
        ours, theirs = current.dense(vector, 20, None), scratch.dense(vector, 20, None)
        assert [i for i, _ in ours] == [i for i, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)


def test_a_deleted_segment_is_never_found_even_when_it_matches_best(tmp_path, texts):
    rows = rows_of(range(1, len(texts) + 1), texts)
    searchable = fresh(tmp_path, rows)
    best = searchable.dense(rows.vectors[4], 1, None)[0][0]
    assert best == 5
    after = searchable.advance(2, rows_of([], []), np.array([5]))
    assert 5 not in [i for i, _ in after.dense(rows.vectors[4], 50, None)]
    assert 5 not in [i for i, _ in after.lexical(rows.terms[4], 50, None)]
    assert 5 in [i for i, _ in searchable.dense(rows.vectors[4], 50, None)], "an older generation still has it"
