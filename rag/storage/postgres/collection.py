"""PostgresCollection: a collection in a PostgreSQL database (pgvector), shared by any number of servers.

Everything lives in the database: rows, vectors (with an HNSW index), BM25 postings and the counters BM25
and the caches above need. A server keeps nothing of its own between requests but a pool of connections:
each read is one snapshot of the database, so a document written through any server is found through
every other at its next search, and a server's speaker directory (keyed by the counters each read
returns) is rebuilt as soon as another server renames a speaker.

Dense search compares every vector it may return when they are few (EXACT_MAX, EXACT_FILTERED_MAX) and
asks the HNSW index otherwise, scanning it iteratively until enough candidates pass the filters; a
filtered scan that comes up short (a rare speaker among millions) is done exactly instead, so a search
returns k results whenever k passages match. The thresholds and ef_search are measured choices
(bench/postgres_choices.py, docs/storage.md).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext

import numpy as np
import psycopg

from rag.errors import NoIndexError
from rag.lexical import terms
from rag.models import Document, Filters, PreparedDocument, StoredSegment, Turn
from rag.storage import bm25
from rag.storage.interface import (
    Collection,
    Counts,
    Ranked,
    Reader,
    StagedDocument,
    check_made_by,
    stage_written_since,
)
from rag.storage.manifest import Manifest
from rag.storage.postgres import queries, reindexing, schema, writes
from rag.storage.postgres.connection import Database
from rag.storage.postgres.options import DatabaseOptions

# A collection of at most this many segments is searched exactly: ~1 ms, as fast as the index.
EXACT_MAX = 5_000
# A filter admitting at most this many passages is searched exactly (~9 ms at the most): an index scan for
# a filter this selective visits many times more rows before it has enough, or gives up.
EXACT_FILTERED_MAX = 20_000
# Candidates the HNSW search keeps in its queue (pgvector's ef_search), at least the number wanted. Over the
# QMSum and press segments, real questions: recall@10 0.943 at 40 (pgvector's default), 0.970 at 100, 0.987
# at 200, 0.997 at 400, for 0.4, 0.7, 1.1 and 2.0 ms: 400 makes dense search rank as exact search does.
EF_SEARCH_MIN = 400
EF_SEARCH_MAX = 1000  # pgvector's limit; the iterative scan goes on past it


class PostgresCollection(Collection):
    """A collection in a database; open with `PostgresCollection.open`."""

    def __init__(
        self,
        database: Database,
        manifest: Manifest,
        *,
        exact_max: int = EXACT_MAX,
        exact_filtered_max: int = EXACT_FILTERED_MAX,
    ):
        self.database = database
        self.manifest = manifest  # as of the newest state read: a reindex's switch changes its model
        self.exact_max = exact_max
        self.exact_filtered_max = exact_filtered_max
        self._identities: dict[int, Manifest] = {}  # the manifest at each value of the `vectors` counter
        self._newest = -1
        self._advance = threading.Lock()

    @classmethod
    def open(
        cls,
        options: DatabaseOptions,
        *,
        create: Manifest | None = None,
        exact_max: int = EXACT_MAX,
        exact_filtered_max: int = EXACT_FILTERED_MAX,
    ) -> PostgresCollection:
        """Open the collection in the database, migrating its schema first; with `create`, make an empty
        collection of that manifest if the database holds none (a NoIndexError otherwise)."""
        database = Database(options)
        where = database.location
        with database.connect_once() as conn, database.errors():
            schema.upgrade(conn, where)
            manifest = schema.read_manifest(conn, where)
            if manifest is None:
                if create is None:
                    raise NoIndexError(where)
                manifest = schema.create_collection(conn, create, where)
        database.open_pool()
        return cls(database, manifest, exact_max=exact_max, exact_filtered_max=exact_filtered_max)

    @property
    def location(self) -> str:
        return self.database.location

    # ------------------------------------------------------------------ reads

    @contextmanager
    def reading(self) -> Iterator[PostgresReader]:
        with self.database.reading() as conn:
            reader = PostgresReader(self, conn)
            reader.manifest  # noqa: B018 (a switch to another model, by any server, is noticed here)
            yield reader

    def manifest_at(self, vectors: int, conn: psycopg.Connection) -> Manifest:
        """The manifest when the `vectors` counter had this value, read in `conn`'s snapshot if not known yet;
        the collection's manifest follows the newest seen."""
        found = self._identities.get(vectors)
        if found is None:
            found = schema.read_manifest(conn, self.location) or self.manifest
            with self._advance:
                self._identities[vectors] = found
                if vectors > self._newest:
                    self._newest, self.manifest = vectors, found
        return found

    def _current_manifest(self, conn: psycopg.Connection) -> Manifest:
        """The manifest as a write transaction sees it (after begin_change: no switch can commit meanwhile)."""
        return self.manifest_at(queries.state(conn).get("vectors", 0), conn)

    # ------------------------------------------------------------------ writes

    def apply(self, add: Sequence[PreparedDocument] = (), delete: Sequence[str] = ()) -> None:
        check_made_by(self.manifest, add)
        segment_terms = [[terms(s.text) for s in prepared.segments] for prepared in add]  # outside transactions
        for doc_id in delete:
            with self.database.writing() as conn:
                writes.begin_change(conn)
                writes.delete_document(conn, doc_id)
        for prepared, words in zip(add, segment_terms, strict=True):
            with self.database.writing() as conn:
                writes.begin_change(conn)
                # another server's reindex may have switched models since this document was embedded
                check_made_by(self._current_manifest(conn), [prepared])
                writes.delete_document(conn, prepared.doc.id)
                writes.put_document(conn, prepared, words)

    def set_canonical(self, names: Iterable[str], canonical: str) -> None:
        with self.database.writing() as conn:
            writes.set_canonical(conn, names, canonical)

    # ------------------------------------------------------------------ reindexing (see reindexing.py)

    def begin_reindex(self, manifest: Manifest) -> int:
        with self.database.writing() as conn:
            return reindexing.begin(conn, self._current_manifest(conn), manifest, self.location)

    def reindex_todo(self, limit: int | None = None) -> list[str]:
        with self.database.reading() as conn:
            return reindexing.todo(conn, limit)

    def stage(self, documents: Sequence[StagedDocument]) -> int:
        with self.database.writing() as conn:
            return reindexing.stage(conn, documents, reindexing.staged_target(conn, self.location).dimension)

    def switch(self, catch_up: Callable[[list[str]], Sequence[StagedDocument]]) -> Manifest:
        stage_written_since(self, catch_up)
        with self.database.writing() as conn:
            target = reindexing.switch(conn, self.location, catch_up)
        with self.reading():
            pass  # this process follows the switch at once
        return target

    def abandon_reindex(self) -> None:
        with self.database.writing() as conn:
            reindexing.clear(conn)

    def exclusive(self, wait: bool) -> AbstractContextManager[None]:
        # writers take turns document by document (writes.begin_change): a bulk ingest need not keep
        # other writers out, and several may run at once
        return nullcontext()

    def set_write_wait(self, seconds: float | None) -> None:
        self.database.options = dataclasses.replace(self.database.options, lock_timeout_s=seconds)

    # ------------------------------------------------------------------ facts

    def describe(self) -> dict[str, object]:
        with self.database.reading() as conn:
            counters = queries.state(conn)
            version = schema.version(conn)
            server = queries.server_version(conn)
        return {
            "backend": "postgres",
            "database": self.location,
            "server_version": server,
            "schema_version": version,
            "generation": counters["generation"],
        }

    def close(self) -> None:
        self.database.close()


