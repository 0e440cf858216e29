"""EmbeddedCollection: a collection in one directory (sqlite store, searchable files), for one machine.

Layout: `manifest.json` (how it was built), `passages.sqlite` (the store: every row and vector, the source
of truth), `base-<generation>/` (FAISS vectors and BM25 postings of every segment at that generation),
`write.lock` (one writing process at a time) and `compact.lock` (one process building a base at a time).

A write is a sqlite transaction per document and nothing else: durable when it returns, and a crash at
any point leaves each document old or new. Readers search the base plus the segments written since it
(read from the store by the change alone, see searchable.py). When those pile up (COMPACT_* below), a new
base is built from the store beside the old one, in the background for a server, and switched to in one
transaction; the previous base stays on disk until the next one, for readers still using it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.errors import NoIndexError
from rag.lexical import terms
from rag.models import Filters, PreparedDocument
from rag.storage.embedded import queries, reindexing, staging
from rag.storage.embedded import store as st
from rag.storage.embedded.durable import write_json_atomic
from rag.storage.embedded.files import COMPACT_LOCK, MANIFEST, STORE, leftover_files, read_manifest
from rag.storage.embedded.locking import IndexBusyError, try_lock, writer_lock
from rag.storage.embedded.reader import EmbeddedReader
from rag.storage.embedded.searchable import BASE_PREFIX, Base, Searchable
from rag.storage.embedded.vectors import SearchOptions
from rag.storage.interface import Collection, StagedDocument, check_made_by
from rag.storage.manifest import Manifest, now

# A new base is built when the segments written or deleted since the last one reach a tenth of it, at
# least `rebuild_after` (default REBUILD_AFTER) and at most COMPACT_MAX: the rows searched from memory stay
# few (a numpy scan of 50,000 vectors takes ~5 ms), and a bulk ingest rebuilds a geometric series, not
# once per batch.
REBUILD_AFTER = 4096
COMPACT_MAX = 50_000
COMPACT_SHARE = 0.1
COMPACT_RETRY_S = 5.0
ADMITTED_CACHE = 64  # filters whose admitted segments are kept, per process

log = logging.getLogger("rag.storage")


@dataclass(frozen=True)
class EmbeddedOptions:
    """How an embedded collection runs (`Settings.embedded_options()` gives the configured ones)."""

    background: bool = False  # build new bases in a background thread (servers) or inside the write (CLI)
    rebuild_after: int = REBUILD_AFTER  # see COMPACT_* above
    search: SearchOptions = field(default_factory=SearchOptions)


def compaction_due(pending: int, base_rows: int, minimum: int = REBUILD_AFTER) -> bool:
    return pending >= min(COMPACT_MAX, max(minimum, COMPACT_SHARE * base_rows))


class EmbeddedCollection(Collection):
    """A collection in a directory; open with `EmbeddedCollection.open`."""

    def __init__(self, directory: Path, manifest: Manifest, *, options: EmbeddedOptions | None = None):
        self.directory = directory
        self.store = st.Store(directory / STORE)
        self._manifest = self._adopt_identity(manifest)
        self._vectors_version = -1  # the newest `vectors` state seen: the manifest follows it
        # the searchable of each vectors version a reader may still ask for: the newest, and the one before
        # (readers whose snapshot began before a reindex switched)
        self._searchables: dict[int, Searchable] = {}
        self._identities: dict[int, Manifest] = {}
        self._advance = threading.Lock()  # one thread at a time moves the searchable on
        self._write_wait: bool | float = True
        self.options = options or EmbeddedOptions()
        self._compactor: threading.Thread | None = None
        self._next_compaction = 0.0  # monotonic time before which a due base is not tried again
        # the segments a filter admits, by (generation, filters): questions naming the same people reuse them
        self._admitted: OrderedDict[tuple[int, Filters], np.ndarray] = OrderedDict()
        self._admitted_lock = threading.Lock()
        self.remove_leftovers()

    def _adopt_identity(self, manifest: Manifest) -> Manifest:
        """The manifest with the store's model and dimension, which are the source of truth once recorded.

        A store that has recorded none (made before reindexing existed) records manifest.json's. One that
        disagrees with manifest.json was switched by a reindex that stopped before it rewrote the file:
        the file is brought in line (or `rag check` reports it, when another process holds the lock).
        """
        with self.store.snapshot() as db:
            recorded = staging.identity(db)
        if recorded is None:
            with self.store.transaction() as db:
                if staging.identity(db) is None:
                    staging.record_identity(db, manifest.model, manifest.dimension)
            return manifest
        if recorded == (manifest.model, manifest.dimension):
            return manifest
        adopted = dataclasses.replace(manifest, model=recorded[0], dimension=recorded[1])
        try:
            with writer_lock(self.directory, wait=False):
                write_json_atomic(self.directory / MANIFEST, adopted.to_dict())
        except IndexBusyError:
            pass
        return adopted

    @staticmethod
    def exists(directory: str | Path) -> bool:
        """Whether `directory` holds a collection."""
        return (Path(directory) / MANIFEST).exists()

    @classmethod
    def open(
        cls,
        directory: str | Path,
        *,
        create: Manifest | None = None,
        options: EmbeddedOptions | None = None,
    ) -> EmbeddedCollection:
        """Open the collection in `directory`; with `create`, make an empty one of that manifest if none."""
        directory = Path(directory)
        path = directory / MANIFEST
        if not path.exists():
            if create is None:
                raise NoIndexError(str(directory))
            directory.mkdir(parents=True, exist_ok=True)
            with writer_lock(directory):
                if not path.exists():
                    write_json_atomic(path, create.to_dict() | {"created_at": now()})
        return cls(directory, read_manifest(directory), options=options)

    @property
    def location(self) -> str:
        return str(self.directory)

    # ------------------------------------------------------------------ reads

    @property
    def manifest(self) -> Manifest:  # type: ignore[override]
        """The collection's manifest as of the newest state read (a reindex's switch changes its model)."""
        return self._manifest

    @contextmanager
    def reading(self) -> Iterator[EmbeddedReader]:
        with self.store.snapshot() as db:
            self.manifest_of(db)  # a switch to another model is noticed here, at the next read after it
            yield EmbeddedReader(self, db)

    def manifest_of(self, db) -> Manifest:
        """What the vectors `db` sees were made with; the collection's manifest follows the newest seen."""
        version = st.state(db).vectors
        found = self._identities.get(version)
        if found is None:
            model, dimension = staging.identity(db) or (self._manifest.model, self._manifest.dimension)
            found = dataclasses.replace(self._manifest, model=model, dimension=dimension)
            with self._advance:
                self._identities[version] = found
                for old in sorted(self._identities)[:-2]:
                    del self._identities[old]
        if version > self._vectors_version:
            with self._advance:
                if version > self._vectors_version:
                    self._vectors_version, self._manifest = version, found
        return found

    def searchable(self, db) -> Searchable:
        """The searchable of the generation `db` sees (or a newer one of the same vectors another thread has
        moved on to; never one of other vectors: a question is embedded by the model of its snapshot)."""
        state = st.state(db)
        dimension = self.manifest_of(db).dimension
        current = self._searchables.get(state.vectors)
        if current is not None and current.generation >= state.generation and current.base.generation >= state.base:
            return current
        with self._advance:
            current = self._searchables.get(state.vectors)
            if current is None or current.base.generation < state.base:
                base = self._load_base(state.base, dimension)
                # a base that cannot be read is replaced by every segment of the store, from memory
                after = state.base_max_id if len(base.ids) or state.base_rows == 0 else 0
                current = Searchable.start(
                    base,
                    state.generation,
                    st.segment_rows(db, after, dimension),
                    st.deleted_since(db, state.base),
                )
            elif current.generation < state.generation:
                current = current.advance(
                    state.generation,
                    st.segment_rows(db, current.max_id, dimension),
                    st.deleted_since(db, current.generation),
                )
            self._searchables[state.vectors] = current
            for old in sorted(self._searchables)[:-2]:
                del self._searchables[old]
        if state.vectors < self._vectors_version:
            return current  # a reader from before a switch: no base is built from its vectors any more
        lost = state.base_rows > 0 and not len(current.base.ids)
        due = compaction_due(current.pending, len(current.base.ids), self.options.rebuild_after)
        if self.options.background and (lost or due):
            self._compact_soon(force=lost)  # a process that only writes builds its bases after its writes
        return current

    def admitted(self, db, filters: Filters) -> np.ndarray:
        """Ids of the segments holding a passage the filters admit, as `db` sees the store (cached)."""
        key = (st.state(db).generation, filters)
        with self._admitted_lock:
            found = self._admitted.get(key)
            if found is not None:
                self._admitted.move_to_end(key)
                return found
        found = queries.segment_ids(db, filters)
        with self._admitted_lock:
            self._admitted[key] = found
            while len(self._admitted) > ADMITTED_CACHE:
                self._admitted.popitem(last=False)
        return found

    def _load_base(self, generation: int, dimension: int) -> Base:
        if generation < 0:
            return Base.empty(dimension)
        directory = self.directory / f"{BASE_PREFIX}{generation}"
        try:
            base = Base.load(directory, self.options.search)
            if base.vectors.dimension != dimension:
                raise ValueError(f"dimension {base.vectors.dimension}, not {dimension}")
            return base
        except Exception as exc:  # missing or damaged: the store has everything it held
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
            log.warning("%s cannot be read (%s): searching the store's segments until it is rebuilt", directory, reason)
            return dataclasses.replace(Base.empty(dimension), generation=generation)

    # ------------------------------------------------------------------ writes

    @contextmanager
    def exclusive(self, wait: bool) -> Iterator[None]:
        try:
            lock = writer_lock(self.directory, wait=wait)
            lock.__enter__()
        except IndexBusyError as exc:
            raise IndexBusyError(f"{exc.message}, or pass --wait", field="index") from None
        try:
            yield
        finally:
            lock.__exit__(None, None, None)

    def set_write_wait(self, seconds: float | None) -> None:
        self._write_wait = True if seconds is None else seconds

    @property
    def write_wait(self) -> bool | float:
        """How long a write waits for another writer (True: as long as it takes)."""
        return self._write_wait

    def apply(self, add: Sequence[PreparedDocument] = (), delete: Sequence[str] = ()) -> None:
        segment_terms = [[terms(s.text) for s in prepared.segments] for prepared in add]  # outside the lock
        with writer_lock(self.directory, wait=self._write_wait):
            with self.store.snapshot() as db:
                next_passage, next_segment = st.next_ids(db)
                if add:
                    check_made_by(self.manifest_of(db), add)
            for doc_id in delete:
                with self.store.transaction() as db:
                    st.bump(db)
                    st.delete_document(db, doc_id)
            for prepared, words in zip(add, segment_terms, strict=True):
                passage_ids = range(next_passage, next_passage + len(prepared.passages))
                segment_ids = range(next_segment, next_segment + len(prepared.segments))
                with self.store.transaction() as db:
                    st.bump(db)
                    st.delete_document(db, prepared.doc.id)
                    st.put_document(db, prepared, passage_ids, segment_ids, words)
                next_passage += len(prepared.passages)
                next_segment += len(prepared.segments)
            with self.store.snapshot() as db:
                state = st.state(db)
                due = compaction_due(st.pending(db, state.base_max_id), state.base_rows, self.options.rebuild_after)
        if due:
            self._compact_soon()

    # ------------------------------------------------------------------ reindexing (see reindexing.py)

    def begin_reindex(self, manifest: Manifest) -> int:
        return reindexing.begin(self, manifest)

    def reindex_todo(self, limit: int | None = None) -> list[str]:
        with self.store.snapshot() as db:
            return staging.unstaged_documents(db, limit)

    def stage(self, documents: Sequence[StagedDocument]) -> int:
        return reindexing.stage(self, documents)

    def switch(self, catch_up: Callable[[list[str]], Sequence[StagedDocument]]) -> Manifest:
        return reindexing.switch(self, catch_up)

    def abandon_reindex(self) -> None:
        with writer_lock(self.directory, wait=self._write_wait), self.store.transaction() as db:
            staging.clear_staging(db)

    def set_canonical(self, names: Iterable[str], canonical: str) -> None:
        with writer_lock(self.directory, wait=self._write_wait), self.store.transaction() as db:
            st.set_canonical(db, names, canonical)

    # ------------------------------------------------------------------ bases

    def compact(self, force: bool = False) -> bool:
        """Build a base of every segment from the store and switch to it; False when another process is at it.

        Without `force`, a base of the current generation already on disk is kept.
        """
        with try_lock(self.directory / COMPACT_LOCK) as locked:
            if not locked:
                return False
            with self.store.snapshot() as db:
                state = st.state(db)
                dimension = self.manifest_of(db).dimension
                rows = st.segment_rows(db, 0, dimension)
            directory = self.directory / f"{BASE_PREFIX}{state.generation}"
            if state.base == state.generation and (directory / "meta.json").exists() and not force:
                return True
            base = Base.build(directory, state.generation, rows, dimension)
            with writer_lock(self.directory):
                with self.store.transaction() as db:
                    now_state = st.state(db)
                    # (a reindex switches vectors only while it holds the compaction lock, as this does)
                    if now_state.base < state.generation and now_state.vectors == state.vectors:
                        st.install_base(db, state.generation, base.max_id, len(base.ids))
                self._remove_leftovers_unlocked(compacting=True)
            return True

    def _compact_soon(self, force: bool = False) -> None:
        if not self.options.background:
            self.compact(force)
            return
        with self._advance:
            if (self._compactor is not None and self._compactor.is_alive()) or time.monotonic() < self._next_compaction:
                return
            # another process may be building it (then this one skips): look again in a while, not at every search
            self._next_compaction = time.monotonic() + COMPACT_RETRY_S
            self._compactor = threading.Thread(
                target=self._compact_logged, args=(force,), name="rag-compact", daemon=True
            )
            self._compactor.start()

    def _compact_logged(self, force: bool) -> None:
        try:
            self.compact(force)
        except Exception:
            log.exception("building a new base in %s failed; searches go on with the old one", self.directory)

    def wait_for_compaction(self) -> None:
        """Wait until a background base build has finished (tests and benchmarks)."""
        thread = self._compactor
        if thread is not None:
            thread.join()

    def remove_leftovers(self) -> list[str]:
        """Remove what interrupted writes and old bases left, when no other process writes or builds a base."""
        try:
            with writer_lock(self.directory, wait=False):
                return self._remove_leftovers_unlocked()
        except IndexBusyError:
            return []

    def remove_leftovers_locked(self) -> list[str]:
        """Remove leftovers; the caller holds the write lock and the compaction lock."""
        return self._remove_leftovers_unlocked(compacting=True)

    def _remove_leftovers_unlocked(self, compacting: bool = False) -> list[str]:
        with try_lock(self.directory / COMPACT_LOCK) as locked:
            if not (locked or compacting):
                return []  # another process is building a base: its files are its work
            with self.store.snapshot() as db:
                current = st.state(db).base
            removed = []
            for path in leftover_files(self.directory, current):
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
                removed.append(path.name)
            return removed

    # ------------------------------------------------------------------ facts

    def describe(self) -> dict[str, object]:
        with self.store.snapshot() as db:
            state = st.state(db)
            pending = st.pending(db, state.base_max_id)
        try:
            base = json.loads((self.directory / f"{BASE_PREFIX}{state.base}" / "meta.json").read_text())
        except (OSError, ValueError):
            base = {"generation": state.base}
        return {
            "backend": "embedded",
            "directory": str(self.directory),
            "generation": state.generation,
            "base": base,
            "pending_segments": pending,
        }

    def close(self) -> None:
        self.store.close()
