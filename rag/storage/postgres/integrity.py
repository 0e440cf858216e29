"""Integrity of a database collection: what `rag check` verifies and what `rag repair` recomputes.

Foreign keys keep rows of no document out; what a write keeps beside the rows (the state counters,
BM25's postings and document frequencies, the speaker counts) and the HNSW index are checked against
the rows themselves. Repair recomputes all of it from the rows in one write transaction (writers wait,
readers do not), removes documents that are not whole, and rebuilds a missing or invalid vector index;
nothing is re-embedded.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from rag.embedding import model_dimension, resolve_model
from rag.errors import NoIndexError, RagError
from rag.storage.interface import CheckReport, RepairReport
from rag.storage.manifest import Manifest, model_problems, now
from rag.storage.postgres import reindexing, schema
from rag.storage.postgres.connection import Database
from rag.storage.postgres.options import DatabaseOptions

# Each query counts rows that break one rule; the rule is the message.
_RULES = [
    (
        "documents without turns",
        "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM turns t WHERE t.doc_id = d.id)",
    ),
    (
        "documents without passages",
        "SELECT count(*) FROM documents d WHERE NOT EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.id)",
    ),
    (
        "segments without passages",
        "SELECT count(*) FROM segments s WHERE NOT EXISTS (SELECT 1 FROM passages p WHERE p.segment_id = s.id)",
    ),
    (
        "passages in a segment of another document",
        "SELECT count(*) FROM passages p JOIN segments s ON s.id = p.segment_id WHERE s.doc_id <> p.doc_id",
    ),
    (
        "passages whose turn does not exist",
        "SELECT count(*) FROM passages p WHERE NOT EXISTS"
        " (SELECT 1 FROM turns t WHERE t.doc_id = p.doc_id AND t.idx = p.turn_index)",
    ),
    (
        "BM25 postings of no segment",
        "SELECT count(*) FROM postings p WHERE NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = p.segment_id)",
    ),
    (
        "segments whose BM25 postings are not those their terms list",
        "SELECT count(*) FROM segments s WHERE cardinality(s.term_ids) <>"
        " (SELECT count(*) FROM postings p WHERE p.segment_id = s.id AND p.term_id = ANY(s.term_ids))"
        " OR s.length <> (SELECT coalesce(sum(p.tf), 0) FROM postings p WHERE p.segment_id = s.id"
        " AND p.term_id = ANY(s.term_ids))",
    ),
    (
        "terms whose document frequency is not their postings' count",
        "SELECT count(*) FROM terms t FULL JOIN (SELECT term_id, count(*) AS n FROM postings GROUP BY term_id) p"
        " ON p.term_id = t.id WHERE coalesce(t.df, 0) <> coalesce(p.n, 0)",
    ),
    (
        "speakers whose passage count is wrong",
        "SELECT count(*) FROM speaker_counts c FULL JOIN (SELECT speaker, count(*) AS n FROM passages"
        " GROUP BY speaker) p ON p.speaker = c.speaker WHERE coalesce(c.passages, 0) <> coalesce(p.n, 0)",
    ),
]

# The counters each write keeps, as the rows give them.
_COUNTERS = {
    "documents": "SELECT count(*) FROM documents",
    "turns": "SELECT count(*) FROM turns",
    "passages": "SELECT count(*) FROM passages",
    "segments": "SELECT count(*) FROM segments",
    "total_length": "SELECT coalesce(sum(length), 0) FROM segments",
}

# Documents a repair removes because they are not whole: ingesting them again restores them.
_INCOMPLETE = """
    SELECT id FROM documents d
    WHERE NOT EXISTS (SELECT 1 FROM turns t WHERE t.doc_id = d.id)
       OR NOT EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.id)
       OR EXISTS (SELECT 1 FROM segments s WHERE s.doc_id = d.id
                  AND NOT EXISTS (SELECT 1 FROM passages p WHERE p.segment_id = s.id))
       OR EXISTS (SELECT 1 FROM passages p JOIN segments s ON s.id = p.segment_id
                  WHERE p.doc_id = d.id AND s.doc_id <> d.id)
       OR EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.id
                  AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.doc_id = d.id AND t.idx = p.turn_index))
       OR EXISTS (SELECT 1 FROM segments s WHERE s.doc_id = d.id
                  AND cardinality(s.term_ids) <> (SELECT count(*) FROM postings p
                                                  WHERE p.segment_id = s.id AND p.term_id = ANY(s.term_ids)))
