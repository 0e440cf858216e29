"""PassageStore: documents, turns, passages and segment vectors in sqlite, the index's source of truth."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.models import Document, Passage, Transcript

SCHEMA_VERSION = 1

_MIGRATIONS = {
    1: """
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
    INSERT INTO state VALUES ('speakers', 0);
    """,
}


@dataclass(frozen=True)
class StoredSegment:
    """A segment's passages (id, passage) in order, with their document, as search results need them."""

    id: int
    document: Document
    passages: list[tuple[int, Passage]]


@dataclass(frozen=True)
class Filters:
    """Restrictions on which passages a search may return."""

    speakers: tuple[str, ...] = ()
    document_ids: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    def __bool__(self) -> bool:
        return bool(self.speakers or self.document_ids or self.date_from or self.date_to)


class PassageStore:
    """Owns the sqlite file and its schema; one connection per thread, WAL for concurrent reads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        with self.transaction() as db:
            self._migrate(db)

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
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
        """A read transaction: every query in it sees the same state."""
        db = self._connect()
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for target in sorted(v for v in _MIGRATIONS if v > version):
            # statement by statement: executescript() would commit the open transaction
            for statement in _MIGRATIONS[target].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {target}")

    # ---------------------------------------------------------------- writes

    def replace_document(
        self,
        db: sqlite3.Connection,
        doc: Document,
        content_hash: str,
        transcript: Transcript,
        passages: Sequence[Passage],
        passage_ids: Sequence[int],
        segments: Sequence[tuple[int, int]],
        segment_ids: Sequence[int],
        vectors: np.ndarray,
    ) -> None:
        """Put a document in place of any with its id, under the passage and segment ids given.

        `segments` are (first, last) indices into `passages`, one vector each.
        """
        self.delete_document(db, doc.id)
        db.execute(
            "INSERT INTO documents (id, title, date, place, number, source, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (doc.id, doc.title, doc.date, doc.place, doc.number, doc.source, content_hash),
        )
        db.executemany(
            'INSERT INTO turns (doc_id, idx, speaker, role, text, start, "end") VALUES (?, ?, ?, ?, ?, ?, ?)',
            [(doc.id, i, t.speaker, t.role, t.text, t.start, t.end) for i, t in enumerate(transcript.turns)],
        )
        db.executemany(
            "INSERT INTO segments (id, doc_id, vector) VALUES (?, ?, ?)",
            [
                (int(sid), doc.id, np.asarray(vector, dtype=np.float32).tobytes())
                for sid, vector in zip(segment_ids, vectors, strict=True)
            ],
        )
        segment_of = [
            int(sid) for sid, (first, last) in zip(segment_ids, segments, strict=True) for _ in range(first, last + 1)
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
                for pid, sid, p in zip(passage_ids, segment_of, passages, strict=True)
            ],
        )
        self._bump(db)

    def set_canonical(self, db: sqlite3.Connection, names: Iterable[str], canonical: str) -> None:
        """Record that these speaker names (as written, or canonical) mean `canonical`."""
        db.executemany(
            "INSERT INTO speaker_overrides (name, canonical) VALUES (?, ?)"
            " ON CONFLICT(name) DO UPDATE SET canonical = excluded.canonical",
            [(name, canonical) for name in names],
        )
        # names only: the vectors and the BM25 index stay as they are
        db.execute("UPDATE state SET value = value + 1 WHERE key = 'speakers'")

    def delete_document(self, db: sqlite3.Connection, doc_id: str) -> None:
        """Remove a document and everything of it."""
        if db.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount:
            self._bump(db)

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute("UPDATE state SET value = value + 1 WHERE key = 'generation'")

    # ---------------------------------------------------------------- reads

    def generation(self) -> int:
        """Goes up with every change to documents; the vectors and BM25 files are tagged with it."""
        return int(self._connect().execute("SELECT value FROM state WHERE key='generation'").fetchone()[0])

    def speakers_version(self) -> tuple[int, int]:
        """Changes whenever the speaker directory may have: documents or speaker names changed."""
        rows = dict(self._connect().execute("SELECT key, value FROM state").fetchall())
        return rows["generation"], rows["speakers"]

    def next_ids(self) -> tuple[int, int]:
        """The ids the next inserted passage and segment take (ids are never reused)."""
        db = self._connect()
        out = []
        for table in ("passages", "segments"):
            seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
            top = db.execute(f"SELECT MAX(id) FROM {table}").fetchone()[0]
            out.append(max(seq[0] if seq else 0, top or 0) + 1)
        return out[0], out[1]

    def segment_ids_of(self, doc_id: str) -> list[int]:
        return [r[0] for r in self._connect().execute("SELECT id FROM segments WHERE doc_id = ?", (doc_id,))]

    def answer_segment_ids(self, turns: Sequence[tuple[str, int]]) -> dict[tuple[str, int], list[int]]:
        """For question turns (doc_id, turn_index): the segments of the answer that follows, in order."""
        out: dict[tuple[str, int], list[int]] = {}
        db = self._connect()
        for doc_id, turn_index in turns:
            rows = db.execute(
                "SELECT segment_id FROM passages WHERE doc_id = ? AND turn_index = ? AND role = 'answer'"
                " GROUP BY segment_id ORDER BY MIN(start_char)",
                (doc_id, turn_index + 1),
            )
            ids = [r[0] for r in rows]
            if ids:
                out[(doc_id, turn_index)] = ids
        return out

    def content_hash(self, doc_id: str) -> str | None:
        row = self._connect().execute("SELECT content_hash FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def document(self, doc_id: str) -> Document | None:
        rows = self.documents(ids=[doc_id])
        return rows[0] if rows else None

    def documents(
        self,
        *,
        ids: Sequence[str] | None = None,
        offset: int = 0,
        limit: int = -1,
        date_from: str | None = None,
        date_to: str | None = None,
        speakers: Sequence[str] = (),
    ) -> list[Document]:
        """Documents by date then id; `speakers` keeps those where any of them has a turn."""
        where, params = _document_filter(ids, date_from, date_to, speakers)
        rows = self._connect().execute(
            "SELECT d.*, (SELECT COUNT(*) FROM turns t WHERE t.doc_id = d.id) AS n_turns,"
            " (SELECT COUNT(*) FROM passages p WHERE p.doc_id = d.id) AS n_passages"
            f" FROM documents d {where} ORDER BY d.date IS NULL, d.date, d.id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_document(r) for r in rows]

    def count_documents(
        self, *, date_from: str | None = None, date_to: str | None = None, speakers: Sequence[str] = ()
    ) -> int:
        """How many documents `documents()` would list with these filters and no paging."""
        where, params = _document_filter(None, date_from, date_to, speakers)
        return int(self._connect().execute(f"SELECT COUNT(*) FROM documents d {where}", params).fetchone()[0])

    def turns(self, doc_id: str) -> list[sqlite3.Row]:
        return list(self._connect().execute("SELECT * FROM turns WHERE doc_id = ? ORDER BY idx", (doc_id,)))

    def segments(self, ids: Sequence[int]) -> dict[int, StoredSegment]:
        """Segments with their passages and documents, by id; ids that no longer exist are absent."""
        unique = list(dict.fromkeys(int(i) for i in ids))
        if not unique:
            return {}
        db = self._connect()
        rows: list[sqlite3.Row] = []
        for first in range(0, len(unique), 500):
            chunk = unique[first : first + 500]
            rows.extend(
                db.execute(
                    "SELECT p.*, d.title, d.date, d.place, d.number, d.source"
                    " FROM passages p JOIN documents d ON d.id = p.doc_id"
                    f" WHERE p.segment_id IN ({','.join('?' * len(chunk))}) ORDER BY p.segment_id, p.id",
                    chunk,
                )
            )
        out: dict[int, StoredSegment] = {}
        for r in rows:
            segment = out.get(r["segment_id"])
            if segment is None:
                document = Document(
                    id=r["doc_id"],
                    title=r["title"],
                    date=r["date"],
                    place=r["place"],
                    number=r["number"],
                    source=r["source"],
                )
                segment = out[r["segment_id"]] = StoredSegment(r["segment_id"], document, [])
            segment.passages.append((r["id"], _passage(r)))
        return out

    def segment_documents(self, ids: Sequence[int]) -> dict[int, str]:
        """The document of each segment id."""
        marks = ",".join("?" * len(ids))
        rows = self._connect().execute(f"SELECT id, doc_id FROM segments WHERE id IN ({marks})", [int(i) for i in ids])
        return dict(rows.fetchall())

    def segment_ids(self, filters: Filters) -> np.ndarray:
        """Ids of the segments holding at least one passage a filter admits."""
        where, params = _passage_filter(filters)
        rows = self._connect().execute(
            f"SELECT DISTINCT p.segment_id FROM passages p JOIN documents d ON d.id = p.doc_id {where}", params
        )
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def passage_ids(self, filters: Filters, segment_ids: Sequence[int]) -> set[int]:
        """Of these segments' passages, those a filter admits."""
        where, params = _passage_filter(filters)
        marks = ",".join("?" * len(segment_ids))
        clause = f"{where} AND" if where else "WHERE"
        rows = self._connect().execute(
            f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id {clause} p.segment_id IN ({marks})",
            [*params, *segment_ids],
        )
        return {r[0] for r in rows}

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """All segment (ids, vectors), for rebuilding the vector index without re-embedding."""
        rows = self._connect().execute("SELECT id, vector FROM segments ORDER BY id").fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        return ids, matrix

    def segment_passages(self) -> Iterator[tuple[int, list[tuple[str, str]]]]:
        """Every segment's (speaker, text) passages, by segment id, for rebuilding the lexical index."""
        rows = self._connect().execute("SELECT segment_id, speaker, text FROM passages ORDER BY segment_id, id")
        current, parts = None, []
        for segment_id, speaker, text in rows:
            if segment_id != current and parts:
                yield current, parts
                parts = []
            current = segment_id
            parts.append((speaker, text))
        if parts:
            yield current, parts

    def speaker_overrides(self) -> dict[str, str]:
        return dict(self._connect().execute("SELECT name, canonical FROM speaker_overrides").fetchall())

    def speaker_documents(self) -> dict[str, set[str]]:
        """The documents each speaker name (as written) has a turn in."""
        out: dict[str, set[str]] = {}
        for speaker, doc_id in self._connect().execute("SELECT DISTINCT speaker, doc_id FROM turns"):
            out.setdefault(speaker, set()).add(doc_id)
        return out

    def speakers(self) -> list[tuple[str, int]]:
        rows = self._connect().execute(
            "SELECT speaker, COUNT(*) FROM passages GROUP BY speaker ORDER BY COUNT(*) DESC, speaker"
        )
        return [(r[0], r[1]) for r in rows]

    def counts(self) -> dict[str, int]:
        db = self._connect()
        return {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("documents", "turns", "passages", "segments")
        }


