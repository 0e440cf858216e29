"""FAISS vectors keyed by passage id: exact inner product for small collections, compressed beyond.

Kinds (`VectorIndex.kind`, chosen by `choose_kind(n)` when an index is built from vectors):

| kind      | FAISS                                   | used for          | recall@10 vs exact |
|-----------|-----------------------------------------|-------------------|--------------------|
| `flat`    | IndexFlatIP                             | n < FLAT_MAX      | 1 (exact)          |
| `ivf-sq8` | IndexIVFScalarQuantizer (8-bit), nprobe | n >= FLAT_MAX     | >= 0.98 (bench)    |

Flat kinds sit in an IndexIDMap2, IVF keeps ids itself, so ids are the store's segment ids. An index is
built once from the store and never changed: segments written since are searched beside it (searchable.py)
until the next base is built. The thresholds and nprobe come from bench/ measurements on this machine
(bench/README.md). `sq8` (flat 8-bit codes, exhaustive) is available by name.

Filtered search (`allowed` ids) works for every kind: exact kinds scan with an ID selector; an IVF index
with an allowed set that is small (or a small share of the collection) searches those vectors exactly
(they are few, and an approximate probe could miss all of them), else probes more lists with the
selector, in proportion to how much the filter removes.

Loading memory-maps the FAISS file where the kind allows it (flat and 8-bit codes are read in place,
the page cache shares them between processes, and start-up does not read the whole file: loading the 1M
IVF file of 395 MB adds ~70 MB of RSS).

Threads: each search runs FAISS on `SearchOptions.faiss_threads` OpenMP threads (default 1). OpenMP thread counts
are per calling thread, so the count is set in the thread that searches, on each call.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from rag.storage.embedded.durable import fsync_dir

FLAT_MAX = 50_000  # below: exact search is fast enough and nothing is approximated
KINDS = ("flat", "sq8", "ivf-sq8")
EXACT_FILTER_MAX = 20_000  # an allowed set this small is searched exactly whatever the kind
EXACT_FILTER_SHARE = 0.02  # ... and so is one under this share of the collection
BATCH_MIN = 5_000  # exact searches over this many vectors are micro-batched across concurrent questions
_local = threading.local()


def choose_kind(n: int) -> str:
    """The index kind for a collection of n vectors."""
    return "flat" if n < FLAT_MAX else "ivf-sq8"


def ivf_lists(n: int) -> int:
    """Inverted lists for n vectors: about 4 * sqrt(n), a power of two, 64..16384."""
    target = 4 * np.sqrt(max(n, 1))
    return int(min(16384, max(64, 2 ** round(np.log2(target)))))


def default_nprobe(nlist: int) -> int:
    """Lists probed per question, measured with real questions (bench/README.md, bench.kinds).

    Questions sit far from passages (cosine ~0.5), between the lists' centroids, so IVF has to probe a
    large share: at 100k vectors (1024 lists) 3/8 of them give recall@10 0.987 (1/4: 0.982) at a fifth
    of the exact search's time; at 1M (4096 lists) recall is 0.978 from 1/4 on, bounded by the 8-bit
    codes among near-duplicates rather than by probing, so more lists only cost time.
    """
    return max(1, min(nlist, nlist * 3 // 8 if nlist <= 2048 else nlist // 4))


@dataclass(frozen=True)
class SearchOptions:
    """How a base's vectors are searched and loaded (`Settings.search_options()` gives the configured ones)."""

    faiss_threads: int = 1  # OpenMP threads of one search
    batch: bool = True  # join concurrent exact searches into one FAISS call
    mmap: bool = True  # memory-map the file where the kind allows (else read it whole)


def _set_threads(wanted: int) -> None:
    if getattr(_local, "threads", None) != wanted:
        faiss.omp_set_num_threads(wanted)
        _local.threads = wanted


def _parallel_mode(index: faiss.Index, threads: int) -> None:
    """With several FAISS threads, one question's lists are split between them (else only questions are)."""
    if isinstance(index, faiss.IndexIVF) and threads > 1:
        index.parallel_mode = 1


