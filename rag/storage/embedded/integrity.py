"""Integrity of a collection directory: what `rag check` verifies and what `rag repair` rebuilds from the store."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np

from rag.embedding import model_dimension, resolve_model
from rag.errors import IndexMismatchError, NoIndexError, RagError
from rag.storage.embedded import queries, staging
from rag.storage.embedded import store as st
from rag.storage.embedded.collection import MANIFEST, STORE, EmbeddedCollection, leftover_files, read_manifest
from rag.storage.embedded.durable import write_json_atomic
from rag.storage.embedded.locking import writer_lock
from rag.storage.embedded.searchable import BASE_PREFIX, Base
from rag.storage.interface import CheckReport, RepairReport
from rag.storage.manifest import Manifest, model_problems, now

DEFAULT_WAIT_S = 30.0  # how long check and repair wait for a running writer to finish


def check(directory: str | Path, *, wait: bool | float = DEFAULT_WAIT_S) -> CheckReport:
    """Verify a collection directory: manifest, model and dimension, the store's rows, the base files.

    Holds the write lock (waiting up to `wait` seconds for a running writer) so that no write is half
    done while it looks; readers are not held up.
    """
    directory = Path(directory)
    if not (directory / MANIFEST).exists() and not (directory / STORE).exists():
        raise NoIndexError(str(directory))
    with writer_lock(directory, wait=wait, holder="rag check"):
        return _check_unlocked(directory)


def _check_unlocked(directory: Path) -> CheckReport:
    report = CheckReport(str(directory))
    manifest = _manifest_or_problem(directory, report)
    if not (directory / STORE).is_file():
        report.problems.append(f"{STORE} is missing: the documents are gone; rebuild the index with rag ingest")
        return report
    with closing(_open_store(directory)) as db:
        if not _check_store(db, manifest, report) or manifest is None:
            return report
        _check_identity(db, manifest, report)
        report.problems += model_problems(manifest)
        state = st.state(db)
        _check_base(directory, db, state, manifest, report)
        base = state.base
    for path in leftover_files(directory, base):
        report.problems.append(
            f"{path.name} is left over (an interrupted write, or an old base): rag repair removes it"
        )
    return report


def _manifest_or_problem(directory: Path, report: CheckReport) -> Manifest | None:
    if not (directory / MANIFEST).exists():
        report.problems.append(f"{MANIFEST} is missing: rag repair --model NAME writes a new one")
        return None
    try:
        manifest = read_manifest(directory)
    except IndexMismatchError as exc:
        report.problems.append(f"{exc.message}: rag repair --model NAME writes a new manifest")
        return None
    report.facts.update(model=manifest.model, dimension=manifest.dimension)
    return manifest


def _check_store(db: sqlite3.Connection, manifest: Manifest | None, report: CheckReport) -> bool:
    """The store's own health and its rules; False when it cannot be read at all."""
    try:
        damage = st.damage(db)
        if not damage:
            counts = dataclasses.asdict(queries.counts(db))
            state = st.state(db)
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"{STORE} cannot be read ({exc}): rebuild the index with rag ingest")
        return False
    if damage:
        report.problems.append(f"{STORE} is damaged: {'; '.join(damage[:5])}")
        return False
    report.facts.update(counts, store_generation=state.generation, base_generation=state.base)
    for count, message in st.rule_violations(db, manifest.dimension if manifest else None):
        report.problems.append(f"{count} {message}: rag repair removes the documents that are not whole")
    return True


def _check_identity(db: sqlite3.Connection, manifest: Manifest, report: CheckReport) -> None:
    """manifest.json names the model the store's vectors are of; a reindex under way is a fact, not a problem."""
    try:
        recorded = staging.identity(db)
        staged = staging.staged_manifest(db)
        staged_documents = staging.staged_count(db)
    except sqlite3.OperationalError:  # a store of schema 2, not opened by this version yet
        return
    if recorded is not None and recorded != (manifest.model, manifest.dimension):
        report.problems.append(
            f"{MANIFEST} names model {manifest.model!r} (dimension {manifest.dimension}), the store's vectors are of"
            f" {recorded[0]!r} (dimension {recorded[1]}): a reindex stopped before rewriting {MANIFEST};"
            " rag repair rewrites it"
        )
    if staged is not None:
        report.facts["reindex_staged"] = {"model": staged.model, "documents": staged_documents}


