"""Store: the sqlite file that is the embedded collection's source of truth, and every write to it."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.models import PreparedDocument
from rag.storage.embedded import schema


@dataclass(frozen=True)
class State:
    """Counters of the store: `generation` goes up with every change to documents, `speakers` with every
    rename or merge; `base` names the generation whose searchable files are on disk (-1: none), which
    hold `base_rows` segments, the largest of id `base_max_id`; `vectors` goes up when a reindex switches the
    segments' vectors to another model."""

    generation: int
    speakers: int
    base: int
    base_max_id: int
    base_rows: int
    vectors: int


class Store:
    """Owns the sqlite file and its schema; one connection per thread, WAL so that reads never wait."""

    def __init__(self, path: Path, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise FileNotFoundError(self.path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        with self.transaction() as db:
            schema.migrate(db)

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._guard:
                self._connections.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything in it lands together or not at all."""
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query in it sees the same state. Nested use shares the outer one."""
        db = self._connect()
        if db.in_transaction:
            yield db
            return
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def close(self) -> None:
        """Close every thread's connection (the store is not used afterwards)."""
        with self._guard:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


def state(db: sqlite3.Connection) -> State:
    rows = dict(db.execute("SELECT key, value FROM state").fetchall())
    keys = ("generation", "speakers", "base", "base_max_id", "base_rows", "vectors")
    return State(*(int(rows[key]) for key in keys))


def pending(db: sqlite3.Connection, base_max_id: int) -> int:
    """Segments written, and base segments deleted, since the base: what the next base would fold in."""
    added = db.execute("SELECT COUNT(*) FROM segments WHERE id > ?", (base_max_id,)).fetchone()[0]
    deleted = db.execute("SELECT COUNT(*) FROM deleted_segments WHERE id <= ?", (base_max_id,)).fetchone()[0]
    return int(added + deleted)


# ---------------------------------------------------------------------- writes (inside Store.transaction)


def bump(db: sqlite3.Connection) -> None:
    """Start a change to documents: rows deleted from here on are logged under the new generation."""
    db.execute("UPDATE state SET value = value + 1 WHERE key = 'generation'")


def next_ids(db: sqlite3.Connection) -> tuple[int, int]:
    """The ids the next inserted passage and segment take (ids are never reused, so they only grow)."""
    out = []
    for table in ("passages", "segments"):
        seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        top = db.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0]
        out.append(max(seq[0] if seq else 0, top or 0) + 1)
    return out[0], out[1]


def put_document(
    db: sqlite3.Connection,
    prepared: PreparedDocument,
    passage_ids: Sequence[int],
    segment_ids: Sequence[int],
    segment_terms: Sequence[Sequence[str]],
) -> None:
    """Insert a document (none of its id may exist) under the passage and segment ids given."""
    doc, transcript = prepared.doc, prepared.transcript
    db.execute(
        "INSERT INTO documents (id, title, date, place, number, source, media_url, content_hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (doc.id, doc.title, doc.date, doc.place, doc.number, doc.source, doc.media_url, prepared.content_hash),
    )
    db.executemany(
        'INSERT INTO turns (doc_id, idx, speaker, role, text, start, "end") VALUES (?, ?, ?, ?, ?, ?, ?)',
        [(doc.id, i, t.speaker, t.role, t.text, t.start, t.end) for i, t in enumerate(transcript.turns)],
    )
    db.executemany(
        "INSERT INTO segments (id, doc_id, vector, terms) VALUES (?, ?, ?, ?)",
        [
            (int(sid), doc.id, np.asarray(vector, dtype=np.float32).tobytes(), " ".join(words))
            for sid, vector, words in zip(segment_ids, prepared.vectors, segment_terms, strict=True)
        ],
    )
    segment_of = [
        int(sid) for sid, s in zip(segment_ids, prepared.segments, strict=True) for _ in range(s.first, s.last + 1)
    ]
    db.executemany(
        "INSERT INTO passages (id, doc_id, segment_id, turn_index, speaker, role, text, start_char,"
        ' end_char, context, start, "end") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
            (
                int(pid),
                doc.id,
                sid,
                p.turn_index,
                p.speaker,
                p.role,
                p.text,
                p.start_char,
                p.end_char,
                p.context,
                p.start,
                p.end,
            )
            for pid, sid, p in zip(passage_ids, segment_of, prepared.passages, strict=True)
        ],
    )


def delete_document(db: sqlite3.Connection, doc_id: str) -> bool:
    """Remove a document and everything of it (cascading); False when there was none."""
    return bool(db.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount)


def set_canonical(db: sqlite3.Connection, names: Iterable[str], canonical: str) -> None:
    db.executemany(
        "INSERT INTO speaker_overrides (name, canonical) VALUES (?, ?)"
        " ON CONFLICT(name) DO UPDATE SET canonical = excluded.canonical",
        [(name, canonical) for name in names],
    )
    # names only: the vectors and the BM25 postings stay as they are
    db.execute("UPDATE state SET value = value + 1 WHERE key = 'speakers'")


