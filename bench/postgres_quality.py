"""Search quality of both backends on QMSum dev and the press sample, and of full-text search in its place.

    python -m bench.postgres_choices quality

Each data set is parsed, chunked and embedded once (vectors cached in bench/.cache/quality-<name>.npz) and
written to an embedded index and to a PostgreSQL database (a throwaway local server); every question is
then answered through rag.evaluation (the code `rag eval` runs) in each mode on each backend. The same
figures come from the command line:

    rag ingest DATA/transcripts_txt --database-url URL && rag eval DATA/queries.jsonl --database-url URL --mode M

The alternative the backend did not take, PostgreSQL full-text search, is measured on the same database:
a tsvector column of each segment's terms (the very terms BM25 counts, so only the ranking differs) with a
GIN index, ranked by ts_rank or ts_rank_cd (both normalised by length) in place of BM25, lexical and hybrid.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from bench.query import machine

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
DATA = Path("/work/shared/data")
DATASETS = {
    "qmsum": (DATA / "qmsum-dev" / "transcripts_txt", DATA / "qmsum-dev" / "queries.jsonl"),
    "press": (DATA / "presscon-sample" / "transcripts_txt", DATA / "presscon-sample" / "queries.jsonl"),
}
MODES = ("hybrid", "lexical", "dense")
FTS_RANKINGS = {"ts_rank": "ts_rank(s.fts, q, 1)", "ts_rank_cd": "ts_rank_cd(s.fts, q, 1)"}


def prepared_documents(name: str, embedder) -> list:
    """The data set's documents, chunked and embedded as `rag ingest` would (vectors cached)."""
    from rag.index import Index
    from rag.ingest import document_id, embed_all, find_transcripts, prepare
    from rag.parsing import read_transcript

    folder, _ = DATASETS[name]
    files, _ = find_transcripts([folder])
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Index.open(Path(tmp) / "scratch", create=True, embedder=embedder)
        docs = [prepare(scratch, read_transcript(f), document_id(f)) for f in files]
    docs = [d for d in docs if d.passages]
    path = CACHE / f"quality-{name}.npz"
    ids = [d.doc.id for d in docs]
    total = sum(len(d.segments) for d in docs)
    if path.exists():
        cached = np.load(path, allow_pickle=False)
        if cached["doc_ids"].tolist() == ids and len(cached["vectors"]) == total:
            _fill(docs, cached["vectors"])
            return docs
    started = time.perf_counter()
    embed_all(scratch, docs)
    print(f"{name}: embedded {total} segments in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, doc_ids=np.array(ids), vectors=np.concatenate([d.vectors for d in docs]))
    return docs


def _fill(docs: list, vectors: np.ndarray) -> None:
    first = 0
    for doc in docs:
        doc.vectors[:] = vectors[first : first + len(doc.segments)]
        first += len(doc.segments)


def evaluate(index, queries: list[dict], mode: str) -> dict:
    from rag import evaluation

    started = time.perf_counter()
    found = evaluation.run(index, queries, mode=mode, k=10)
    metrics = evaluation.score(queries, found, evaluation.collection_turns(index))
    metrics = {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}
    return metrics | {"seconds": round(time.perf_counter() - started, 1)}


# ---------------------------------------------------------------------- full-text search in BM25's place


def add_full_text(index, docs: Sequence) -> None:
    """A tsvector of each segment's BM25 terms, with a GIN index (the experiment's own column)."""
    from rag.lexical import terms

    collection = index.collection
    with collection.database.writing() as conn:
        conn.execute("ALTER TABLE segments ADD COLUMN IF NOT EXISTS fts tsvector")
        rows = []
        for doc in docs:
            found = conn.execute("SELECT id FROM segments WHERE doc_id = %s ORDER BY id", (doc.doc.id,))
            ids = [int(r[0]) for r in found]
            rows += [(sid, " ".join(terms(s.text))) for sid, s in zip(ids, doc.segments, strict=True)]
        conn.execute("CREATE TEMP TABLE fts_load (id bigint, words text) ON COMMIT DROP")
        with conn.cursor().copy("COPY fts_load (id, words) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.execute("UPDATE segments s SET fts = to_tsvector('simple', l.words) FROM fts_load l WHERE l.id = s.id")
        conn.execute("CREATE INDEX IF NOT EXISTS segments_fts ON segments USING gin (fts)")


def full_text_index(index, ranking: str):
    """The same index, its lexical candidates ranked by PostgreSQL full-text search."""
    from rag.index import Index
    from rag.storage.postgres import queries
    from rag.storage.postgres.collection import PostgresCollection, PostgresReader

    class FullTextReader(PostgresReader):
        def lexical(self, words: Sequence[str], n: int, filters) -> list[tuple[int, float]]:
            if not words:
                return []
            where, params = "", []
            if filters:
                allowed, params = queries.admitted_segments_sql(filters)
                where = f"AND s.id IN ({allowed})"
            query = " | ".join("'" + w.replace("'", "''") + "'" for w in dict.fromkeys(words))
            rows = self._conn.execute(
                f"SELECT s.id, {FTS_RANKINGS[ranking]} AS score FROM segments s, to_tsquery('simple', %s) AS q"
                f" WHERE s.fts @@ q {where} ORDER BY score DESC, s.id LIMIT %s",
                [query, *params, n],
            ).fetchall()
            return [(int(i), float(score)) for i, score in rows if score > 0]

    class FullTextCollection(PostgresCollection):
        @contextmanager
        def reading(self) -> Iterator[PostgresReader]:
            with self.database.reading() as conn:
                yield FullTextReader(self, conn)

    original = index.collection
    collection = FullTextCollection(
        original.database,
        original.manifest,
        exact_max=original.exact_max,
        exact_filtered_max=original.exact_filtered_max,
    )
    return Index(collection, index.embedder)


def quality_experiment() -> dict:
    from pydantic import SecretStr

    from rag import evaluation
    from rag.embedding import Embedder
    from rag.index import Index
    from rag.storage.postgres import DatabaseOptions
    from tests.pgserver import ScratchServer

    embedder = Embedder()
    server = ScratchServer()
    out: dict = {"machine": machine(), "data": {}}
    try:
        for name, (_, query_file) in DATASETS.items():
            docs = prepared_documents(name, embedder)
            queries = evaluation.load_queries(query_file)
            row: dict = {
                "documents": len(docs),
                "segments": sum(len(d.segments) for d in docs),
                "questions": len(queries),
            }
            with tempfile.TemporaryDirectory() as tmp:
                embedded = Index.open(Path(tmp) / "index", create=True, embedder=embedder)
                database = DatabaseOptions(SecretStr(server.new_database()), statement_timeout_s=120)
                postgres = Index.open(database=database, create=True, embedder=embedder)
                for backend, index in (("embedded", embedded), ("postgres", postgres)):
                    started = time.perf_counter()
                    index.apply(add=docs)
                    row[f"{backend}_write_s"] = round(time.perf_counter() - started, 1)
                    for mode in MODES:
                        row[f"{backend} {mode}"] = evaluate(index, queries, mode)
                        print(name, backend, mode, row[f"{backend} {mode}"], file=sys.stderr, flush=True)
                add_full_text(postgres, docs)
                for ranking in FTS_RANKINGS:
                    fts = full_text_index(postgres, ranking)
                    for mode in ("lexical", "hybrid"):
                        row[f"postgres full-text {ranking} {mode}"] = evaluate(fts, queries, mode)
                        print(name, ranking, mode, row[f"postgres full-text {ranking} {mode}"], file=sys.stderr)
                embedded.close()
                postgres.close()
            out["data"][name] = row
    finally:
        server.close()
    return out