class VectorIndex:
    """Segment vectors under the store's segment ids; built once, then only searched."""

    def __init__(self, index: faiss.Index, options: SearchOptions | None = None):
        self.options = options or SearchOptions()
        self._set_index(index)
        self.nprobe = default_nprobe(self._inner.nlist) if self._ivf else None

    def _set_index(self, index: faiss.Index) -> None:
        self._batcher = None
        self.index = index
        self._inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap2) else index
        self._ivf = isinstance(self._inner, faiss.IndexIVF)
        _parallel_mode(self._inner, self.options.faiss_threads)
        self._ids: np.ndarray | None = None  # sorted ids, made when a filtered search needs them

    def ids(self) -> np.ndarray:
        """The ids held, sorted."""
        if self._ids is None:
            if self._ivf:
                lists = self._inner.invlists
                parts = [
                    faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
                    for i in range(self._inner.nlist)
                    if lists.list_size(i)
                ]
                found = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            else:
                found = faiss.vector_to_array(self.index.id_map)
            self._ids = np.sort(found.astype(np.int64))
        return self._ids

    @property
    def kind(self) -> str:
        inner = self._inner
        if isinstance(inner, faiss.IndexIVFScalarQuantizer):
            return "ivf-sq8"
        if isinstance(inner, faiss.IndexScalarQuantizer):
            return "sq8"
        return "flat"

    def describe(self) -> dict:
        """What `rag stats` states about this index."""
        out: dict = {"kind": self.kind, "vectors": len(self)}
        if self._ivf:
            out.update(nlist=int(self._inner.nlist), nprobe=self.nprobe)
        return out

    @classmethod
    def empty(cls, dimension: int) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def build(cls, dimension: int, ids: np.ndarray, vectors: np.ndarray, kind: str | None = None) -> VectorIndex:
        """An index of the vectors under their ids, of `kind` (default: `choose_kind(len(ids))`)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), dimension)
        kind = kind or choose_kind(len(ids))
        if kind not in KINDS:
            raise ValueError(f"unknown vector index kind {kind!r}; one of {', '.join(KINDS)}")
        _set_threads_for_build()
        if kind == "flat" or not len(ids):
            return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))._added(ids, vectors)
        if kind == "sq8":
            inner = faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
            inner.train(_sample(vectors, 100_000))
            return cls(faiss.IndexIDMap2(inner))._added(ids, vectors)
        # IVF keeps passage ids itself (an IDMap around it would misnumber on removal); the hash
        # table maps ids to entries for reconstruction and removal
        nlist = ivf_lists(len(ids))
        quantizer = faiss.IndexFlatIP(dimension)
        ivf = faiss.IndexIVFScalarQuantizer(
            quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        ivf.train(_sample(vectors, 40 * nlist))
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        return cls(ivf)._added(ids, vectors)

    def _added(self, ids: np.ndarray, vectors: np.ndarray) -> VectorIndex:
        self._add(ids, vectors)
        return self

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row, only among `allowed` ids when given; -1 pads."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self) or 1))
        _set_threads(self.options.faiss_threads)
        ivf = self._ivf
        if allowed is None:
            if ivf:
                return self.index.search(queries, k, params=faiss.SearchParametersIVF(nprobe=self.nprobe))
            if len(queries) == 1 and self._batcher_wanted():
                return self._batched(queries[0], k)
            return self.index.search(queries, k)
        allowed = np.asarray(allowed, dtype=np.int64)
        share = len(allowed) / max(1, len(self))
        if self.kind != "flat" and (len(allowed) <= EXACT_FILTER_MAX or share <= EXACT_FILTER_SHARE):
            return self._search_subset(queries, k, allowed)
        selector = faiss.IDSelectorBatch(allowed)
        if ivf:
            # a filter leaving a share s of the vectors leaves about s of each probed list: probe 1/s as many
            nprobe = int(min(self._inner.nlist, np.ceil(self.nprobe / max(share, 1e-9))))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        else:
            params = faiss.SearchParameters(sel=selector)
        return self.index.search(queries, k, params=params)

    def _batcher_wanted(self) -> bool:
        return len(self) >= BATCH_MIN and self.options.batch

    def _batched(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """One question's exact search, joined with the questions searching meanwhile in one FAISS call.

        An exhaustive search reads every vector once per call, whatever the number of questions in it
        (a matrix product); batching turns concurrent questions' memory-bound scans into one.
        """
        batcher = self._batcher
        if batcher is None:
            from rag.batching import MicroBatcher

            batcher = self._batcher = MicroBatcher(self._search_many, max_batch=64, name="vector-search")
        return batcher((query, k))

    def _search_many(self, items: list[tuple[np.ndarray, int]]) -> list[tuple[np.ndarray, np.ndarray]]:
        _set_threads(self.options.faiss_threads)  # the leading caller's thread runs the batch
        queries = np.stack([q for q, _ in items])
        scores, ids = self.index.search(queries, max(k for _, k in items))
        return [(scores[i : i + 1, :k], ids[i : i + 1, :k]) for i, (_, k) in enumerate(items)]

    def _search_subset(self, queries: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact inner product over the allowed vectors (decoded from the index)."""
        held = self.ids()
        present = np.unique(allowed)
        present = present[np.isin(present, held, assume_unique=True)]
        scores = np.full((len(queries), k), np.finfo(np.float32).min, dtype=np.float32)  # as FAISS pads
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if not len(present):
            return scores, ids
        vectors = self.index.reconstruct_batch(present)
        sims = queries @ vectors.T
        top = min(k, len(present))
        best = np.argpartition(-sims, top - 1, axis=1)[:, :top]
        for row in range(len(queries)):
            order = best[row][np.argsort(-sims[row, best[row]], kind="stable")]
            scores[row, :top] = sims[row, order]
            ids[row, :top] = present[order]
        return scores, ids

    def save(self, path: Path) -> None:
        """Write to `path` durably (the caller renames or points a manifest at it)."""
        tmp = path.with_name(f".{path.name}.tmp")
        faiss.write_index(self.index, str(tmp))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)

    @classmethod
    def load(cls, path: Path, options: SearchOptions | None = None) -> VectorIndex:
        """Read an index, memory-mapping its vectors where the kind allows (unless `options.mmap` is off)."""
        options = options or SearchOptions()
        if not options.mmap:
            return cls(faiss.read_index(str(path)), options)
        try:
            return cls(faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY), options)
        except RuntimeError:
            return cls(faiss.read_index(str(path)), options)


def _sample(vectors: np.ndarray, n: int) -> np.ndarray:
    if len(vectors) <= n:
        return vectors
    rows = np.random.default_rng(0).choice(len(vectors), n, replace=False)
    return vectors[np.sort(rows)]


def _set_threads_for_build() -> None:
    """Training and adding are batch work: every core (per this thread)."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    _local.threads = None
