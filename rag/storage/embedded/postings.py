"""BM25's raw counts: which rows (segments) hold each term and how often, and each row's length.

`Postings` is the base's, built once and saved as plain .npy arrays (memory-mapped when loaded) with its
vocabulary as JSON; `GrowingPostings` holds the rows written since, appended in place. Scores are
computed from these counts when a question is asked (rag.storage.bm25).
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_EMPTY_ROWS = np.zeros(0, dtype=np.int32)
_EMPTY_TFS = np.zeros(0, dtype=np.float32)


class Postings:
    """Term -> (rows ascending, term frequencies), in one CSR layout; `lengths` is each row's term count."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        indptr: np.ndarray,
        rows: np.ndarray,
        tfs: np.ndarray,
        lengths: np.ndarray,
    ):
        self.vocabulary = vocabulary
        self.indptr = indptr
        self.rows = rows
        self.tfs = tfs
        self.lengths = lengths

    @classmethod
    def build(cls, term_lists: Sequence[Sequence[str]]) -> Postings:
        """Count the terms of each row (a segment's terms, in row order)."""
        vocabulary: defaultdict[str, int] = defaultdict(itertools.count().__next__)
        term_ids = np.fromiter(
            (vocabulary[t] for words in term_lists for t in words),
            dtype=np.int64,
            count=sum(len(words) for words in term_lists),
        )
        lengths = np.fromiter((len(words) for words in term_lists), dtype=np.int32, count=len(term_lists))
        n_rows = max(len(term_lists), 1)
        row_of = np.repeat(np.arange(len(term_lists), dtype=np.int64), lengths)
        # one key per (term, row), sorted: the CSR order, with each pair's count its term frequency
        keys, counts = np.unique(term_ids * n_rows + row_of, return_counts=True)
        terms_of = keys // n_rows
        indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms_of, minlength=len(vocabulary)), out=indptr[1:])
        return cls(
            dict(vocabulary), indptr, (keys % n_rows).astype(np.int32), counts.astype(np.float32), lengths
        )

    def lookup(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The rows holding `term` (ascending) and how often each does."""
        position = self.vocabulary.get(term)
        if position is None:
            return _EMPTY_ROWS, _EMPTY_TFS
        start, end = int(self.indptr[position]), int(self.indptr[position + 1])
        return self.rows[start:end], self.tfs[start:end]

    def save(self, directory: Path) -> None:
        vocabulary = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        (directory / "terms.json").write_text(json.dumps(vocabulary, ensure_ascii=False))
        for name in ("indptr", "rows", "tfs", "lengths"):
            np.save(directory / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> Postings:
        """Read saved postings: plain arrays, memory-mapped, and the vocabulary; never a pickle."""
        vocabulary = json.loads((directory / "terms.json").read_text())
        arrays = {
            name: np.load(directory / f"{name}.npy", allow_pickle=False, mmap_mode="r")
            for name in ("indptr", "rows", "tfs", "lengths")
        }
        if len(arrays["indptr"]) != len(vocabulary) + 1 or len(arrays["rows"]) != len(arrays["tfs"]):
            raise ValueError(f"{directory}: postings arrays do not agree with the vocabulary")
        return cls({t: i for i, t in enumerate(vocabulary)}, **arrays)


class GrowingPostings:
    """Postings of rows appended one batch at a time; a reader asks for the rows below its own count.

    Appends come from one thread at a time; each term's arrays are replaced by a new (rows, tfs, used)
    tuple in one assignment, so a reader sees a term's postings before or after an append, never during.
    """

    def __init__(self) -> None:
        self._terms: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}

    def append(self, first_row: int, term_lists: Sequence[Sequence[str]]) -> None:
        """Add rows first_row, first_row + 1, ... holding these terms."""
        counted: dict[str, list[tuple[int, int]]] = {}
        for offset, words in enumerate(term_lists):
            for term, tf in _counts(words).items():
                counted.setdefault(term, []).append((first_row + offset, tf))
        for term, pairs in counted.items():
            rows, tfs, used = self._terms.get(term, (_EMPTY_ROWS, _EMPTY_TFS, 0))
            if used + len(pairs) > len(rows):
                capacity = max(8, 2 * (used + len(pairs)))
                rows, tfs = _grown(rows, used, capacity), _grown(tfs, used, capacity)
            rows[used : used + len(pairs)] = [row for row, _ in pairs]
            tfs[used : used + len(pairs)] = [tf for _, tf in pairs]
            self._terms[term] = (rows, tfs, used + len(pairs))

    def lookup(self, term: str, below: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows under `below` holding `term`, and how often each does."""
        rows, tfs, used = self._terms.get(term, (_EMPTY_ROWS, _EMPTY_TFS, 0))
        rows, tfs = rows[:used], tfs[:used]
        end = int(np.searchsorted(rows, below))
        return rows[:end], tfs[:end]


def _counts(words: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for word in words:
        out[word] = out.get(word, 0) + 1
    return out


def _grown(array: np.ndarray, used: int, capacity: int) -> np.ndarray:
    out = np.empty(capacity, dtype=array.dtype)
    out[:used] = array[:used]
    return out