"""


def check(options: DatabaseOptions) -> CheckReport:
    """Verify a database collection: schema version, manifest, model, rows, counters, postings, vector index."""
    database = Database(options)
    report = CheckReport(database.location)
    with database.connect_once() as conn, database.errors():
        found = schema.version(conn)
        report.facts["schema_version"] = found
        if found < schema.VERSION:
            report.problems.append(
                f"the schema is at version {found}, this program needs {schema.VERSION}: rag db upgrade applies it"
            )
            return report
        with _maintenance(conn, read_only=True):
            manifest = _manifest_or_problem(conn, database.location, report)
            if manifest is None:
                return report
            report.problems += model_problems(manifest)
            counts = {key: int(conn.execute(sql).fetchone()[0]) for key, sql in _COUNTERS.items()}
            state = {k: int(v) for k, v in conn.execute("SELECT key, value FROM state")}
            report.facts.update(
                {k: counts[k] for k in ("documents", "turns", "passages", "segments")},
                store_generation=state["generation"],
            )
            for key, actual in counts.items():
                if state.get(key) != actual:
                    report.problems.append(
                        f"the {key} counter says {state.get(key)}, the rows {actual}: rag repair recounts"
                    )
            for message, sql in _RULES:
                count = int(conn.execute(sql).fetchone()[0])
                if count:
                    report.problems.append(f"{count} {message}: rag repair recomputes them from the rows")
            report.problems += _vector_problems(conn, manifest)
            staged = reindexing.staged_manifest(conn, database.location)
            if staged is not None:
                documents = int(conn.execute("SELECT count(*) FROM staged_documents").fetchone()[0])
                report.facts["reindex_staged"] = {"model": staged.model, "documents": documents}
    report.facts["checked"] = "schema, manifest, model, rows, counters, BM25 postings and the vector index agree"
    return report


def _manifest_or_problem(conn: psycopg.Connection, where: str, report: CheckReport) -> Manifest | None:
    try:
        manifest = schema.read_manifest(conn, where)
    except RagError as exc:
        report.problems.append(f"{exc.message}: rag repair --model NAME writes a new manifest")
        return None
    if manifest is None:
        if int(conn.execute("SELECT count(*) FROM documents").fetchone()[0]):
            report.problems.append("the manifest is missing: rag repair --model NAME writes a new one")
            return None
        raise NoIndexError(where)
    report.facts.update(model=manifest.model, dimension=manifest.dimension)
    return manifest


def _vector_problems(conn: psycopg.Connection, manifest: Manifest) -> list[str]:
    column = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'segments'::regclass AND attname = 'embedding'"
    ).fetchone()[0]
    problems = []
    if column != f"vector({manifest.dimension})":
        problems.append(f"segments.embedding is {column}, the manifest says vector({manifest.dimension})")
    index = conn.execute(
        "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass('segments_embedding')"
    ).fetchone()
    if index is None:
        problems.append("the HNSW index segments_embedding is missing: rag repair builds it")
    elif not index[0]:
        problems.append("the HNSW index segments_embedding is invalid (an interrupted build?): rag repair rebuilds it")
    return problems


class _maintenance:
    """A transaction without the statement timeout (checks scan whole tables), on the schema's search path."""

    def __init__(self, conn: psycopg.Connection, *, read_only: bool):
        self._tx = conn.transaction()
        self._conn = conn
        self._read_only = read_only

    def __enter__(self) -> None:
        self._tx.__enter__()
        if self._read_only:
            self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        self._conn.execute(f"SET LOCAL search_path = {schema.SCHEMA}, public")
        self._conn.execute("SET LOCAL statement_timeout = 0")

    def __exit__(self, *exc) -> bool | None:
        return self._tx.__exit__(*exc)


# ---------------------------------------------------------------------- repair


