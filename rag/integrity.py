"""Index integrity: what `rag check` verifies and what `rag repair` rebuilds from the store."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from rag.durable import write_json_atomic
from rag.embedding import resolve_model
from rag.errors import IndexMismatchError, NoIndexError, RagError
from rag.index import (
    DEFAULT_OVERLAP_TOKENS,
    DEFAULT_SEGMENT_TOKENS,
    FORMAT_VERSION,
    MANIFEST,
    STORE,
    Index,
    leftover_files,
    remove_leftovers,
)
from rag.lexical import LexicalIndex
from rag.locking import writer_lock
from rag.vectors import VectorIndex

DEFAULT_WAIT_S = 30.0  # how long check and repair wait for a running writer to finish

# Each query counts rows that break one rule of the store; the rule is the message.
_STORE_RULES = [
    (
        "passages whose document does not exist",
        "SELECT COUNT(*) FROM passages p WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = p.doc_id)",
    ),
    (
        "passages whose segment does not exist",
        "SELECT COUNT(*) FROM passages p WHERE NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = p.segment_id)",
    ),
    (
        "passages in a segment of another document",
        "SELECT COUNT(*) FROM passages p JOIN segments s ON s.id = p.segment_id WHERE s.doc_id != p.doc_id",
    ),
    (
        "passages whose turn does not exist",
        "SELECT COUNT(*) FROM passages p WHERE NOT EXISTS"
        " (SELECT 1 FROM turns t WHERE t.doc_id = p.doc_id AND t.idx = p.turn_index)",
    ),
    (
        "segments without passages",
        "SELECT COUNT(*) FROM segments s WHERE NOT EXISTS (SELECT 1 FROM passages p WHERE p.segment_id = s.id)",
    ),
    (
        "segments whose document does not exist",
        "SELECT COUNT(*) FROM segments s WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = s.doc_id)",
    ),
    (
        "turns whose document does not exist",
        "SELECT COUNT(*) FROM turns t WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = t.doc_id)",
    ),
    (
        "documents without turns",
        "SELECT COUNT(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM turns t WHERE t.doc_id = d.id)",
    ),
    (
        "documents without passages",
        "SELECT COUNT(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.id)",
    ),
]

# Documents a repair removes because they are not whole: ingesting them again restores them.
_INCOMPLETE_DOCUMENTS = """
    SELECT id FROM documents d
    WHERE NOT EXISTS (SELECT 1 FROM turns t WHERE t.doc_id = d.id)
       OR NOT EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.id)
       OR EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.id
                  AND NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = p.segment_id AND s.doc_id = d.id))
       OR EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.id
                  AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.doc_id = d.id AND t.idx = p.turn_index))
       OR EXISTS (SELECT 1 FROM segments s WHERE s.doc_id = d.id
                  AND NOT EXISTS (SELECT 1 FROM passages p WHERE p.segment_id = s.id))
       OR EXISTS (SELECT 1 FROM segments s WHERE s.doc_id = d.id AND length(s.vector) != ?)
