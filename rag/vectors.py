"""FAISS vectors keyed by passage id: exact inner product over normalised embeddings."""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

from rag.durable import fsync_dir


class VectorIndex:
    """Passage vectors; ids are the store's passage ids."""

    def __init__(self, index: faiss.Index):
        self.index = index

    @classmethod
    def empty(cls, dimension: int) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def build(cls, dimension: int, ids: np.ndarray, vectors: np.ndarray) -> VectorIndex:
        index = cls.empty(dimension)
        index.add(ids, vectors)
        return index

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int] | np.ndarray) -> None:
        if len(ids):
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row, only among `allowed` ids when given; -1 pads."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self) or 1))
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        return self.index.search(queries, k, params=params)

    def save(self, path: Path) -> None:
        """Write to `path` durably (the caller renames or points a manifest at it)."""
        tmp = path.with_name(f".{path.name}.tmp")
        faiss.write_index(self.index, str(tmp))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        return cls(faiss.read_index(str(path)))
