"""Reindexing an embedded collection: new vectors staged in the store, their base built, one transaction to switch.

While vectors are staged, searches and writes go on with the old model. The switch then takes the
compaction lock (no base of the old vectors can be built meanwhile), fixes a generation of its own for
the new base and builds it from the staged vectors, and finally, holding the write lock, stages the few
documents written since and commits one transaction that swaps every segment's vector for its staged
one, records the new model as the store's identity and names the new base. A reader's sqlite snapshot
is from before that transaction or after it, so it searches the old vectors with the old model or the
new with the new; manifest.json is rewritten after the commit to mirror the store (the store wins if a
crash comes between). The old base stays on disk until the next one is built, for readers still on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rag.errors import IndexMismatchError, RagError
from rag.storage.embedded import staging
from rag.storage.embedded import store as st
from rag.storage.embedded.durable import write_json_atomic
from rag.storage.embedded.files import COMPACT_LOCK, MANIFEST
from rag.storage.embedded.locking import hold_lock, writer_lock
from rag.storage.embedded.searchable import BASE_PREFIX, Base
from rag.storage.interface import StagedDocument, stage_written_since
from rag.storage.manifest import Manifest

if TYPE_CHECKING:
    from rag.storage.embedded.collection import EmbeddedCollection


def begin(collection: EmbeddedCollection, manifest: Manifest) -> int:
    """Stage for `manifest` (resuming what was staged for the same model); documents staged already."""
    with writer_lock(collection.directory, wait=collection.write_wait), collection.store.transaction() as db:
        current = collection.manifest_of(db)
        if manifest.model == current.model:
            raise IndexMismatchError(
                f"the collection at {collection.location} is embedded with {manifest.model} already", field="model"
            )
        staged = staging.staged_manifest(db)
        if staged is None or (staged.model, staged.dimension) != (manifest.model, manifest.dimension):
            staging.start_staging(db, manifest)
        return staging.staged_count(db)


def stage(collection: EmbeddedCollection, documents: Sequence[StagedDocument]) -> int:
    with writer_lock(collection.directory, wait=collection.write_wait), collection.store.transaction() as db:
        return staging.stage(db, documents, _target(db).dimension)


def switch(collection: EmbeddedCollection, catch_up: Callable[[list[str]], Sequence[StagedDocument]]) -> Manifest:
    """Make the staged vectors the collection's in one transaction (see the module's docstring)."""
    directory = collection.directory
    stage_written_since(collection, catch_up)
    with hold_lock(directory / COMPACT_LOCK):
        with writer_lock(directory):
            with collection.store.transaction() as db:
                target = _target(db)
                st.bump(db)  # a generation of its own for the new base: no base of the old vectors has it
            with collection.store.snapshot() as db:
                generation = st.state(db).generation
                rows, upto = staging.staged_rows(db, target.dimension)
        base = Base.build(directory / f"{BASE_PREFIX}{generation}", generation, rows, target.dimension)
        with writer_lock(directory):
            todo = collection.reindex_todo()
            if todo:
                collection.stage(catch_up(todo))  # written since the rounds above: writers wait for these few
            with collection.store.transaction() as db:
                if _target(db) != target:
                    raise RagError("the reindex was abandoned or restarted by another process meanwhile")
                missing = staging.unstaged_segments(db)
                if missing:
                    raise RagError(f"{missing} segments have no vector of {target.model}: run rag reindex again")
                staging.switch(db, target, generation, upto, len(base.ids))
            write_json_atomic(directory / MANIFEST, target.to_dict())
            collection.remove_leftovers_locked()
    with collection.reading():
        pass  # this process follows the switch at once
    return target


def _target(db) -> Manifest:
    target = staging.staged_manifest(db)
    if target is None:
        raise RagError("no reindex is under way in this collection: start one with rag reindex --model NAME")
    return target
