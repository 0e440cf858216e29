"""What the embedded backend searches: a base on disk, the segments written since, and those deleted since.

The base (FAISS vectors and BM25 postings of every segment at one generation) is built from the store and
never changed. Segments written after it are appended to a `Delta` in memory; segments deleted after it
are masked. A `Searchable` is one generation of that: readers hold one while they search, and a write
makes the next from the last by the change alone (`advance`), so a write costs what its document costs
and readers switch generations without a pause. When the delta grows large, a new base is built and the
delta starts again (collection.py decides when).

Dense scores are inner products (FAISS for the base, numpy for the delta); BM25 scores use the live
statistics of the whole generation, so a searchable made by many small advances ranks exactly as one
built from scratch over the same segments.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.storage import bm25
from rag.storage.embedded.durable import fsync_tree, install_dir
from rag.storage.embedded.postings import GrowingPostings, Postings
from rag.storage.embedded.store import SegmentRows
from rag.storage.embedded.vectors import SearchOptions, VectorIndex
from rag.storage.interface import Ranked

BASE_PREFIX = "base-"  # a base's directory is named <prefix><generation>


@dataclass(frozen=True)
class Base:
    """The searchable files of one generation: vectors and postings of its segments, in id order."""

    generation: int
    ids: np.ndarray  # ascending; row i of the postings is segment ids[i]
    vectors: VectorIndex
    postings: Postings

    @property
    def max_id(self) -> int:
        return int(self.ids[-1]) if len(self.ids) else 0

    @classmethod
    def empty(cls, dimension: int) -> Base:
        return cls(-1, np.zeros(0, dtype=np.int64), VectorIndex.empty(dimension), Postings.build([]))

    @classmethod
    def build(cls, directory: Path, generation: int, rows: SegmentRows, dimension: int) -> Base:
        """Write the base of these segments to `directory` (whole or not at all) and return it."""
        vectors = VectorIndex.build(dimension, rows.ids, rows.vectors)
        postings = Postings.build(rows.terms)
        tmp = directory.with_name(f".{directory.name}.tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        vectors.save(tmp / "vectors.faiss")
        postings.save(tmp)
        np.save(tmp / "ids.npy", rows.ids, allow_pickle=False)
        meta = {"generation": generation, "segments": len(rows.ids), "vector_index": vectors.describe()}
        (tmp / "meta.json").write_text(json.dumps(meta))
        fsync_tree(tmp)
        install_dir(tmp, directory)
        return cls(generation, rows.ids, vectors, postings)

    @classmethod
    def load(cls, directory: Path, options: SearchOptions | None = None) -> Base:
        """Read a base; a missing or damaged one raises (FileNotFoundError, ValueError, RuntimeError)."""
        meta = json.loads((directory / "meta.json").read_text())
        ids = np.load(directory / "ids.npy", allow_pickle=False, mmap_mode="r")
        vectors = VectorIndex.load(directory / "vectors.faiss", options)
        postings = Postings.load(directory)
        if not (len(ids) == len(vectors) == len(postings.lengths) == meta["segments"]):
            raise ValueError(f"{directory}: {len(ids)} ids, {len(vectors)} vectors, {len(postings.lengths)} rows")
        return cls(int(meta["generation"]), np.asarray(ids), vectors, postings)

    def describe(self) -> dict:
        return {"generation": self.generation, "segments": len(self.ids), "vector_index": self.vectors.describe()}


class Delta:
    """Segments appended since the base: ids, vectors, lengths and postings, grown in place.

    Appended by one thread at a time; a reader looks only at the rows its Searchable counts.
    """

    def __init__(self, dimension: int):
        self.ids = np.zeros(0, dtype=np.int64)
        self.vectors = np.zeros((0, dimension), dtype=np.float32)
        self.lengths = np.zeros(0, dtype=np.int64)
        self.postings = GrowingPostings()
        self.rows = 0

    def append(self, rows: SegmentRows) -> None:
        n, first = len(rows.ids), self.rows
        if first + n > len(self.ids):
            capacity = max(64, 2 * (first + n))
            self.ids = _grown(self.ids, first, capacity)
            self.vectors = _grown(self.vectors, first, capacity)
            self.lengths = _grown(self.lengths, first, capacity)
        self.ids[first : first + n] = rows.ids
        self.vectors[first : first + n] = rows.vectors
        self.lengths[first : first + n] = [len(words) for words in rows.terms]
        self.postings.append(first, rows.terms)
        self.rows = first + n


@dataclass(frozen=True)
class Searchable:
    """One generation: the base, the first `n_delta` rows of the delta, minus what was deleted."""

    generation: int
    base: Base
    delta: Delta
    n_delta: int
    base_removed: np.ndarray  # bool per base row
    delta_removed: np.ndarray  # bool per delta row (n_delta of them)
    n_live: int
    total_length: int  # of the live segments' terms

    @classmethod
    def start(cls, base: Base, generation: int, added: SegmentRows, deleted: np.ndarray) -> Searchable:
        """The generation made of a base, the segments written since and those deleted since."""
        lengths = base.postings.lengths
        delta = Delta(base.vectors.dimension)
        first = cls(
            generation=base.generation,
            base=base,
            delta=delta,
            n_delta=0,
            base_removed=np.zeros(len(base.ids), dtype=bool),
            delta_removed=np.zeros(0, dtype=bool),
            n_live=len(base.ids),
            total_length=int(np.sum(lengths, dtype=np.int64)),
        )
        return first.advance(generation, added, deleted)

    def advance(self, generation: int, added: SegmentRows, deleted: np.ndarray) -> Searchable:
        """The next generation: these segments added (ids above all held) and these ids deleted."""
        delta = self.delta
        if delta.rows != self.n_delta:
            raise RuntimeError("a searchable advances only from the newest generation of its delta")
        delta.append(added)
        n_delta = delta.rows
        delta_removed = np.zeros(n_delta, dtype=bool)
        delta_removed[: self.n_delta] = self.delta_removed
        base_removed = self.base_removed
        n_live = self.n_live + len(added.ids)
        total_length = self.total_length + sum(len(words) for words in added.terms)
        if len(deleted):
            base_rows = _rows_of(self.base.ids, deleted)
            base_rows = base_rows[~base_removed[base_rows]]
            delta_rows = _rows_of(delta.ids[:n_delta], deleted)
            delta_rows = delta_rows[~delta_removed[delta_rows]]
            if len(base_rows):
                base_removed = base_removed.copy()
                base_removed[base_rows] = True
            delta_removed[delta_rows] = True
            n_live -= len(base_rows) + len(delta_rows)
            total_length -= int(np.sum(self.base.postings.lengths[base_rows], dtype=np.int64))
            total_length -= int(np.sum(delta.lengths[delta_rows], dtype=np.int64))
        return dataclasses.replace(
            self,
            generation=generation,
            n_delta=n_delta,
            base_removed=base_removed,
            delta_removed=delta_removed,
            n_live=n_live,
            total_length=total_length,
        )

    @property
    def max_id(self) -> int:
        """The largest segment id held (segments written later have larger ids)."""
        return int(self.delta.ids[self.n_delta - 1]) if self.n_delta else self.base.max_id

    @property
    def pending(self) -> int:
        """Rows written or deleted since the base: what a new base would fold in."""
        return self.n_delta + int(np.count_nonzero(self.base_removed))

    # ------------------------------------------------------------------ search

    def dense(self, vector: np.ndarray, n: int, allowed: np.ndarray | None) -> Ranked:
        """The n live segments of highest inner product with `vector`, only among `allowed` ids if given."""
        found: list[tuple[int, float]] = []
        removed = int(np.count_nonzero(self.base_removed))
        if len(self.base.ids):
            base_allowed = None if allowed is None else allowed[allowed <= self.base.max_id]
            if base_allowed is None or len(base_allowed):
                # deleted rows are still in the base's vectors: ask for as many more
                scores, ids = self.base.vectors.search(vector, n + removed, base_allowed)
                keep = ids[0] >= 0
                ids, scores = ids[0][keep], scores[0][keep]
                if removed:
                    live = ~self.base_removed[_rows_of(self.base.ids, ids, present=True)]
                    ids, scores = ids[live], scores[live]
                found.extend(zip(ids.tolist(), scores.tolist(), strict=True))
        if self.n_delta:
            rows = self._delta_rows(allowed)
            if len(rows):
                sims = self.delta.vectors[rows] @ np.asarray(vector, dtype=np.float32).reshape(-1)
                best = np.argsort(-sims, kind="stable")[:n]
                found.extend(zip(self.delta.ids[rows[best]].tolist(), sims[best].tolist(), strict=True))
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        return found[:n]

    def lexical(self, terms: list[str], n: int, allowed: np.ndarray | None) -> Ranked:
        """The n live segments of best BM25 score for `terms`, only among `allowed` ids if given."""
        if not terms or not self.n_live:
            return []
        average = self.total_length / self.n_live
        n_base = len(self.base.ids)
        rows, contributions = [], []  # base rows, then the delta's after them
        for term in terms:
            base_rows, base_tfs = self.base.postings.lookup(term)
            delta_rows, delta_tfs = self.delta.postings.lookup(term, self.n_delta)
            if len(base_rows):
                live = ~self.base_removed[base_rows]
                base_rows, base_tfs = base_rows[live], base_tfs[live]
            if len(delta_rows):
                live = ~self.delta_removed[delta_rows]
                delta_rows, delta_tfs = delta_rows[live], delta_tfs[live]
            df = len(base_rows) + len(delta_rows)
            if not df:
                continue
            weight = bm25.idf(self.n_live, df)
            rows += [base_rows, n_base + delta_rows]
            contributions += [
                bm25.term_scores(weight, base_tfs, self.base.postings.lengths[base_rows], average),
                bm25.term_scores(weight, delta_tfs, self.delta.lengths[delta_rows], average),
            ]
        if not rows:
            return []
        # each segment's terms are summed in the question's order, wherever the segment lives
        scores = np.bincount(np.concatenate(rows), np.concatenate(contributions), minlength=n_base + self.n_delta)
        found = np.flatnonzero(scores)
        in_base = found < n_base
        ids = np.empty(len(found), dtype=np.int64)
        ids[in_base] = self.base.ids[found[in_base]]
        ids[~in_base] = self.delta.ids[found[~in_base] - n_base]
        scores = scores[found]
        if allowed is not None:
            scores[~np.isin(ids, allowed)] = 0.0
        return bm25.top(ids, scores, n)

    def _delta_rows(self, allowed: np.ndarray | None) -> np.ndarray:
        live = ~self.delta_removed
        if allowed is not None:
            live &= np.isin(self.delta.ids[: self.n_delta], allowed)
        return np.flatnonzero(live)


def _rows_of(ids: np.ndarray, wanted: np.ndarray, present: bool = False) -> np.ndarray:
    """Positions in the ascending `ids` of the `wanted` ids that are there (all of them when `present`)."""
    wanted = np.asarray(wanted, dtype=np.int64)
    positions = np.searchsorted(ids, wanted)
    if present:
        return positions
    inside = positions < len(ids)
    positions, wanted = positions[inside], wanted[inside]
    return positions[ids[positions] == wanted]


def _grown(array: np.ndarray, used: int, capacity: int) -> np.ndarray:
    out = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    out[:used] = array[:used]
    return out
