"""The sqlite schema of the embedded backend, as numbered migrations recorded in PRAGMA user_version."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from rag.lexical import terms

# Each migration is SQL run statement by statement in the opening transaction, then an optional step in
# Python for what SQL cannot compute. A store is never left between two versions.
_V1 = """
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    place TEXT,
    number TEXT,
    source TEXT,
    content_hash TEXT NOT NULL,
    added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE turns (
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    speaker TEXT NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    start REAL,
    "end" REAL,
    PRIMARY KEY (doc_id, idx)
);
CREATE TABLE segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    vector BLOB NOT NULL
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    turn_index INTEGER NOT NULL,
    speaker TEXT NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    context TEXT,
    start REAL,
    "end" REAL
);
CREATE INDEX passages_doc ON passages(doc_id, turn_index);
CREATE INDEX passages_segment ON passages(segment_id);
CREATE INDEX segments_doc ON segments(doc_id);
CREATE INDEX passages_speaker ON passages(speaker);
CREATE INDEX documents_date ON documents(date);
CREATE TABLE speaker_overrides (name TEXT PRIMARY KEY, canonical TEXT NOT NULL);
CREATE TABLE state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO state VALUES ('generation', 0);
INSERT INTO state VALUES ('speakers', 0)
"""

# Version 2: what lets the searchable files be updated by the change instead of rebuilt.
# - segments.terms: the BM25 terms of each segment, so that no reader tokenizes again;
# - deleted_segments: which segments went at which generation (by trigger, so no delete can skip it);
#   the searchable files of an older generation subtract them;
# - speaker_counts and speaker_documents: passages per speaker and the documents each speaks in, kept by
#   triggers, so the speaker directory costs no scan; a name that comes or goes moves state 'speakers' on,
#   so the directory is rebuilt only then;
# - documents.media_url: the recording a transcript is of (our JSON format's media_url), for links to a moment;
# - state 'base': the generation whose searchable files are on disk (-1: none yet), with the largest
#   segment id and the number of segments they hold.
_V2 = """
ALTER TABLE segments ADD COLUMN terms TEXT;
CREATE TABLE deleted_segments (id INTEGER PRIMARY KEY, generation INTEGER NOT NULL);
CREATE INDEX deleted_segments_generation ON deleted_segments(generation);
CREATE TRIGGER segments_deleted AFTER DELETE ON segments BEGIN
    INSERT OR REPLACE INTO deleted_segments (id, generation)
    VALUES (old.id, (SELECT value FROM state WHERE key = 'generation'));
END;
CREATE TABLE speaker_counts (speaker TEXT PRIMARY KEY, passages INTEGER NOT NULL);
INSERT INTO speaker_counts SELECT speaker, COUNT(*) FROM passages GROUP BY speaker;
CREATE TRIGGER passages_counted AFTER INSERT ON passages BEGIN
    INSERT INTO speaker_counts (speaker, passages) VALUES (new.speaker, 1)
    ON CONFLICT(speaker) DO UPDATE SET passages = passages + 1;
END;
CREATE TRIGGER passages_uncounted AFTER DELETE ON passages BEGIN
    UPDATE speaker_counts SET passages = passages - 1 WHERE speaker = old.speaker;
    DELETE FROM speaker_counts WHERE speaker = old.speaker AND passages <= 0;
END;
CREATE TABLE speaker_documents (
    speaker TEXT NOT NULL, doc_id TEXT NOT NULL, turns INTEGER NOT NULL, PRIMARY KEY (speaker, doc_id)
);
INSERT INTO speaker_documents SELECT speaker, doc_id, COUNT(*) FROM turns GROUP BY speaker, doc_id;
CREATE TRIGGER turns_counted AFTER INSERT ON turns BEGIN
    INSERT INTO speaker_documents (speaker, doc_id, turns) VALUES (new.speaker, new.doc_id, 1)
    ON CONFLICT(speaker, doc_id) DO UPDATE SET turns = turns + 1;
