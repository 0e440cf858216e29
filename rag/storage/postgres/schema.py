"""The database schema: numbered migrations recorded in rag.migrations, and the step that makes a collection.

Every table lives in the schema `rag` (so the database may hold other things). A migration is SQL run in
one transaction together with its row in `rag.migrations`, under an advisory lock, so that servers starting
at once apply it once; a database is never left between two versions. `upgrade()` only reads when the
schema is current, so it also works on a read replica.

The vector column's dimension is the model's, known only when a collection is created: migration 1 makes
`segments.embedding` an untyped `vector`, and `create_collection()` (in the transaction that writes the
manifest) fixes its dimension and builds the HNSW index on it.
"""

from __future__ import annotations

import json

import psycopg

from rag.errors import IndexMismatchError, StorageUnavailableError
from rag.storage.manifest import Manifest, now

SCHEMA = "rag"
# pg_advisory_xact_lock key for schema changes: any constant the database's other users do not take
_LOCK = 0x7261675F736368  # "rag_sch"

# Ids are from sequences and never reused, as in the embedded store; text that is compared or sorted is
# COLLATE "C" (byte order), so listings and ties come out in the same order as sqlite gives them.
# `state` holds the counters readers need without a scan: generation (every change to documents),
# speakers (every rename or merge), the row counts, and the segments' total term count (for BM25's
# average length). `postings` holds each segment's term frequencies with the segment's length, so a
# query term's postings are read from the primary key's index alone; `segments.term_ids` lists each
# segment's terms so that a delete finds its postings through that key too.
_V1 = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE manifest (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    data jsonb NOT NULL
);
CREATE TABLE state (key text COLLATE "C" PRIMARY KEY, value bigint NOT NULL);
INSERT INTO state (key, value) VALUES
    ('generation', 0), ('speakers', 0), ('documents', 0), ('turns', 0), ('passages', 0), ('segments', 0),
    ('total_length', 0);