def _check_base(directory: Path, db: sqlite3.Connection, state: st.State, manifest: Manifest, report: CheckReport):
    """The base the store names loads, and holds the store's segments of its generation."""
    if state.base < 0:
        return
    path = directory / f"{BASE_PREFIX}{state.base}"
    try:
        base = Base.load(path)
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        report.problems.append(f"{path.name} cannot be loaded ({reason}): rag repair rebuilds it")
        return
    if base.vectors.dimension != manifest.dimension:
        report.problems.append(f"{path.name} has dimension {base.vectors.dimension}: rag repair rebuilds it")
    expected = st.segment_ids(db)
    expected = expected[expected <= state.base_max_id]
    held = np.setdiff1d(base.ids, st.deleted_since(db, state.base))
    if not np.array_equal(held, expected):
        missing, extra = np.setdiff1d(expected, held).size, np.setdiff1d(held, expected).size
        report.problems.append(
            f"{path.name} holds {len(held)} live segments, the store {len(expected)} ({missing} missing,"
            f" {extra} not in the store): rag repair rebuilds it"
        )


def loaded_problems(collection: EmbeddedCollection) -> list[str]:
    """What is inconsistent between what an open collection searches and its store."""
    problems = []
    with collection.reading() as reader:
        live, ids = reader.live_ids(), reader.stored_ids()
        if not np.array_equal(live, ids):
            missing, extra = np.setdiff1d(ids, live).size, np.setdiff1d(live, ids).size
            problems.append(
                f"searching {len(live)} segments, the store holds {len(ids)} ({missing} missing, {extra} extra)"
            )
        problems += [f"{count} {message}" for count, message in reader.rule_violations()]
    return problems


# ---------------------------------------------------------------------- repair


def repair(directory: str | Path, *, model: str | None = None, wait: bool | float = DEFAULT_WAIT_S) -> RepairReport:
    """Rebuild what can be rebuilt from the store: manifest (given `model`), the base; clear leftovers.

    Documents that are not whole in the store are removed (ingesting them again restores them); nothing
    is re-embedded. The report's check says what is still wrong afterwards.
    """
    directory = Path(directory)
    if not (directory / STORE).is_file():
        if (directory / MANIFEST).exists():
            raise RagError(f"{directory / STORE} is missing: the documents are gone; rebuild with rag ingest")
        raise NoIndexError(str(directory))
    report = RepairReport(str(directory))
    with writer_lock(directory, wait=wait, holder="rag repair"):
        before = _check_unlocked(directory)
        if _manifest_or_problem(directory, CheckReport(str(directory))) is None:
            if model is None:
                report.actions.append(f"{MANIFEST} is unusable and no --model was given: nothing else was done")
                report.check = before
                return report
            _write_manifest(directory, model, report)
        with closing(_open_store(directory)) as db:
            if not _check_store(db, None, CheckReport(str(directory))):
                report.actions.append(f"{STORE} is damaged: it cannot be repaired; rebuild the index with rag ingest")
                report.check = before
                return report
        collection = EmbeddedCollection(directory, read_manifest(directory))
        try:
            with collection.store.transaction() as db:
                doomed, orphans = st.remove_incomplete(db, collection.manifest.dimension)
            if doomed:
                report.actions.append(
                    f"removed {len(doomed)} documents that were not whole (ingest them again): {', '.join(doomed)}"
                )
            if orphans:
                report.actions.append(f"removed {orphans} rows that belonged to no document")
            collection.compact(force=True)
            with collection.store.snapshot() as db:
                state = st.state(db)
            report.actions.append(
                f"rebuilt {BASE_PREFIX}{state.base} from the store ({state.base_rows} segments, no re-embedding)"
            )
            removed = collection.remove_leftovers()
            if removed:
                report.actions.append(f"removed {len(removed)} leftovers of interrupted writes: {', '.join(removed)}")
        finally:
            collection.close()
        report.check = _check_unlocked(directory)
    return report


def _write_manifest(directory: Path, model: str, report: RepairReport) -> None:
    with closing(_open_store(directory)) as db:
        dimension = st.vector_width(db)
    if dimension is None:
        dimension = model_dimension(Path(resolve_model(model)))
    if dimension is None:
        raise RagError(f"cannot tell the dimension of model {model!r} without vectors in the store", field="model")
    manifest = Manifest(model=model, dimension=int(dimension), created_at=now())
    write_json_atomic(directory / MANIFEST, manifest.to_dict())
    report.actions.append(
        f"wrote a new {MANIFEST} for model {model!r}, dimension {dimension} (passage settings: the defaults)"
    )


def _open_store(directory: Path) -> sqlite3.Connection:
    """The store opened as it is: no schema created, foreign keys on for cascading deletes."""
    db = sqlite3.connect(f"file:{directory / STORE}?mode=rw", uri=True, timeout=30, isolation_level=None)
    db.execute("PRAGMA foreign_keys=ON")
    return db