"""

# Rows of no document at all (foreign keys make them impossible unless the file was edited).
_ORPHANS = [
    "DELETE FROM passages WHERE doc_id NOT IN (SELECT id FROM documents)"
    " OR segment_id NOT IN (SELECT id FROM segments)",
    "DELETE FROM segments WHERE doc_id NOT IN (SELECT id FROM documents)"
    " OR id NOT IN (SELECT segment_id FROM passages)",
    "DELETE FROM turns WHERE doc_id NOT IN (SELECT id FROM documents)",
]


@dataclass
class CheckReport:
    """What a check found: facts about the index, and every problem in words."""

    directory: Path
    facts: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class RepairReport:
    """What a repair did, and what a check still finds afterwards."""

    directory: Path
    actions: list[str] = field(default_factory=list)
    check: CheckReport | None = None

    @property
    def ok(self) -> bool:
        return self.check is not None and self.check.ok


# ---------------------------------------------------------------------- check


def check_index(directory: str | Path, *, wait: bool | float = DEFAULT_WAIT_S) -> CheckReport:
    """Verify an index on disk: manifest, model and dimension, the store's rows, the derived files.

    Holds the write lock (waiting up to `wait` seconds for a running writer) so that no write is
    half done while it looks; readers are not held up.
    """
    directory = Path(directory)
    if not (directory / MANIFEST).exists() and not (directory / STORE).exists():
        raise NoIndexError(str(directory))
    with writer_lock(directory, wait=wait, holder="rag check"):
        return _check_unlocked(directory)


def _check_unlocked(directory: Path) -> CheckReport:
    report = CheckReport(directory)
    manifest = _manifest_or_problem(directory, report)
    if not (directory / STORE).is_file():
        report.problems.append(f"{STORE} is missing: the documents are gone; rebuild the index with rag ingest")
        return report
    with closing(_open_store(directory)) as db:
        store_ok = _check_store(db, manifest, report)
        if manifest is None:
            return report
        _check_model(manifest, report)
        if store_ok:
            _check_derived(directory, db, manifest, report)
    for path in leftover_files(directory, manifest):
        report.problems.append(
            f"{path.name} is left over (an interrupted write, or an older generation): rag repair removes it"
        )
    return report


def _manifest_or_problem(directory: Path, report: CheckReport) -> dict | None:
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        report.problems.append(f"{MANIFEST} is missing: rag repair --model NAME writes a new one")
        return None
    except (OSError, ValueError) as exc:
        report.problems.append(f"{MANIFEST} cannot be read ({exc}): rag repair --model NAME writes a new one")
        return None
    if not isinstance(manifest, dict):
        report.problems.append(f"{MANIFEST} is not a JSON object: rag repair --model NAME writes a new one")
        return None
    if manifest.get("format_version") != FORMAT_VERSION:
        report.problems.append(
            f"{MANIFEST} has format version {manifest.get('format_version')!r}, this program reads"
            f" {FORMAT_VERSION}: rebuild the index with rag ingest"
        )
        return None
    missing = [key for key in ("model", "dimension", "segment_tokens", "overlap_tokens") if key not in manifest]
    if missing:
        report.problems.append(f"{MANIFEST} lacks {', '.join(missing)}: rag repair --model NAME writes a new one")
        return None
    report.facts.update(model=manifest["model"], dimension=manifest["dimension"], generation=manifest.get("generation"))
    return manifest


def _check_store(db: sqlite3.Connection, manifest: dict | None, report: CheckReport) -> bool:
    """The store's own health and its rules; False when it cannot be read at all."""
    try:
        verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
        counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in _TABLES}
        generation = db.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"{STORE} cannot be read ({exc}): rebuild the index with rag ingest")
        return False
    if verdict != ["ok"]:
        report.problems.append(f"{STORE} is damaged: {'; '.join(verdict[:5])}")
        return False
    report.facts.update(counts, store_generation=generation)
    for message, query in _STORE_RULES:
        bad = db.execute(query).fetchone()[0]
        if bad:
            report.problems.append(f"{bad} {message}: rag repair removes the documents that are not whole")
    if manifest is not None:
        width = 4 * int(manifest["dimension"])
        bad = db.execute("SELECT COUNT(*) FROM segments WHERE length(vector) != ?", (width,)).fetchone()[0]
        if bad:
            report.problems.append(
                f"{bad} segment vectors are not of dimension {manifest['dimension']}: rag repair removes their"
                " documents"
            )
    return True


def _check_model(manifest: dict, report: CheckReport) -> None:
    """The manifest's model can be found offline, and its vectors have the manifest's dimension."""
    try:
        location = Path(resolve_model(str(manifest["model"])))
    except RagError as exc:
        report.problems.append(f"model {manifest['model']!r}: {exc.message}")
        return
    if not location.exists():
        report.problems.append(f"model {manifest['model']!r} is neither installed nor a local path")
        return
    dimension = _model_dimension(location)
    if dimension is not None and dimension != int(manifest["dimension"]):
        report.problems.append(
            f"model {manifest['model']!r} makes vectors of dimension {dimension}, the manifest says"
            f" {manifest['dimension']}"
        )


def _model_dimension(location: Path) -> int | None:
    """The vector size a sentence-transformers folder declares, read without loading the model."""
    try:
        modules = json.loads((location / "modules.json").read_text())
        if any("Dense" in m.get("type", "") for m in modules):
            return None  # a projection decides the size; only loading the model tells
        pooling = next(m for m in modules if m.get("type", "").endswith("Pooling"))
        config = json.loads((location / pooling["path"] / "config.json").read_text())
        return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        return None