def _document_filter(
    ids: Sequence[str] | None, date_from: str | None, date_to: str | None, speakers: Sequence[str]
) -> tuple[str, list]:
    clauses: list[str] = []
    params: list = []
    if ids is not None:
        clauses.append(f"d.id IN ({','.join('?' * len(ids))})")
        params.extend(ids)
    if date_from:
        clauses.append("d.date >= ?")
        params.append(date_from)
    if date_to:
        clauses.append("d.date <= ?")
        params.append(date_to)
    if speakers:
        clauses.append(
            f"EXISTS (SELECT 1 FROM turns t WHERE t.doc_id = d.id AND t.speaker IN ({','.join('?' * len(speakers))}))"
        )
        params.extend(speakers)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _passage_filter(filters: Filters) -> tuple[str, list]:
    clauses, params = [], []
    if filters.speakers:
        clauses.append(f"p.speaker IN ({','.join('?' * len(filters.speakers))})")
        params.extend(filters.speakers)
    if filters.document_ids:
        clauses.append(f"p.doc_id IN ({','.join('?' * len(filters.document_ids))})")
        params.extend(filters.document_ids)
    if filters.date_from:
        clauses.append("d.date >= ?")
        params.append(filters.date_from)
    if filters.date_to:
        clauses.append("d.date <= ?")
        params.append(filters.date_to)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _passage(row: sqlite3.Row) -> Passage:
    return Passage(
        doc_id=row["doc_id"],
        turn_index=row["turn_index"],
        speaker=row["speaker"],
        role=row["role"],
        text=row["text"],
        start_char=row["start_char"],
        end_char=row["end_char"],
        context=row["context"],
        start=row["start"],
        end=row["end"],
    )


def _document(row: sqlite3.Row) -> Document:
    return Document(
        id=row["id"],
        title=row["title"],
        date=row["date"],
        place=row["place"],
        number=row["number"],
        source=row["source"],
        turns=row["n_turns"],
        passages=row["n_passages"],
    )