def repair(options: DatabaseOptions, *, model: str | None = None) -> RepairReport:
    """Recompute what the rows determine (counters, postings' statistics, speaker counts), remove documents
    that are not whole, rebuild the vector index if needed; write a manifest for `model` if it is missing."""
    database = Database(options)
    report = RepairReport(database.location)
    with database.connect_once() as conn, database.errors():
        applied = schema.upgrade(conn, database.location)
        if applied:
            report.actions.append(f"applied schema migrations {', '.join(map(str, applied))}")
        try:
            manifest = schema.read_manifest(conn, database.location)
        except RagError:
            manifest = None
        if manifest is None:
            if model is None:
                report.actions.append("the manifest is missing or unusable and no --model was given: nothing done")
                report.check = check(options)
                return report
            manifest = _write_manifest(conn, database.location, model, report)
        with _maintenance(conn, read_only=False):
            # the generation row lock: writers wait until the repair is done
            conn.execute("UPDATE state SET value = value + 1 WHERE key = 'generation'")
            _remove_incomplete(conn, report)
            _recount(conn, report)
        _rebuild_vector_index(conn, manifest, report)
    report.check = check(options)
    return report


def _write_manifest(conn: psycopg.Connection, where: str, model: str, report: RepairReport) -> Manifest:
    with _maintenance(conn, read_only=False):
        column = conn.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'segments'::regclass AND attname = 'embedding'"
        ).fetchone()[0]
    dimension = column if column and column > 0 else model_dimension(Path(resolve_model(model)))
    if dimension is None:
        raise RagError(f"cannot tell the dimension of model {model!r}", field="model")
    manifest = Manifest(model=model, dimension=int(dimension), created_at=now())
    with _maintenance(conn, read_only=False):
        conn.execute("DELETE FROM manifest")
        conn.execute("INSERT INTO manifest (data) VALUES (%s)", (json.dumps(manifest.to_dict()),))
        if not (column and column > 0):
            conn.execute(f"ALTER TABLE segments ALTER COLUMN embedding TYPE vector({int(dimension)})")
    report.actions.append(
        f"wrote a new manifest for model {model!r}, dimension {dimension} (passage settings: defaults)"
    )
    return manifest


def _remove_incomplete(conn: psycopg.Connection, report: RepairReport) -> None:
    doomed = [row[0] for row in conn.execute(_INCOMPLETE)]
    if doomed:
        conn.execute("DELETE FROM documents WHERE id = ANY(%s)", (doomed,))
        report.actions.append(
            f"removed {len(doomed)} documents that were not whole (ingest them again): {', '.join(doomed)}"
        )


def _recount(conn: psycopg.Connection, report: RepairReport) -> None:
    """Postings, document frequencies, speaker counts and counters, recomputed from the rows."""
    orphans = conn.execute(
        "DELETE FROM postings p WHERE NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = p.segment_id)"
        " OR NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = p.segment_id AND p.term_id = ANY(s.term_ids))"
    ).rowcount
    if orphans:
        report.actions.append(f"removed {orphans} BM25 postings of no segment")
    fixed = conn.execute(
        "WITH actual AS (SELECT t.id, (SELECT count(*) FROM postings p WHERE p.term_id = t.id) AS n FROM terms t)"
        " UPDATE terms t SET df = actual.n FROM actual WHERE actual.id = t.id AND t.df <> actual.n"
    ).rowcount
    conn.execute("DELETE FROM terms WHERE df <= 0")
    if fixed:
        report.actions.append(f"recomputed the document frequency of {fixed} terms")
    conn.execute("DELETE FROM speaker_counts")
    conn.execute(
        "INSERT INTO speaker_counts (speaker, passages) SELECT speaker, count(*) FROM passages GROUP BY speaker"
    )
    for key, sql in _COUNTERS.items():
        actual = int(conn.execute(sql).fetchone()[0])
        changed = conn.execute(
            "UPDATE state SET value = %s WHERE key = %s AND value <> %s", (actual, key, actual)
        ).rowcount
        if changed:
            report.actions.append(f"recounted {key}: {actual}")


def _rebuild_vector_index(conn: psycopg.Connection, manifest: Manifest, report: RepairReport) -> None:
    with _maintenance(conn, read_only=False):
        index = conn.execute(
            "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass('segments_embedding')"
        ).fetchone()
        if index is not None and index[0]:
            return
        if index is not None:
            conn.execute("DROP INDEX segments_embedding")
        conn.execute(schema.vector_index_sql(manifest.dimension))
    report.actions.append("built the HNSW index segments_embedding again from the stored vectors")
