"""Reads of the embedded store, each a function of an open sqlite connection (inside a read transaction)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from rag.models import Document, Filters, Passage, StoredSegment, Turn
from rag.storage.interface import Counts

_CHUNK = 500  # ids per IN (...) list, well under sqlite's variable limit


def segment_ids(db: sqlite3.Connection, filters: Filters) -> np.ndarray:
    """Ids (ascending) of the segments holding at least one passage a filter admits."""
    where, params = _passage_filter(filters)
    rows = db.execute(
        f"SELECT DISTINCT p.segment_id FROM passages p JOIN documents d ON d.id = p.doc_id {where}"
        " ORDER BY p.segment_id",
        params,
    )
    return np.fromiter((r[0] for r in rows), dtype=np.int64)


def segments(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, StoredSegment]:
    unique = list(dict.fromkeys(int(i) for i in ids))
    rows: list[sqlite3.Row] = []
    for first in range(0, len(unique), _CHUNK):
        chunk = unique[first : first + _CHUNK]
        rows.extend(
            db.execute(
                "SELECT p.*, d.title, d.date, d.place, d.number, d.source, d.media_url"
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
                media_url=r["media_url"],
            )
            segment = out[r["segment_id"]] = StoredSegment(r["segment_id"], document, [])
        segment.passages.append((r["id"], _passage(r)))
    return out


def segment_documents(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, str]:
    unique = list(dict.fromkeys(int(i) for i in ids))
    out: dict[int, str] = {}
    for first in range(0, len(unique), _CHUNK):
        chunk = unique[first : first + _CHUNK]
        rows = db.execute(f"SELECT id, doc_id FROM segments WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        out.update(rows.fetchall())
    return out


def segment_ids_of(db: sqlite3.Connection, doc_id: str) -> list[int]:
    return [r[0] for r in db.execute("SELECT id FROM segments WHERE doc_id = ? ORDER BY id", (doc_id,))]


def answer_segments(db: sqlite3.Connection, turns: Sequence[tuple[str, int]]) -> dict[tuple[str, int], list[int]]:
    """For question turns (doc_id, turn_index): the segments of the answer that follows, in order."""
    out: dict[tuple[str, int], list[int]] = {}
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


def admitted_passages(db: sqlite3.Connection, filters: Filters, segment_ids: Sequence[int]) -> set[int]:
    where, params = _passage_filter(filters)
    clause = f"{where} AND" if where else "WHERE"
    out: set[int] = set()
    unique = list(dict.fromkeys(int(i) for i in segment_ids))
    for first in range(0, len(unique), _CHUNK):
        chunk = unique[first : first + _CHUNK]
        rows = db.execute(
            f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id {clause}"
            f" p.segment_id IN ({','.join('?' * len(chunk))})",
            [*params, *chunk],
        )
        out.update(r[0] for r in rows)
    return out


def documents(
    db: sqlite3.Connection,
    *,
    ids: Sequence[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    speakers: Sequence[str] = (),
) -> list[Document]:
    where, params = _document_filter(ids, date_from, date_to, speakers)
    rows = db.execute(
        "SELECT d.*, (SELECT COUNT(*) FROM turns t WHERE t.doc_id = d.id) AS n_turns,"
        " (SELECT COUNT(*) FROM passages p WHERE p.doc_id = d.id) AS n_passages"
        f" FROM documents d {where} ORDER BY d.date IS NULL, d.date, d.id LIMIT ? OFFSET ?",
        [*params, -1 if limit is None else limit, offset],
    )
    return [_document(r) for r in rows]


def count_documents(
    db: sqlite3.Connection, *, date_from: str | None = None, date_to: str | None = None, speakers: Sequence[str] = ()
) -> int:
    where, params = _document_filter(None, date_from, date_to, speakers)
    return int(db.execute(f"SELECT COUNT(*) FROM documents d {where}", params).fetchone()[0])


def turns(db: sqlite3.Connection, doc_id: str) -> list[Turn]:
    rows = db.execute('SELECT speaker, text, role, start, "end" FROM turns WHERE doc_id = ? ORDER BY idx', (doc_id,))
    return [Turn(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def content_hash(db: sqlite3.Connection, doc_id: str) -> str | None:
    row = db.execute("SELECT content_hash FROM documents WHERE id = ?", (doc_id,)).fetchone()
    return row[0] if row else None


def speakers(db: sqlite3.Connection) -> list[tuple[str, int]]:
    rows = db.execute("SELECT speaker, passages FROM speaker_counts ORDER BY passages DESC, speaker")
    return [(r[0], r[1]) for r in rows]


def speaker_documents(db: sqlite3.Connection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for speaker, doc_id in db.execute("SELECT speaker, doc_id FROM speaker_documents"):
        out.setdefault(speaker, set()).add(doc_id)
    return out


def speaker_overrides(db: sqlite3.Connection) -> dict[str, str]:
    return dict(db.execute("SELECT name, canonical FROM speaker_overrides").fetchall())


def counts(db: sqlite3.Connection) -> Counts:
    return Counts(*(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in _TABLES))


_TABLES = ("documents", "turns", "passages", "segments")


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
        media_url=row["media_url"],
    )