def install_base(db: sqlite3.Connection, generation: int, max_id: int, rows: int) -> None:
    """Name the searchable files of `generation` as the base; deletions they already lack are forgotten."""
    db.executemany(
        "UPDATE state SET value = ? WHERE key = ?",
        [(generation, "base"), (max_id, "base_max_id"), (rows, "base_rows")],
    )
    db.execute("DELETE FROM deleted_segments WHERE generation <= ?", (generation,))


# ---------------------------------------------------------------------- what the searchable files are made of


@dataclass(frozen=True)
class SegmentRows:
    """Segments' ids (ascending), vectors and BM25 terms, as the searchable files hold them."""

    ids: np.ndarray
    vectors: np.ndarray
    terms: list[list[str]]


def segment_rows(db: sqlite3.Connection, after_id: int = 0, dimension: int = 0) -> SegmentRows:
    """Every segment with an id above `after_id`, in id order."""
    rows = db.execute("SELECT id, vector, terms FROM segments WHERE id > ? ORDER BY id", (after_id,)).fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    if rows:
        vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    else:
        vectors = np.zeros((0, dimension), dtype=np.float32)
    return SegmentRows(ids, vectors, [(r[2] or "").split() for r in rows])


def deleted_since(db: sqlite3.Connection, generation: int) -> np.ndarray:
    """Ids of the segments deleted after `generation` (as far back as the base: older ones are forgotten)."""
    rows = db.execute("SELECT id FROM deleted_segments WHERE generation > ?", (generation,))
    return np.fromiter((r[0] for r in rows), dtype=np.int64)


# ---------------------------------------------------------------------- integrity

# Each query counts rows that break one rule of the store; the rule is the message.
_RULES = [
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
    ("segments without BM25 terms", "SELECT COUNT(*) FROM segments WHERE terms IS NULL"),
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
_INCOMPLETE = """
    SELECT id FROM documents d
    WHERE NOT EXISTS (SELECT 1 FROM turns t WHERE t.doc_id = d.id)
       OR NOT EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.id)
       OR EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.id
                  AND NOT EXISTS (SELECT 1 FROM segments s WHERE s.id = p.segment_id AND s.doc_id = d.id))
       OR EXISTS (SELECT 1 FROM passages p WHERE p.doc_id = d.id
                  AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.doc_id = d.id AND t.idx = p.turn_index))
       OR EXISTS (SELECT 1 FROM segments s WHERE s.doc_id = d.id
                  AND (s.terms IS NULL OR length(s.vector) != ?
                       OR NOT EXISTS (SELECT 1 FROM passages p WHERE p.segment_id = s.id)))
"""

# Rows of no document at all (foreign keys make them impossible unless the file was edited).
_ORPHANS = [
    "DELETE FROM passages WHERE doc_id NOT IN (SELECT id FROM documents)"
    " OR segment_id NOT IN (SELECT id FROM segments)",
    "DELETE FROM segments WHERE doc_id NOT IN (SELECT id FROM documents)"
    " OR id NOT IN (SELECT segment_id FROM passages)",
    "DELETE FROM turns WHERE doc_id NOT IN (SELECT id FROM documents)",
]


def damage(db: sqlite3.Connection) -> list[str]:
    """What sqlite's own check finds wrong with the file (empty when it is sound)."""
    verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
    return [] if verdict == ["ok"] else verdict


def rule_violations(db: sqlite3.Connection, dimension: int | None) -> list[tuple[int, str]]:
    """(how many rows, which rule) for every rule of the store that rows break."""
    found = [(db.execute(query).fetchone()[0], message) for message, query in _RULES]
    if dimension is not None:
        bad = db.execute("SELECT COUNT(*) FROM segments WHERE length(vector) != ?", (4 * dimension,)).fetchone()[0]
        found.append((bad, f"segment vectors not of dimension {dimension}"))
    return [(count, message) for count, message in found if count]


def remove_incomplete(db: sqlite3.Connection, dimension: int) -> tuple[list[str], int]:
    """Delete documents that are not whole and rows of no document; returns (document ids, orphan rows)."""
    bump(db)
    doomed = [row[0] for row in db.execute(_INCOMPLETE, (4 * dimension,))]
    for doc_id in doomed:
        delete_document(db, doc_id)
    orphans = sum(db.execute(statement).rowcount for statement in _ORPHANS)
    return doomed, orphans


def vector_width(db: sqlite3.Connection) -> int | None:
    """The dimension of the stored vectors (None when there are none)."""
    row = db.execute("SELECT length(vector) FROM segments LIMIT 1").fetchone()
    return row[0] // 4 if row else None


def segment_ids(db: sqlite3.Connection) -> np.ndarray:
    return np.fromiter((r[0] for r in db.execute("SELECT id FROM segments ORDER BY id")), dtype=np.int64)