def _check_derived(directory: Path, db: sqlite3.Connection, manifest: dict, report: CheckReport) -> None:
    """The vector and BM25 files match the store: same generation, same segment ids."""
    ids = np.fromiter((r[0] for r in db.execute("SELECT id FROM segments ORDER BY id")), dtype=np.int64)
    generation = report.facts["store_generation"]
    files = manifest.get("files") or {}
    if not files:
        if len(ids):
            report.problems.append("the manifest names no vector or BM25 files: rag repair builds them")
        return
    if manifest.get("generation") != generation:
        report.problems.append(
            f"the derived files are of generation {manifest.get('generation')}, the store is at {generation}"
            " (a write was interrupted): rag repair, or opening the index, rebuilds them"
        )
        return
    for key, expected in (("documents", "documents"), ("passages", "passages"), ("segments", "segments")):
        if key in manifest and manifest[key] != report.facts[expected]:
            report.problems.append(f"the manifest counts {manifest[key]} {key}, the store holds {report.facts[key]}")
    vectors_path, lexical_path = directory / str(files.get("vectors")), directory / str(files.get("lexical"))
    for path in (vectors_path, lexical_path):
        if not path.exists():
            report.problems.append(f"{path.name}, named by the manifest, is missing: rag repair rebuilds it")
    try:
        vectors = VectorIndex.load(vectors_path) if vectors_path.is_file() else None
    except Exception as exc:
        report.problems.append(f"{vectors_path.name} cannot be loaded ({_last_line(exc)}): rag repair rebuilds it")
    else:
        if vectors is not None and vectors.dimension != int(manifest["dimension"]):
            report.problems.append(
                f"{vectors_path.name} has dimension {vectors.dimension}, not {manifest['dimension']}: rag repair"
                " rebuilds it"
            )
        if vectors is not None:
            _compare_ids(vectors_path.name, vector_ids(vectors), ids, report)
    try:
        lexical = LexicalIndex.load(lexical_path) if lexical_path.is_dir() else None
    except Exception as exc:
        report.problems.append(f"{lexical_path.name} cannot be loaded ({_last_line(exc)}): rag repair rebuilds it")
    else:
        if lexical is not None:
            _compare_ids(lexical_path.name, lexical.ids, ids, report)


def vector_ids(vectors: VectorIndex) -> np.ndarray | None:
    """The ids a FAISS index holds, when its kind keeps them (an id map); else None."""
    id_map = getattr(vectors.index, "id_map", None)
    return None if id_map is None else np.sort(faiss.vector_to_array(id_map).astype(np.int64))


def _compare_ids(name: str, held: np.ndarray | None, ids: np.ndarray, report: CheckReport) -> None:
    if held is None or (len(held) == len(ids) and np.array_equal(np.sort(held), ids)):
        return
    missing = np.setdiff1d(ids, held).size
    extra = np.setdiff1d(held, ids).size
    report.problems.append(
        f"{name} holds {len(held)} segments, the store {len(ids)} ({missing} missing, {extra} not in the store):"
        " rag repair rebuilds it"
    )


def loaded_problems(index: Index) -> list[str]:
    """What is inconsistent between an open index's loaded vectors and BM25 and its store."""
    report = CheckReport(index.directory)
    with index.lock.read(), index.store.snapshot() as db:
        ids = np.fromiter((r[0] for r in db.execute("SELECT id FROM segments ORDER BY id")), dtype=np.int64)
        generation = index.store.generation()
        if generation != index.loaded_generation:
            report.problems.append(f"loaded generation {index.loaded_generation}, the store is at {generation}")
        if not len(index.vectors) == len(index.lexical) == len(ids):
            report.problems.append(
                f"the loaded vectors hold {len(index.vectors)} segments, the BM25 index {len(index.lexical)},"
                f" the store {len(ids)}"
            )
        _compare_ids("the loaded vectors", vector_ids(index.vectors), ids, report)
        _compare_ids("the loaded BM25 index", index.lexical.ids, ids, report)
        for message, query in _STORE_RULES:
            bad = db.execute(query).fetchone()[0]
            if bad:
                report.problems.append(f"{bad} {message}")
    return report.problems


# ---------------------------------------------------------------------- repair


