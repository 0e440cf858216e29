"""Writes to the database collection, each a function of a connection inside one write transaction.

Every change to documents starts with `begin_change()`, which moves the generation on by updating the
state row: that row lock makes writers take turns (another writer waits for the commit), so the counters,
document frequencies and speaker counts that each write adjusts are never lost between two writers, and
two processes writing the same document id leave exactly one. Readers are not held up (they read their
snapshot). Documents are copied in with COPY; the vectors travel in pgvector's binary format.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import psycopg

from rag.models import PreparedDocument

_STATE_KEYS = ("documents", "turns", "passages", "segments", "total_length")


def begin_change(conn: psycopg.Connection) -> int:
    """Start a change to documents: the next generation (waits for a writer holding the collection)."""
    row = conn.execute("UPDATE state SET value = value + 1 WHERE key = 'generation' RETURNING value").fetchone()
    return int(row[0])


def _adjust(conn: psycopg.Connection, deltas: dict[str, int]) -> None:
    keys = [key for key in _STATE_KEYS if deltas.get(key)]
    if keys:
        conn.execute(
            "UPDATE state SET value = state.value + d.delta FROM unnest(%s::text[], %s::bigint[]) AS d (key, delta)"
            " WHERE state.key = d.key",
            (keys, [int(deltas[key]) for key in keys]),
        )


def _next_ids(conn: psycopg.Connection, sequence: str, n: int) -> list[int]:
    if not n:
        return []
    rows = conn.execute("SELECT nextval(%s) FROM generate_series(1, %s)", (sequence, n)).fetchall()
    return sorted(int(r[0]) for r in rows)


def put_document(conn: psycopg.Connection, prepared: PreparedDocument, segment_terms: Sequence[Sequence[str]]) -> None:
    """Insert a document (none of its id may exist) with its turns, segments, postings and passages."""
    doc, transcript = prepared.doc, prepared.transcript
    segment_ids = _next_ids(conn, "segments_id_seq", len(prepared.segments))
    passage_ids = _next_ids(conn, "passages_id_seq", len(prepared.passages))
    conn.execute(
        "INSERT INTO documents (id, title, date, place, number, source, media_url, content_hash)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (doc.id, doc.title, doc.date, doc.place, doc.number, doc.source, doc.media_url, prepared.content_hash),
    )
    with conn.cursor().copy('COPY turns (doc_id, idx, speaker, role, text, start, "end") FROM STDIN') as copy:
        for i, t in enumerate(transcript.turns):
            copy.write_row((doc.id, i, t.speaker, t.role, t.text, t.start, t.end))

    counted = [Counter(words) for words in segment_terms]
    term_ids = _term_ids(conn, counted)
    vectors = np.asarray(prepared.vectors, dtype=np.float32)
    with conn.cursor().copy(
        "COPY segments (id, doc_id, embedding, length, term_ids) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["int8", "text", "vector", "int4", "int4[]"])
        for sid, vector, words, counts in zip(segment_ids, vectors, segment_terms, counted, strict=True):
            copy.write_row((sid, doc.id, vector, len(words), [term_ids[t] for t in counts]))
    with conn.cursor().copy("COPY postings (term_id, segment_id, tf, length) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int4", "int8", "int4", "int4"])
        for sid, words, counts in zip(segment_ids, segment_terms, counted, strict=True):
            for term, tf in counts.items():
                copy.write_row((term_ids[term], sid, tf, len(words)))

    segment_of = [
        sid for sid, s in zip(segment_ids, prepared.segments, strict=True) for _ in range(s.first, s.last + 1)
    ]
    with conn.cursor().copy(
        "COPY passages (id, doc_id, segment_id, turn_index, speaker, role, text, start_char, end_char, context,"
        ' start, "end") FROM STDIN'
    ) as copy:
        for pid, sid, p in zip(passage_ids, segment_of, prepared.passages, strict=True):
            copy.write_row(
                (pid, doc.id, sid, p.turn_index, p.speaker, p.role, p.text, p.start_char, p.end_char, p.context,
                 p.start, p.end)
            )  # fmt: skip
    speakers = Counter(p.speaker for p in prepared.passages)
    if speakers:
        names = sorted(speakers)
        rows = conn.execute(
            "INSERT INTO speaker_counts (speaker, passages) SELECT * FROM unnest(%s::text[], %s::int[])"
            " ON CONFLICT (speaker) DO UPDATE SET passages = speaker_counts.passages + excluded.passages"
            " RETURNING xmax = 0",  # true for a row inserted: a speaker name new to the collection
            (names, [speakers[n] for n in names]),
        ).fetchall()
        if any(inserted for (inserted,) in rows):
            _speakers_changed(conn)
    _adjust(
        conn,
        {
            "documents": 1,
            "turns": len(transcript.turns),
            "passages": len(prepared.passages),
            "segments": len(prepared.segments),
            "total_length": sum(len(words) for words in segment_terms),
        },
    )


def _term_ids(conn: psycopg.Connection, counted: Sequence[Counter]) -> dict[str, int]:
    """The ids of these segments' terms, made where new, with their document frequencies raised."""
    df = Counter(term for counts in counted for term in counts)
    if not df:
        return {}
    words = sorted(df)
    rows = conn.execute(
        "INSERT INTO terms (term, df) SELECT * FROM unnest(%s::text[], %s::int[])"
        " ON CONFLICT (term) DO UPDATE SET df = terms.df + excluded.df RETURNING term, id",
        (words, [df[w] for w in words]),
    ).fetchall()
    return {term: int(tid) for term, tid in rows}