END;
CREATE TRIGGER turns_uncounted AFTER DELETE ON turns BEGIN
    UPDATE speaker_documents SET turns = turns - 1 WHERE speaker = old.speaker AND doc_id = old.doc_id;
    DELETE FROM speaker_documents WHERE speaker = old.speaker AND doc_id = old.doc_id AND turns <= 0;
END;
CREATE TRIGGER speaker_named AFTER INSERT ON speaker_counts BEGIN
    UPDATE state SET value = value + 1 WHERE key = 'speakers';
END;
CREATE TRIGGER speaker_gone AFTER DELETE ON speaker_counts BEGIN
    UPDATE state SET value = value + 1 WHERE key = 'speakers';
END;
INSERT INTO state VALUES ('base', -1);
ALTER TABLE documents ADD COLUMN media_url TEXT;
INSERT INTO state VALUES ('base_max_id', 0);
INSERT INTO state VALUES ('base_rows', 0)
"""


def _fill_terms(db: sqlite3.Connection) -> None:
    """Segments stored before version 2 get their terms from their passages."""
    from rag.chunking import index_text

    rows = db.execute(
        "SELECT p.segment_id, p.speaker, p.text FROM passages p JOIN segments s ON s.id = p.segment_id"
        " WHERE s.terms IS NULL ORDER BY p.segment_id, p.id"
    ).fetchall()
    parts: dict[int, list[tuple[str, str]]] = {}
    for segment_id, speaker, text in rows:
        parts.setdefault(segment_id, []).append((speaker, text))
    db.executemany(
        "UPDATE segments SET terms = ? WHERE id = ?",
        [(" ".join(terms(index_text(p))), sid) for sid, p in parts.items()],
    )


# Version 3: reindexing (new vectors made beside the old, then switched to in one transaction).
# - identity: the model and dimension of the segments' vectors, the collection's identity (manifest.json
#   mirrors it); filled from manifest.json when a collection of version 2 is opened;
# - state 'vectors': goes up at every switch, so a reader can tell which model its snapshot's vectors are of;
# - staging: the manifest being reindexed to; staged_vectors and staged_documents: what is embedded under it
#   so far (a segment or document deleted meanwhile takes its staged rows with it).
_V3 = """
CREATE TABLE identity (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO state VALUES ('vectors', 0);
CREATE TABLE staging (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE staged_vectors (
    segment_id INTEGER PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,
    vector BLOB NOT NULL
);
CREATE TABLE staged_documents (
    doc_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    content_hash TEXT NOT NULL
)
"""

MIGRATIONS: dict[int, tuple[str, Callable[[sqlite3.Connection], None] | None]] = {
    1: (_V1, None),
    2: (_V2, _fill_terms),
    3: (_V3, None),
}
VERSION = max(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> int:
    """Bring the schema to VERSION inside the caller's transaction; returns the version found."""
    found = db.execute("PRAGMA user_version").fetchone()[0]
    if found > VERSION:
        from rag.errors import IndexMismatchError

        raise IndexMismatchError(f"the store has schema version {found}, this program knows up to {VERSION}")
    for target in sorted(v for v in MIGRATIONS if v > found):
        sql, step = MIGRATIONS[target]
        # statement by statement: executescript() would commit the open transaction; triggers hold
        # semicolons inside BEGIN ... END, so they are split on their own
        for statement in _statements(sql):
            db.execute(statement)
        if step is not None:
            step(db)
        db.execute(f"PRAGMA user_version = {target}")
    return found


def _statements(sql: str) -> list[str]:
    out, current = [], []
    for line in sql.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        inside_trigger = text.upper().startswith("CREATE TRIGGER") and not text.upper().endswith("END;")
        if text.endswith(";") and not inside_trigger:
            out.append(text.rstrip(";"))
            current = []
    if "\n".join(current).strip():
        out.append("\n".join(current).strip())
    return out