CREATE TABLE documents (
    id text COLLATE "C" PRIMARY KEY,
    title text NOT NULL,
    date text COLLATE "C",
    place text,
    number text,
    source text,
    content_hash text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_date ON documents (date, id);
CREATE TABLE turns (
    doc_id text COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx integer NOT NULL,
    speaker text COLLATE "C" NOT NULL,
    role text NOT NULL,
    text text NOT NULL,
    start double precision,
    "end" double precision,
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX turns_speaker ON turns (speaker, doc_id);
CREATE SEQUENCE segments_id_seq;
CREATE TABLE segments (
    id bigint PRIMARY KEY,
    doc_id text COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    embedding vector NOT NULL,
    length integer NOT NULL,
    term_ids integer[] NOT NULL
);
CREATE INDEX segments_doc ON segments (doc_id, id);
CREATE SEQUENCE passages_id_seq;
CREATE TABLE passages (
    id bigint PRIMARY KEY,
    doc_id text COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    segment_id bigint NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    turn_index integer NOT NULL,
    speaker text COLLATE "C" NOT NULL,
    role text NOT NULL,
    text text NOT NULL,
    start_char integer NOT NULL,
    end_char integer NOT NULL,
    context text,
    start double precision,
    "end" double precision
);
CREATE INDEX passages_doc ON passages (doc_id, turn_index);
CREATE INDEX passages_segment ON passages (segment_id);
CREATE INDEX passages_speaker ON passages (speaker, segment_id);
CREATE TABLE terms (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    term text COLLATE "C" NOT NULL UNIQUE,
    df integer NOT NULL
);
CREATE TABLE postings (
    term_id integer NOT NULL,
    segment_id bigint NOT NULL,
    tf integer NOT NULL,
    length integer NOT NULL,
    PRIMARY KEY (term_id, segment_id) INCLUDE (tf, length)
);
CREATE TABLE speaker_counts (speaker text COLLATE "C" PRIMARY KEY, passages integer NOT NULL);
CREATE TABLE speaker_overrides (name text COLLATE "C" PRIMARY KEY, canonical text NOT NULL);
"""

# Version 2: the recording a transcript is of (our JSON format's media_url), for links to a passage's moment.
_V2 = """
ALTER TABLE documents ADD COLUMN media_url text;
"""

# Version 3: reindexing. A reindex stages each segment's vector under the new model (`staged_vectors`) and
# each document's content hash under it (`staged_documents`), both deleted with their rows, so that a
# document replaced meanwhile is staged again; `staging` holds the manifest they are for; the state
# counter `vectors` moves on when a switch makes them the collection's, which is how every server's
# readers learn that the model changed.
_V3 = """
INSERT INTO state (key, value) VALUES ('vectors', 0);
CREATE TABLE staging (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    data jsonb NOT NULL
);
CREATE TABLE staged_vectors (
    segment_id bigint PRIMARY KEY REFERENCES segments (id) ON DELETE CASCADE,
    embedding vector NOT NULL
);
CREATE TABLE staged_documents (
    doc_id text COLLATE "C" PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    content_hash text NOT NULL
);
"""

MIGRATIONS: dict[int, tuple[str, str]] = {
    1: ("documents, turns, segments with vectors, passages, BM25 postings, speakers, state", _V1),
    2: ("documents.media_url", _V2),
    3: ("reindexing: staged vectors and hashes, the vectors counter", _V3),
}
VERSION = max(MIGRATIONS)

# The HNSW index over the vectors (inner product: they are normalised). Built on the vectors cast to
# halfvec: half the index's size and build time for the same recall (docs/storage.md); the table keeps
# the float32 vectors, and candidates are scored on those.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64


def vector_index_sql(dimension: int) -> str:
    return (
        "CREATE INDEX IF NOT EXISTS segments_embedding ON segments USING hnsw"
        f" ((embedding::halfvec({dimension})) halfvec_ip_ops)"
        f" WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
    )


def version(conn: psycopg.Connection) -> int:
    """The schema version the database is at (0: none yet)."""
    if conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.migrations",)).fetchone()[0] is None:
        return 0
    return int(conn.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.migrations").fetchone()[0])


def upgrade(conn: psycopg.Connection, where: str) -> list[int]:
    """Bring the schema to VERSION (conn in autocommit mode); returns the versions applied now."""
    found = version(conn)
    if found > VERSION:
        raise IndexMismatchError(
            f"the database {where} has schema version {found}, this program knows up to {VERSION}: upgrade rag"
        )
    if found == VERSION:
        return []
    if conn.execute("SHOW transaction_read_only").fetchone()[0] == "on":
        raise StorageUnavailableError(
            f"the database {where} has schema version {found}, this program needs {VERSION}, and it is read-only"
            " (a replica?): run rag db upgrade against the primary",
            field="database_url",
        )
    applied = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(f"SET LOCAL search_path = {SCHEMA}, public")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations"
            " (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        found = version(conn)  # again, under the lock: another server may have been first
        for target in sorted(v for v in MIGRATIONS if v > found):
            name, sql = MIGRATIONS[target]
            conn.execute(sql)
            conn.execute("INSERT INTO migrations (version, name) VALUES (%s, %s)", (target, name))
            applied.append(target)
    return applied


def applied(conn: psycopg.Connection) -> list[tuple[int, str, str]]:
    """(version, name, when) of every migration applied, oldest first."""
    if version(conn) == 0:
        return []
    rows = conn.execute(f"SELECT version, name, applied_at::text FROM {SCHEMA}.migrations ORDER BY version")
    return [(int(v), str(n), str(at)) for v, n, at in rows]


def read_manifest(conn: psycopg.Connection, where: str) -> Manifest | None:
    """The collection's manifest, None when the database holds no collection yet."""
    if version(conn) == 0:
        return None
    row = conn.execute(f"SELECT data FROM {SCHEMA}.manifest").fetchone()
    return None if row is None else Manifest.from_dict(row[0], where)


def create_collection(conn: psycopg.Connection, manifest: Manifest, where: str) -> Manifest:
    """Write the manifest and fix the vectors' dimension, unless another process made the collection first."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        conn.execute(f"SET LOCAL search_path = {SCHEMA}, public")
        existing = read_manifest(conn, where)
        if existing is not None:
            return existing
        data = manifest.to_dict() | {"created_at": now()}
        conn.execute("INSERT INTO manifest (data) VALUES (%s)", (json.dumps(data),))
        conn.execute(f"ALTER TABLE segments ALTER COLUMN embedding TYPE vector({int(manifest.dimension)})")
        conn.execute(vector_index_sql(int(manifest.dimension)))
    return Manifest.from_dict(data, where)
