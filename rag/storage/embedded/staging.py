"""The store's identity (the model its vectors are of) and a reindex's staged vectors, as sqlite statements.

Each function runs inside the caller's transaction or snapshot (see store.py). A reindex stages, beside
the vectors searched now, each document's vectors under the new model and its content hash under it;
`switch` then makes them the segments' vectors in the same transaction that records the new identity.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

import numpy as np

from rag.storage.embedded.store import SegmentRows, bump, install_base
from rag.storage.interface import StagedDocument
from rag.storage.manifest import Manifest


def identity(db: sqlite3.Connection) -> tuple[str, int] | None:
    """(model, dimension) of the stored vectors; None in a store that has not recorded them yet."""
    rows = dict(db.execute("SELECT key, value FROM identity").fetchall())
    if "model" not in rows:
        return None
    return rows["model"], int(rows["dimension"])


def record_identity(db: sqlite3.Connection, model: str, dimension: int) -> None:
    db.executemany(
        "INSERT INTO identity (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [("model", model), ("dimension", str(dimension))],
    )


# ---------------------------------------------------------------------- staging

_UNSTAGED = "NOT EXISTS (SELECT 1 FROM staged_vectors v WHERE v.segment_id = s.id)"


def staged_manifest(db: sqlite3.Connection) -> Manifest | None:
    """The manifest a reindex is staging vectors for, if one is under way."""
    row = db.execute("SELECT value FROM staging WHERE key = 'manifest'").fetchone()
    return Manifest.from_dict(json.loads(row[0]), "the staged reindex") if row else None


def start_staging(db: sqlite3.Connection, manifest: Manifest) -> None:
    """Stage for `manifest` from nothing (what was staged for another model is dropped)."""
    clear_staging(db)
    db.execute("INSERT INTO staging (key, value) VALUES ('manifest', ?)", (json.dumps(manifest.to_dict()),))


def clear_staging(db: sqlite3.Connection) -> None:
    for table in ("staged_vectors", "staged_documents", "staging"):
        db.execute(f"DELETE FROM {table}")


def unstaged_documents(db: sqlite3.Connection, limit: int | None) -> list[str]:
    """Ids of the documents without staged vectors (written since they were staged, or not yet staged)."""
    rows = db.execute(
        "SELECT id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM staged_documents s WHERE s.doc_id = d.id)"
        " ORDER BY id LIMIT ?",
        (-1 if limit is None else limit,),
    )
    return [r[0] for r in rows]


def staged_count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT COUNT(*) FROM staged_documents").fetchone()[0])


def stage(db: sqlite3.Connection, documents: Sequence[StagedDocument], dimension: int) -> int:
    """Keep these documents' new vectors and hashes; a document changed since it was read is skipped.

    Returns how many were staged.
    """
    staged = 0
    for doc in documents:
        row = db.execute("SELECT content_hash FROM documents WHERE id = ?", (doc.doc_id,)).fetchone()
        if row is None or row[0] != doc.content_hash:
            continue  # deleted or replaced since it was read: it is staged again from what is there now
        ids = [r[0] for r in db.execute("SELECT id FROM segments WHERE doc_id = ? ORDER BY id", (doc.doc_id,))]
        vectors = doc.vectors_for(len(ids), dimension)
        db.executemany(
            "INSERT OR REPLACE INTO staged_vectors (segment_id, vector) VALUES (?, ?)",
            [(sid, vector.tobytes()) for sid, vector in zip(ids, vectors, strict=True)],
        )
        db.execute(
            "INSERT OR REPLACE INTO staged_documents (doc_id, content_hash) VALUES (?, ?)", (doc.doc_id, doc.new_hash)
        )
        staged += 1
    return staged


def staged_rows(db: sqlite3.Connection, dimension: int) -> tuple[SegmentRows, int]:
    """The staged vectors a new base can hold, and the largest segment id it stands for.

    Those are the segments below the first one without a staged vector (with their BM25 terms): every
    segment up to the returned id is in the rows, and the ones above it are searched from the store
    after the switch, as any segment written after a base is.
    """
    first_missing = db.execute(f"SELECT MIN(id) FROM segments s WHERE {_UNSTAGED}").fetchone()[0]
    top = db.execute("SELECT MAX(id) FROM segments").fetchone()[0] or 0
    upto = top if first_missing is None else first_missing - 1
    rows = db.execute(
        "SELECT s.id, v.vector, s.terms FROM segments s JOIN staged_vectors v ON v.segment_id = s.id"
        " WHERE s.id <= ? ORDER BY s.id",
        (upto,),
    ).fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    if rows:
        vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dimension)
    else:
        vectors = np.zeros((0, dimension), dtype=np.float32)
    return SegmentRows(ids, vectors, [(r[2] or "").split() for r in rows]), upto


def unstaged_segments(db: sqlite3.Connection) -> int:
    return int(db.execute(f"SELECT COUNT(*) FROM segments s WHERE {_UNSTAGED}").fetchone()[0])


def switch(db: sqlite3.Connection, manifest: Manifest, base_generation: int, base_max_id: int, base_rows: int) -> None:
    """Make the staged vectors and hashes the collection's, record `manifest`'s model as its identity and
    name the base built from them; all in the caller's one transaction, so readers see all of it or none."""
    db.execute("UPDATE segments SET vector = (SELECT vector FROM staged_vectors v WHERE v.segment_id = segments.id)")
    db.execute(
        "UPDATE documents SET content_hash ="
        " (SELECT content_hash FROM staged_documents s WHERE s.doc_id = documents.id)"
        " WHERE id IN (SELECT doc_id FROM staged_documents)"
    )
    clear_staging(db)
    record_identity(db, manifest.model, manifest.dimension)
    db.execute("UPDATE state SET value = value + 1 WHERE key = 'vectors'")
    bump(db)
    install_base(db, base_generation, base_max_id, base_rows)