def repair_index(
    directory: str | Path, *, model: str | None = None, wait: bool | float = DEFAULT_WAIT_S
) -> RepairReport:
    """Rebuild what can be rebuilt from the store: manifest (given `model`), derived files; clear leftovers.

    Documents that are not whole in the store are removed (ingesting them again restores them);
    nothing is re-embedded. The report's check says what is still wrong afterwards.
    """
    directory = Path(directory)
    if not (directory / STORE).is_file():
        if (directory / MANIFEST).exists():
            raise RagError(f"{directory / STORE} is missing: the documents are gone; rebuild with rag ingest")
        raise NoIndexError(str(directory))
    report = RepairReport(directory)
    with writer_lock(directory, wait=wait, holder="rag repair"):
        before = _check_unlocked(directory)
        if not _manifest_or_problem(directory, CheckReport(directory)):
            if model is None:
                report.actions.append(f"{MANIFEST} is unusable and no --model was given: nothing else was done")
                report.check = before
                return report
            _write_manifest(directory, model, report)
        with closing(_open_store(directory)) as db:
            if not _check_store(db, None, CheckReport(directory)):
                report.actions.append(f"{STORE} is damaged: it cannot be repaired; rebuild the index with rag ingest")
                report.check = before
                return report
            _remove_incomplete(db, json.loads((directory / MANIFEST).read_text()), report)
        removed = remove_leftovers(directory, json.loads((directory / MANIFEST).read_text()))
        if removed:
            report.actions.append(f"removed {len(removed)} leftovers of interrupted writes: {', '.join(removed)}")
        try:
            index = Index.open(directory)
        except IndexMismatchError as exc:
            report.actions.append(f"cannot open the index: {exc.message}")
            report.check = _check_unlocked(directory)
            return report
        try:
            segments = index.rebuild_derived()
        finally:
            index.store.close()
        files = index.manifest["files"]
        report.actions.append(
            f"rebuilt {files['vectors']} and {files['lexical']} from the store ({segments} segments, no re-embedding)"
        )
        report.check = _check_unlocked(directory)
    return report


def _write_manifest(directory: Path, model: str, report: RepairReport) -> None:
    with closing(_open_store(directory)) as db:
        row = db.execute("SELECT length(vector) FROM segments LIMIT 1").fetchone()
    location = Path(resolve_model(model))
    dimension = row[0] // 4 if row else _model_dimension(location)
    if dimension is None:
        raise RagError(f"cannot tell the dimension of model {model!r} without vectors in the store", field="model")
    manifest = {
        "format_version": FORMAT_VERSION,
        "model": model,
        "dimension": int(dimension),
        "segment_tokens": DEFAULT_SEGMENT_TOKENS,
        "overlap_tokens": DEFAULT_OVERLAP_TOKENS,
        "generation": -1,
        "files": {},
    }
    write_json_atomic(directory / MANIFEST, manifest)
    report.actions.append(
        f"wrote a new {MANIFEST} for model {model!r}, dimension {dimension} (passage settings: the defaults)"
    )


def _remove_incomplete(db: sqlite3.Connection, manifest: dict, report: RepairReport) -> None:
    width = 4 * int(manifest["dimension"])
    with _transaction(db):
        doomed = [row[0] for row in db.execute(_INCOMPLETE_DOCUMENTS, (width,))]
        for doc_id in doomed:
            db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        orphans = sum(db.execute(statement).rowcount for statement in _ORPHANS)
        if doomed or orphans:
            db.execute("UPDATE state SET value = value + 1 WHERE key = 'generation'")
    if doomed:
        report.actions.append(
            f"removed {len(doomed)} documents that were not whole (ingest them again): {', '.join(doomed)}"
        )
    if orphans:
        report.actions.append(f"removed {orphans} rows that belonged to no document")


# ---------------------------------------------------------------------- helpers

_TABLES = ("documents", "turns", "passages", "segments")


def _last_line(exc: Exception) -> str:
    """FAISS errors carry a C++ location first; the reason is the last line."""
    return str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__


def _open_store(directory: Path) -> sqlite3.Connection:
    """The store opened as it is: no schema created, foreign keys on for cascading deletes."""
    db = sqlite3.connect(f"file:{directory / STORE}?mode=rw", uri=True, timeout=30, isolation_level=None)
    db.execute("PRAGMA foreign_keys=ON")
    return db


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
