"""BM25 (the Lucene variant, as bm25s scores it by default), computed at query time from raw counts.

Scores are computed when a question is asked from term frequencies, segment lengths and the collection's
live statistics (segments, total length, each term's document frequency), never stored: a document added
or deleted changes every segment's score, and nothing has to be rewritten for it.
"""

from __future__ import annotations

import numpy as np

K1 = 1.5
B = 0.75


def idf(n_segments: int, df: int) -> float:
    """Inverse document frequency of a term found in `df` of `n_segments` segments."""
    return float(np.log1p((n_segments - df + 0.5) / (df + 0.5)))


def term_scores(weight: float, tf: np.ndarray, lengths: np.ndarray, average_length: float) -> np.ndarray:
    """One term's contribution to each segment holding it (tf times in a segment of `lengths` terms)."""
    tf = tf.astype(np.float64, copy=False)
    norm = K1 * ((1 - B) + B * lengths.astype(np.float64, copy=False) / average_length)
    return weight * tf / (norm + tf)


def top(ids: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k best (id, score) with a positive score, best first; equal scores are taken by id."""
    keep = scores > 0
    ids, scores = ids[keep], scores[keep]
    if not len(ids) or k <= 0:
        return []
    if len(ids) > k:
        kth = np.partition(-scores, k - 1)[k - 1]
        # everything at least as good as the k-th, then the order below settles ties by id
        chosen = -scores <= kth
        ids, scores = ids[chosen], scores[chosen]
    order = np.lexsort((ids, -scores))[:k]
    return [(int(ids[i]), float(scores[i])) for i in order]
