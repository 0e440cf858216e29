"""Reads of the database collection, each a function of a connection inside a read transaction."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import psycopg

from rag.models import Document, Filters, Passage, StoredSegment, Turn
from rag.storage import bm25
from rag.storage.interface import Counts, Ranked

_PASSAGE_COLUMNS = (
    "p.id, p.doc_id, p.segment_id, p.turn_index, p.speaker, p.role, p.text, p.start_char, p.end_char, p.context,"
    ' p.start, p."end"'
)


def state(conn: psycopg.Connection) -> dict[str, int]:
    """The counters: generation, speakers, documents, turns, passages, segments, total_length."""
    return {key: int(value) for key, value in conn.execute("SELECT key, value FROM state")}


# ---------------------------------------------------------------------- filters


def passage_filter(filters: Filters, p: str = "p", d: str = "d") -> tuple[str, list]:
    """A condition on passages `p` joined to their documents `d` that the filters admit ('true': all)."""
    clauses: list[str] = []
    params: list = []
    if filters.speakers:
        clauses.append(f"{p}.speaker = ANY(%s)")
        params.append(list(filters.speakers))
    if filters.document_ids:
        clauses.append(f"{p}.doc_id = ANY(%s)")
        params.append(list(filters.document_ids))
    if filters.date_from:
        clauses.append(f"{d}.date >= %s")
        params.append(filters.date_from)
    if filters.date_to:
        clauses.append(f"{d}.date <= %s")
        params.append(filters.date_to)
    return (" AND ".join(clauses) or "true"), params


def admitted_segments_sql(filters: Filters) -> tuple[str, list]:
    """A subquery of the ids of the segments holding a passage the filters admit."""
    where, params = passage_filter(filters)
    return f"SELECT p.segment_id FROM passages p JOIN documents d ON d.id = p.doc_id WHERE {where}", params


def admitted_passages_at_most(conn: psycopg.Connection, filters: Filters, limit: int) -> int:
    """How many passages the filters admit, counted up to `limit` (a bound on the segments they admit)."""
    where, params = passage_filter(filters)
    row = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM passages p JOIN documents d ON d.id = p.doc_id WHERE {where}"
        " LIMIT %s) AS admitted",
        [*params, limit],
    ).fetchone()
    return int(row[0])


# ---------------------------------------------------------------------- candidates


def dense_exact(conn: psycopg.Connection, vector: np.ndarray, n: int, filters: Filters) -> Ranked:
    """The n best segments by inner product, every admitted vector compared (no index)."""
    if filters:
        allowed, params = admitted_segments_sql(filters)
        source = f"segments s WHERE s.id IN ({allowed})"
    else:
        source, params = "segments s", []
    # OFFSET 0 keeps the planner from answering the ORDER BY with the approximate index
    rows = conn.execute(
        f"SELECT id, score FROM (SELECT s.id, -(s.embedding <#> %s) AS score FROM {source} OFFSET 0) AS scored"
        " ORDER BY score DESC, id LIMIT %s",
        [_vector(vector), *params, n],
    ).fetchall()
    return [(int(i), float(score)) for i, score in rows]


def dense_hnsw(
    conn: psycopg.Connection, vector: np.ndarray, n: int, filters: Filters, dimension: int, ef_search: int
) -> Ranked:
    """The n best segments by inner product found through the HNSW index, scanned until n pass the filters.

    The index orders by the half-precision vectors; the candidates are scored on the stored ones.
    """
    conn.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}; SET LOCAL hnsw.iterative_scan = strict_order")
    where, params = ("", [])
    if filters:
        allowed, params = admitted_segments_sql(filters)
        where = f"WHERE s.id IN ({allowed})"
    query = _vector(vector)
    rows = conn.execute(
        f"SELECT s.id, -(s.embedding <#> %s) AS score FROM segments s {where}"
        f" ORDER BY s.embedding::halfvec({int(dimension)}) <#> %s::halfvec({int(dimension)}) LIMIT %s",
        [query, *params, query, n],
    ).fetchall()
    found = [(int(i), float(score)) for i, score in rows]
    found.sort(key=lambda pair: (-pair[1], pair[0]))
    return found


def term_stats(conn: psycopg.Connection, words: Sequence[str]) -> dict[str, tuple[int, int]]:
    """term -> (term id, document frequency) for the terms the collection holds."""
    rows = conn.execute("SELECT term, id, df FROM terms WHERE term = ANY(%s) AND df > 0", (list(set(words)),))
    return {term: (int(tid), int(df)) for term, tid, df in rows}


def lexical(
    conn: psycopg.Connection,
    term_ids: Sequence[int],
    weights: Sequence[float],
    average_length: float,
    n: int,
    filters: Filters,
) -> Ranked:
    """The n segments of best BM25 score (as rag.storage.bm25 computes it), ties by id.

    `term_ids` and `weights` (idf) go together, one pair per term of the question, repeats included.
    """
    where, params = "", []
    if filters:
        allowed, params = admitted_segments_sql(filters)
        where = f"WHERE p.segment_id IN ({allowed})"
    # bm25.term_scores, term by term: weight * tf / (k1 * ((1 - b) + b * length / average) + tf)
    rows = conn.execute(
        "SELECT p.segment_id, sum(q.weight * p.tf / (%s * ((1 - %s) + %s * p.length / %s) + p.tf)) AS score"
        " FROM unnest(%s::int[], %s::float8[]) AS q (term_id, weight)"
        f" JOIN postings p ON p.term_id = q.term_id {where}"
        " GROUP BY p.segment_id ORDER BY score DESC, p.segment_id LIMIT %s",
        [bm25.K1, bm25.B, bm25.B, float(average_length), list(term_ids), list(weights), *params, n],
    ).fetchall()
    return [(int(i), float(score)) for i, score in rows if score > 0]


def admits_any(conn: psycopg.Connection, filters: Filters) -> bool:
    return admitted_passages_at_most(conn, filters, 1) > 0


# ---------------------------------------------------------------------- rows


def segments(conn: psycopg.Connection, ids: Sequence[int]) -> dict[int, StoredSegment]:
    rows = conn.execute(
        f"SELECT {_PASSAGE_COLUMNS}, d.title, d.date, d.place, d.number, d.source, d.media_url"
        " FROM passages p JOIN documents d ON d.id = p.doc_id WHERE p.segment_id = ANY(%s)"
        " ORDER BY p.segment_id, p.id",
        (_ids(ids),),
    ).fetchall()
    out: dict[int, StoredSegment] = {}
    for row in rows:
        segment_id = int(row[2])
        segment = out.get(segment_id)
        if segment is None:
            title, date, place, number, source, media_url = row[12:18]
            document = Document(
                id=row[1], title=title, date=date, place=place, number=number, source=source, media_url=media_url
            )
            segment = out[segment_id] = StoredSegment(segment_id, document, [])
        segment.passages.append((int(row[0]), _passage(row)))
    return out


def segment_documents(conn: psycopg.Connection, ids: Sequence[int]) -> dict[int, str]:
    rows = conn.execute("SELECT id, doc_id FROM segments WHERE id = ANY(%s)", (_ids(ids),))
    return {int(i): doc_id for i, doc_id in rows}


def segment_ids_of(conn: psycopg.Connection, doc_id: str) -> list[int]:
    return [int(r[0]) for r in conn.execute("SELECT id FROM segments WHERE doc_id = %s ORDER BY id", (doc_id,))]


def answer_segments(
    conn: psycopg.Connection, turns: Sequence[tuple[str, int]], filters: Filters
) -> dict[tuple[str, int], list[int]]:
    """For question turns (doc_id, turn_index): the segments of the answer that follows, in order, of those
    holding a passage the filters admit."""
    if not turns:
        return {}
    where, params = "", []
    if filters:
        allowed, params = admitted_segments_sql(filters)
        where = f"AND p.segment_id IN ({allowed})"
    rows = conn.execute(
        "SELECT q.doc_id, q.turn_index, p.segment_id FROM unnest(%s::text[], %s::int[]) AS q (doc_id, turn_index)"
        " JOIN passages p ON p.doc_id = q.doc_id AND p.turn_index = q.turn_index + 1 AND p.role = 'answer'"
        f" {where} GROUP BY q.doc_id, q.turn_index, p.segment_id"
        " ORDER BY q.doc_id, q.turn_index, min(p.start_char), p.segment_id",
        [[doc for doc, _ in turns], [int(t) for _, t in turns], *params],
    ).fetchall()
    out: dict[tuple[str, int], list[int]] = {}
    for doc_id, turn_index, segment_id in rows:
        out.setdefault((doc_id, int(turn_index)), []).append(int(segment_id))
    return out


def admitted_passages(conn: psycopg.Connection, filters: Filters, segment_ids: Sequence[int]) -> set[int]:
    where, params = passage_filter(filters)
    rows = conn.execute(
        f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id WHERE {where} AND p.segment_id = ANY(%s)",
        [*params, _ids(segment_ids)],
    )
    return {int(r[0]) for r in rows}


def documents(
    conn: psycopg.Connection,
    *,
    ids: Sequence[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    speakers: Sequence[str] = (),
) -> list[Document]:
    where, params = _document_filter(ids, date_from, date_to, speakers)
    rows = conn.execute(
        "SELECT d.id, d.title, d.date, d.place, d.number, d.source,"
        " (SELECT count(*) FROM turns t WHERE t.doc_id = d.id),"
        " (SELECT count(*) FROM passages p WHERE p.doc_id = d.id), d.media_url"
        f" FROM documents d {where} ORDER BY d.date IS NULL, d.date, d.id LIMIT %s OFFSET %s",
        [*params, limit, offset],
    )
    return [
        Document(
            id=r[0],
            title=r[1],
            date=r[2],
            place=r[3],
            number=r[4],
            source=r[5],
            turns=r[6],
            passages=r[7],
            media_url=r[8],
        )
        for r in rows
    ]


def count_documents(
    conn: psycopg.Connection,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    speakers: Sequence[str] = (),
) -> int:
    where, params = _document_filter(None, date_from, date_to, speakers)
    return int(conn.execute(f"SELECT count(*) FROM documents d {where}", params).fetchone()[0])


def turns(conn: psycopg.Connection, doc_id: str) -> list[Turn]:
    rows = conn.execute('SELECT speaker, text, role, start, "end" FROM turns WHERE doc_id = %s ORDER BY idx', (doc_id,))
    return [Turn(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def content_hash(conn: psycopg.Connection, doc_id: str) -> str | None:
    row = conn.execute("SELECT content_hash FROM documents WHERE id = %s", (doc_id,)).fetchone()
    return row[0] if row else None


def speakers(conn: psycopg.Connection) -> list[tuple[str, int]]:
    rows = conn.execute("SELECT speaker, passages FROM speaker_counts ORDER BY passages DESC, speaker")
    return [(r[0], int(r[1])) for r in rows]


def speaker_documents(conn: psycopg.Connection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for speaker, doc_id in conn.execute("SELECT DISTINCT speaker, doc_id FROM turns"):  # turns_speaker covers it
        out.setdefault(speaker, set()).add(doc_id)
    return out


def segment_vectors(conn: psycopg.Connection, dimension: int) -> tuple[np.ndarray, np.ndarray]:
    rows = conn.execute("SELECT id, embedding FROM segments ORDER BY id").fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    vectors = np.stack([_vector(r[1]) for r in rows]) if rows else np.zeros((0, dimension), dtype=np.float32)
    return ids, vectors


def speaker_overrides(conn: psycopg.Connection) -> dict[str, str]:
    return {name: canonical for name, canonical in conn.execute("SELECT name, canonical FROM speaker_overrides")}


def server_version(conn: psycopg.Connection) -> str:
    return str(conn.execute("SHOW server_version").fetchone()[0])


def counts(counters: dict[str, int]) -> Counts:
    """The row counts, from the counters every write keeps (counting rows would scan whole tables)."""
    return Counts(counters["documents"], counters["turns"], counters["passages"], counters["segments"])


def _document_filter(
    ids: Sequence[str] | None, date_from: str | None, date_to: str | None, speakers: Sequence[str]
) -> tuple[str, list]:
    clauses: list[str] = []
    params: list = []
    if ids is not None:
        clauses.append("d.id = ANY(%s)")
        params.append(list(ids))
    if date_from:
        clauses.append("d.date >= %s")
        params.append(date_from)
    if date_to:
        clauses.append("d.date <= %s")
        params.append(date_to)
    if speakers:
        clauses.append("EXISTS (SELECT 1 FROM turns t WHERE t.doc_id = d.id AND t.speaker = ANY(%s))")
        params.append(list(speakers))
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _ids(ids: Sequence[int]) -> list[int]:
    return list(dict.fromkeys(int(i) for i in ids))


def _vector(vector: object) -> np.ndarray:
    # pgvector hands back a numpy array for `vector` columns, or its own Vector (binary transfers)
    values = vector.to_numpy() if hasattr(vector, "to_numpy") else vector
    return np.asarray(values, dtype=np.float32).reshape(-1)


def _passage(row: tuple) -> Passage:
    return Passage(
        doc_id=row[1],
        turn_index=row[3],
        speaker=row[4],
        role=row[5],
        text=row[6],
        start_char=row[7],
        end_char=row[8],
        context=row[9],
        start=row[10],
        end=row[11],
    )