class PostgresReader(Reader):
    """Reads of one database snapshot (a REPEATABLE READ READ ONLY transaction)."""

    def __init__(self, collection: PostgresCollection, conn: psycopg.Connection):
        self._collection = collection
        self._conn = conn
        self._counters: dict[str, int] | None = None
        self._admitted: dict[Filters, int] = {}

    @property
    def counters(self) -> dict[str, int]:
        """The state counters of this snapshot (read once: the snapshot does not change)."""
        if self._counters is None:
            self._counters = queries.state(self._conn)
        return self._counters

    @property
    def generation(self) -> int:
        return self.counters["generation"]

    @property
    def manifest(self) -> Manifest:
        return self._collection.manifest_at(self.counters.get("vectors", 0), self._conn)

    @property
    def speakers_version(self) -> int:
        return self.counters["speakers"]

    # ---------------------------------------------------------------- candidates

    def _admitted_bound(self, filters: Filters) -> int:
        """Passages the filters admit, counted up to one more than the exact search's limit."""
        if filters not in self._admitted:
            limit = self._collection.exact_filtered_max + 1
            self._admitted[filters] = queries.admitted_passages_at_most(self._conn, filters, limit)
        return self._admitted[filters]

    def dense(self, vector: np.ndarray, n: int, filters: Filters) -> Ranked:
        if filters:
            admitted = self._admitted_bound(filters)
            if not admitted:
                return []
            # segments hold at least one passage each: no more of them than passages either
            small = admitted <= self._collection.exact_filtered_max
        else:
            small = self.counters["segments"] <= self._collection.exact_max
        if small:
            return queries.dense_exact(self._conn, vector, n, filters)
        ef_search = min(EF_SEARCH_MAX, max(EF_SEARCH_MIN, n))
        found = queries.dense_hnsw(self._conn, vector, n, filters, self.manifest.dimension, ef_search)
        if filters and len(found) < n:
            # the iterative scan gave up (pgvector's hnsw.max_scan_tuples) before n passed the filters
            return queries.dense_exact(self._conn, vector, n, filters)
        return found

    def lexical(self, terms: Sequence[str], n: int, filters: Filters) -> Ranked:
        live = self.counters["segments"]
        if not terms or not live:
            return []
        if filters and not self._admitted_bound(filters):
            return []
        stats = queries.term_stats(self._conn, terms)
        asked = [term for term in terms if term in stats]
        if not asked:
            return []
        weights = [bm25.idf(live, stats[term][1]) for term in asked]
        average = self.counters["total_length"] / live
        return queries.lexical(self._conn, [stats[t][0] for t in asked], weights, average, n, filters)

    def admits_any(self, filters: Filters) -> bool:
        return not filters or self._admitted_bound(filters) > 0

    # ---------------------------------------------------------------- rows

    def segments(self, ids: Sequence[int]) -> dict[int, StoredSegment]:
        return queries.segments(self._conn, ids) if ids else {}

    def segment_documents(self, ids: Sequence[int]) -> dict[int, str]:
        return queries.segment_documents(self._conn, ids) if ids else {}

    def segment_ids_of(self, doc_id: str) -> list[int]:
        return queries.segment_ids_of(self._conn, doc_id)

    def answer_segments(self, turns: Sequence[tuple[str, int]], filters: Filters) -> dict[tuple[str, int], list[int]]:
        return queries.answer_segments(self._conn, turns, filters)

    def admitted_passages(self, filters: Filters, segment_ids: Sequence[int]) -> set[int]:
        return queries.admitted_passages(self._conn, filters, segment_ids) if segment_ids else set()

    def document(self, doc_id: str) -> Document | None:
        found = queries.documents(self._conn, ids=[doc_id])
        return found[0] if found else None

    def documents(self, **filters) -> list[Document]:
        return queries.documents(self._conn, **filters)

    def count_documents(self, **filters) -> int:
        return queries.count_documents(self._conn, **filters)

    def turns(self, doc_id: str) -> list[Turn]:
        return queries.turns(self._conn, doc_id)

    def content_hash(self, doc_id: str) -> str | None:
        return queries.content_hash(self._conn, doc_id)

    def speakers(self) -> list[tuple[str, int]]:
        return queries.speakers(self._conn)

    def speaker_overrides(self) -> dict[str, str]:
        return queries.speaker_overrides(self._conn)

    def speaker_documents(self) -> dict[str, set[str]]:
        return queries.speaker_documents(self._conn)

    def segment_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        return queries.segment_vectors(self._conn, self.manifest.dimension)

    def counts(self) -> Counts:
        return queries.counts(self.counters)
