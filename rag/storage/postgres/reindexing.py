"""Reindexing a database collection: new vectors staged in tables beside the searched ones, one transaction to switch.

While vectors are staged, searches and writes go on with the old model. The switch is one write
transaction: it takes the writers' turn (the state row every change to documents updates), stages the
documents written since the last round, sets every segment's vector to its staged one, records the new
model in the manifest and moves the `vectors` counter on. A reader's snapshot is from before that commit
or after it, so it searches the old vectors with the old model or the new ones with the new; each
server's readers see the counter move and read the manifest of their snapshot (PostgresCollection).
Readers are not held up: the vectors are updated row by row under MVCC, and the HNSW index takes the new
rows as any write's. Writers wait for the switch, which grows with the collection (docs/scale-out.md).

Only a model of the collection's dimension can be switched to here: another dimension would change the
vector column's type and rebuild its index under a lock that stops every search meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import psycopg

from rag.errors import IndexMismatchError, RagError
from rag.storage.interface import StagedDocument
from rag.storage.manifest import Manifest
from rag.storage.postgres import writes

_UNSTAGED_DOCUMENTS = "NOT EXISTS (SELECT 1 FROM staged_documents s WHERE s.doc_id = d.id)"


def staged_manifest(conn: psycopg.Connection, where: str) -> Manifest | None:
    """The manifest a reindex is staging vectors for, if one is under way."""
    row = conn.execute("SELECT data FROM staging").fetchone()
    return None if row is None else Manifest.from_dict(row[0], f"the reindex staged in {where}")


def staged_target(conn: psycopg.Connection, where: str) -> Manifest:
    """The manifest of the reindex under way; a RagError when there is none."""
    target = staged_manifest(conn, where)
    if target is None:
        raise RagError("no reindex is under way in this collection: start one with rag reindex --model NAME")
    return target


def begin(conn: psycopg.Connection, current: Manifest, target: Manifest, where: str) -> int:
    """Stage for `target` (resuming what was staged for the same model); returns the documents staged already."""
    if target.model == current.model:
        raise IndexMismatchError(f"the collection at {where} is embedded with {target.model} already", field="model")
    if target.dimension != current.dimension:
        raise IndexMismatchError(
            f"{target.model} makes vectors of dimension {target.dimension}, the collection at {where} holds"
            f" {current.dimension}: the postgres backend reindexes only to a model of the same dimension (another"
            " would stop searches while the vector column and its index are rebuilt); ingest into a new database",
            field="model",
        )
    conn.execute("LOCK TABLE staging IN EXCLUSIVE MODE")  # two reindexes starting at once: one after the other
    staged = staged_manifest(conn, where)
    if staged is None or staged.model != target.model:
        clear(conn)
        conn.execute("INSERT INTO staging (data) VALUES (%s)", (json.dumps(target.to_dict()),))
    return int(conn.execute("SELECT count(*) FROM staged_documents").fetchone()[0])


def clear(conn: psycopg.Connection) -> None:
    conn.execute("DELETE FROM staged_vectors")
    conn.execute("DELETE FROM staged_documents")
    conn.execute("DELETE FROM staging")


def todo(conn: psycopg.Connection, limit: int | None) -> list[str]:
    """Ids of the documents without staged vectors (written since they were staged, or not yet staged)."""
    rows = conn.execute(f"SELECT id FROM documents d WHERE {_UNSTAGED_DOCUMENTS} ORDER BY id LIMIT %s", (limit,))
    return [r[0] for r in rows]


def stage(conn: psycopg.Connection, documents: Sequence[StagedDocument], dimension: int) -> int:
    """Keep these documents' new vectors and hashes; a document changed since it was read is skipped.

    Returns how many were staged. Each document's row is locked while its vectors are staged, so a writer
    replacing it meanwhile waits, and its delete then takes the staged rows with it.
    """
    staged = 0
    for doc in documents:
        row = conn.execute("SELECT content_hash FROM documents WHERE id = %s FOR SHARE", (doc.doc_id,)).fetchone()
        if row is None or row[0] != doc.content_hash:
            continue  # deleted or replaced since it was read: it is staged again from what is there now
        ids = [r[0] for r in conn.execute("SELECT id FROM segments WHERE doc_id = %s ORDER BY id", (doc.doc_id,))]
        vectors = doc.vectors_for(len(ids), dimension)
        conn.execute("DELETE FROM staged_vectors WHERE segment_id = ANY(%s)", (ids,))
        with conn.cursor().copy("COPY staged_vectors (segment_id, embedding) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "vector"])
            for sid, vector in zip(ids, vectors, strict=True):
                copy.write_row((sid, vector))
        conn.execute(
            "INSERT INTO staged_documents (doc_id, content_hash) VALUES (%s, %s)"
            " ON CONFLICT (doc_id) DO UPDATE SET content_hash = excluded.content_hash",
            (doc.doc_id, doc.new_hash),
        )
        staged += 1
    return staged


def switch(conn: psycopg.Connection, where: str, catch_up: Callable[[list[str]], Sequence[StagedDocument]]) -> Manifest:
    """In the caller's write transaction: make the staged vectors the collection's (see the module's docstring)."""
    conn.execute("SET LOCAL statement_timeout = 0")  # it updates every segment: as long as that takes
    writes.begin_change(conn)  # writers wait from here to the commit
    target = staged_target(conn, where)
    late = todo(conn, None)
    if late:
        stage(conn, catch_up(late), target.dimension)  # written since the last round: the few that are left
    missing = conn.execute(
        "SELECT count(*) FROM segments s WHERE NOT EXISTS (SELECT 1 FROM staged_vectors v WHERE v.segment_id = s.id)"
    ).fetchone()[0]
    if missing:
        raise RagError(f"{missing} segments have no vector of {target.model}: run rag reindex again")
    conn.execute("UPDATE segments s SET embedding = v.embedding FROM staged_vectors v WHERE v.segment_id = s.id")
    conn.execute("UPDATE documents d SET content_hash = s.content_hash FROM staged_documents s WHERE s.doc_id = d.id")
    clear(conn)
    conn.execute(
        "UPDATE manifest SET data = data || %s::jsonb",
        (json.dumps({"model": target.model, "dimension": target.dimension}),),
    )
    conn.execute("UPDATE state SET value = value + 1 WHERE key = 'vectors'")
    return target
