"""EmbeddedReader: reads of one sqlite snapshot of an embedded collection, with the searchable of its generation."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag.models import Document, Filters, StoredSegment, Turn
from rag.storage.embedded import queries
from rag.storage.embedded import store as st
from rag.storage.embedded.searchable import Searchable
from rag.storage.interface import Counts, Ranked, Reader
from rag.storage.manifest import Manifest

if TYPE_CHECKING:
    from rag.storage.embedded.collection import EmbeddedCollection


class EmbeddedReader(Reader):
    """Reads of one sqlite snapshot, with the searchable of its generation."""

    def __init__(self, collection: EmbeddedCollection, db: sqlite3.Connection):
        self._collection = collection
        self._db = db
        self._searchable: Searchable | None = None
        self._allowed: dict[Filters, np.ndarray] = {}

    def _search(self) -> Searchable:
        if self._searchable is None:
            self._searchable = self._collection.searchable(self._db)
        return self._searchable

    def _allowed_ids(self, filters: Filters) -> np.ndarray | None:
        if not filters:
            return None
        if filters not in self._allowed:
            self._allowed[filters] = self._collection.admitted(self._db, filters)
        return self._allowed[filters]

    @property
    def generation(self) -> int:
        return st.state(self._db).generation

    @property
    def manifest(self) -> Manifest:
        return self._collection.manifest_of(self._db)

    @property
    def speakers_version(self) -> int:
        return st.state(self._db).speakers

    def dense(self, vector: np.ndarray, n: int, filters: Filters) -> Ranked:
        allowed = self._allowed_ids(filters)
        if allowed is not None and not len(allowed):
            return []
        return self._search().dense(vector, n, allowed)

    def lexical(self, terms: Sequence[str], n: int, filters: Filters) -> Ranked:
        allowed = self._allowed_ids(filters)
        if allowed is not None and not len(allowed):
            return []
        return self._search().lexical(list(terms), n, allowed)

    def admits_any(self, filters: Filters) -> bool:
        allowed = self._allowed_ids(filters)
        return allowed is None or bool(len(allowed))

    def segments(self, ids: Sequence[int]) -> dict[int, StoredSegment]:
        return queries.segments(self._db, ids)

    def segment_documents(self, ids: Sequence[int]) -> dict[int, str]:
        return queries.segment_documents(self._db, ids)

    def segment_ids_of(self, doc_id: str) -> list[int]:
        return queries.segment_ids_of(self._db, doc_id)

    def answer_segments(self, turns: Sequence[tuple[str, int]], filters: Filters) -> dict[tuple[str, int], list[int]]:
        answers = queries.answer_segments(self._db, turns)
        allowed = self._allowed_ids(filters)
        if allowed is None:
            return answers
        admitted = set(allowed.tolist())
        kept = {turn: [a for a in ids if a in admitted] for turn, ids in answers.items()}
        return {turn: ids for turn, ids in kept.items() if ids}

    def admitted_passages(self, filters: Filters, segment_ids: Sequence[int]) -> set[int]:
        return queries.admitted_passages(self._db, filters, segment_ids)

    def document(self, doc_id: str) -> Document | None:
        found = queries.documents(self._db, ids=[doc_id])
        return found[0] if found else None

    def documents(self, **filters) -> list[Document]:
        return queries.documents(self._db, **filters)

    def count_documents(self, **filters) -> int:
        return queries.count_documents(self._db, **filters)

    def turns(self, doc_id: str) -> list[Turn]:
        return queries.turns(self._db, doc_id)

    def content_hash(self, doc_id: str) -> str | None:
        return queries.content_hash(self._db, doc_id)

    def speakers(self) -> list[tuple[str, int]]:
        return queries.speakers(self._db)

    def speaker_documents(self) -> dict[str, set[str]]:
        return queries.speaker_documents(self._db)

    def speaker_overrides(self) -> dict[str, str]:
        return queries.speaker_overrides(self._db)

    def counts(self) -> Counts:
        return queries.counts(self._db)

    def segment_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        rows = st.segment_rows(self._db, 0, self.manifest.dimension)
        return rows.ids, rows.vectors

    def stored_ids(self) -> np.ndarray:
        """Every segment id in the store, ascending."""
        return st.segment_ids(self._db)

    def rule_violations(self) -> list[tuple[int, str]]:
        return st.rule_violations(self._db, None)

    def live_ids(self) -> np.ndarray:
        """The segment ids the searchable of this generation holds (for integrity checks)."""
        search = self._search()
        base = search.base.ids[~search.base_removed]
        delta = search.delta.ids[: search.n_delta][~search.delta_removed]
        return np.sort(np.concatenate([base, delta]))