def delete_document(conn: psycopg.Connection, doc_id: str) -> bool:
    """Remove a document and everything of it, its postings and counts included; False when there was none."""
    found = conn.execute(
        "SELECT count(*), coalesce(sum(length), 0) FROM segments WHERE doc_id = %s", (doc_id,)
    ).fetchone()
    passages = conn.execute("SELECT count(*) FROM passages WHERE doc_id = %s", (doc_id,)).fetchone()[0]
    turns = conn.execute("SELECT count(*) FROM turns WHERE doc_id = %s", (doc_id,)).fetchone()[0]
    conn.execute(
        "DELETE FROM postings p USING (SELECT s.id, unnest(s.term_ids) AS term_id FROM segments s"
        " WHERE s.doc_id = %s) AS gone WHERE p.term_id = gone.term_id AND p.segment_id = gone.id",
        (doc_id,),
    )
    emptied = conn.execute(
        "UPDATE terms t SET df = t.df - gone.n FROM (SELECT term_id, count(*) AS n FROM segments s,"
        " unnest(s.term_ids) AS term_id WHERE s.doc_id = %s GROUP BY term_id) AS gone"
        " WHERE t.id = gone.term_id RETURNING t.id, t.df",
        (doc_id,),
    ).fetchall()
    unused = [tid for tid, df in emptied if df <= 0]
    if unused:
        conn.execute("DELETE FROM terms WHERE id = ANY(%s) AND df <= 0", (unused,))
    conn.execute(
        "UPDATE speaker_counts c SET passages = c.passages - gone.n FROM (SELECT speaker, count(*) AS n"
        " FROM passages WHERE doc_id = %s GROUP BY speaker) AS gone WHERE c.speaker = gone.speaker",
        (doc_id,),
    )
    if conn.execute("DELETE FROM speaker_counts WHERE passages <= 0").rowcount:
        _speakers_changed(conn)
    deleted = conn.execute("DELETE FROM documents WHERE id = %s", (doc_id,)).rowcount
    if deleted:
        _adjust(
            conn,
            {
                "documents": -1,
                "turns": -int(turns),
                "passages": -int(passages),
                "segments": -int(found[0]),
                "total_length": -int(found[1]),
            },
        )
    return bool(deleted)


def _speakers_changed(conn: psycopg.Connection) -> None:
    """A speaker name came or went, or was renamed: every server builds its speaker directory again."""
    conn.execute("UPDATE state SET value = value + 1 WHERE key = 'speakers'")


def set_canonical(conn: psycopg.Connection, names: Iterable[str], canonical: str) -> None:
    """Record canonical names; the speakers counter moves on, so every server rebuilds its directory."""
    names = sorted(set(names))
    _speakers_changed(conn)
    conn.execute(
        "INSERT INTO speaker_overrides (name, canonical) SELECT n, %s FROM unnest(%s::text[]) AS n"
        " ON CONFLICT (name) DO UPDATE SET canonical = excluded.canonical",
        (canonical, names),
    )
