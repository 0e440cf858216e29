"""The measurements behind the PostgreSQL backend's choices (docs/storage.md), on a throwaway local server.

    python -m bench.postgres_choices vectors [--n 100000]   # HNSW on vector vs halfvec; exact scan cost by size
    python -m bench.postgres_choices filters [--n 100000]   # rare filters: iterative HNSW scan vs exact search
    python -m bench.postgres_choices quality                # BM25 in the database vs full-text search

An experiment, not the product: it builds alternative indexes and a full-text column in scratch databases,
so unlike the service it writes its own SQL. Vectors are real (bench.corpus's base, QMSum and press
segments embedded by the model) and, for sizes beyond it, near copies of them as bench.corpus makes them;
questions are the real QMSum and press questions. Results: docs/bench-results/postgres/choices-*.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from bench.query import machine, pct

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "bench-results" / "postgres"
DATA = Path("/work/shared/data")


def real_vectors() -> np.ndarray:
    """Every segment vector of QMSum dev and the press sample (cached by `quality`), else bench.corpus's base."""
    cached = [ROOT / "bench" / ".cache" / f"quality-{name}.npz" for name in ("qmsum", "press")]
    if all(path.exists() for path in cached):
        return np.concatenate([np.load(path, allow_pickle=False)["vectors"] for path in cached])
    from bench.corpus import build_base

    return np.concatenate([d.vectors for d in build_base()])


def base_vectors(n: int) -> np.ndarray:
    """n unit vectors: the real ones, then varied copies of them (cosine ~0.94 to a real one, as bench.corpus
    makes them) when more are asked for; the real ones alone when n is 0."""
    from bench.corpus import vary_vectors

    real = real_vectors()
    if not n:
        return real
    parts, copy = [real], 1
    while sum(len(p) for p in parts) < n:
        parts.append(vary_vectors(real, np.random.default_rng(copy)))
        copy += 1
    return np.concatenate(parts)[:n]


def question_vectors(n: int) -> np.ndarray:
    from bench.corpus import questions
    from rag.embedding import Embedder

    embedder = Embedder()
    return np.stack([embedder.encode_query(q) for q in questions(n)])


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> list[set[int]]:
    scores = queries @ vectors.T
    return [set((np.argsort(-row, kind="stable")[:k] + 1).tolist()) for row in scores]  # ids start at 1


def load_table(conn, vectors: np.ndarray, groups: np.ndarray | None = None) -> None:
    dim = vectors.shape[1]
    conn.execute(f"CREATE TABLE items (id bigint PRIMARY KEY, grp integer, embedding vector({dim}) NOT NULL)")
    with conn.cursor().copy("COPY items (id, grp, embedding) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int8", "int4", "vector"])
        for i, vector in enumerate(vectors):
            copy.write_row((i + 1, int(groups[i]) if groups is not None else 0, vector))
    conn.execute("CREATE INDEX items_grp ON items (grp)")
    conn.execute("VACUUM ANALYZE items")


def timed(conn, sql: str, params) -> tuple[float, list]:
    started = time.perf_counter()
    rows = conn.execute(sql, params).fetchall()
    return time.perf_counter() - started, rows


# ---------------------------------------------------------------------- vectors


def vectors_experiment(n: int, n_questions: int) -> dict:
    import psycopg
    from pgvector.psycopg import register_vector

    from tests.pgserver import ScratchServer

    vectors = base_vectors(n)
    queries = question_vectors(n_questions)
    truth = exact_top(vectors, queries, 10)
    dim = vectors.shape[1]
    server = ScratchServer()
    out: dict = {
        "vectors": len(vectors),
        "source": "real" if not n else "real, then varied copies",
        "questions": n_questions,
        "machine": machine(),
        "kinds": {},
        "exact_scan": {},
    }
    try:
        with psycopg.connect(server.new_database(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION vector")
            register_vector(conn)
            conn.execute("SET maintenance_work_mem = '1GB'")
            load_table(conn, vectors)
            out["table_mb"] = round(conn.execute("SELECT pg_table_size('items')").fetchone()[0] / 2**20, 1)
            kinds = {
                "vector": ("embedding vector_ip_ops", "embedding <#> %s"),
                "halfvec": (
                    f"(embedding::halfvec({dim})) halfvec_ip_ops",
                    f"embedding::halfvec({dim}) <#> %s::halfvec",
                ),
            }
            for kind, (column, order) in kinds.items():
                started = time.perf_counter()
                conn.execute(
                    f"CREATE INDEX items_hnsw ON items USING hnsw ({column}) WITH (m = 16, ef_construction = 64)"
                )
                build = time.perf_counter() - started
                size = conn.execute("SELECT pg_relation_size('items_hnsw')").fetchone()[0]
                row = {"build_s": round(build, 1), "index_mb": round(size / 2**20, 1), "ef_search": {}}
                for ef in (40, 100, 200, 400):
                    conn.execute(f"SET hnsw.ef_search = {ef}")
                    latencies, recalls = [], []
                    for query, expected in zip(queries, truth, strict=True):
                        # 50 candidates, as the search path asks for k <= 12; recall@10 of the first 10
                        spent, rows = timed(conn, f"SELECT id FROM items ORDER BY {order} LIMIT 50", (query,))
                        latencies.append(spent)
                        recalls.append(len({r[0] for r in rows[:10]} & expected) / 10)
                    row["ef_search"][ef] = {"recall@10": round(float(np.mean(recalls)), 4), **pct(latencies)}
                out["kinds"][kind] = row
                print(kind, json.dumps(row), file=sys.stderr, flush=True)
                conn.execute("DROP INDEX items_hnsw")
            for size in sorted(
                {s for s in (2_000, 5_000, 10_000, 20_000, 50_000) if s < len(vectors)} | {len(vectors)}
            ):
                latencies = []
                for query in queries[:50]:
                    spent, _ = timed(
                        conn,
                        "SELECT id FROM (SELECT id, embedding <#> %s AS d FROM items WHERE id <= %s OFFSET 0) s"
                        " ORDER BY d, id LIMIT 50",
                        (query, size),
                    )
                    latencies.append(spent)
                out["exact_scan"][size] = pct(latencies)
                print("exact", size, out["exact_scan"][size], file=sys.stderr, flush=True)
    finally:
        server.close()
    return out


# ---------------------------------------------------------------------- filters


def filters_experiment(n: int, n_questions: int) -> dict:
    """Filters admitting a share of the rows: what the iterative HNSW scan returns and costs, against exact."""
    import psycopg
    from pgvector.psycopg import register_vector

    from tests.pgserver import ScratchServer

    shares = [0.0001, 0.001, 0.01, 0.1, 0.5]
    vectors = base_vectors(n)
    queries = question_vectors(n_questions)
    rng = np.random.default_rng(5)
    # group g admits a share shares[g] of the rows (assigned at random: a filter unrelated to the question)
    draw = rng.random(len(vectors))
    groups = np.full(len(vectors), len(shares), dtype=np.int32)
    edge = 0.0
    for g, share in enumerate(shares):
        groups[(draw >= edge) & (draw < edge + share)] = g
        edge += share
    dim = vectors.shape[1]
    server = ScratchServer()
    out: dict = {"vectors": len(vectors), "questions": n_questions, "machine": machine(), "wanted": 50, "shares": {}}
    try:
        with psycopg.connect(server.new_database(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION vector")
            register_vector(conn)
            conn.execute("SET maintenance_work_mem = '1GB'")
            load_table(conn, vectors, groups)
            conn.execute(
                f"CREATE INDEX items_hnsw ON items USING hnsw ((embedding::halfvec({dim})) halfvec_ip_ops)"
                " WITH (m = 16, ef_construction = 64)"
            )
            conn.execute("SET hnsw.ef_search = 100")
            for g, share in enumerate(shares):
                admitted = int(np.sum(groups == g))
                row: dict = {"rows_admitted": admitted}
                for scan in ("off", "strict_order", "relaxed_order"):
                    conn.execute(f"SET hnsw.iterative_scan = {scan}")
                    latencies, returned = [], []
                    for query in queries:
                        spent, rows = timed(
                            conn,
                            f"SELECT id FROM items WHERE grp = %s ORDER BY embedding::halfvec({dim}) <#> %s::halfvec"
                            " LIMIT 50",
                            (g, query),
                        )
                        latencies.append(spent)
                        returned.append(len(rows))
                    row[f"hnsw_{scan}"] = {"mean_returned": round(float(np.mean(returned)), 1), **pct(latencies)}
                latencies = []
                for query in queries:
                    spent, _ = timed(
                        conn,
                        "SELECT id FROM (SELECT id, embedding <#> %s AS d FROM items WHERE grp = %s OFFSET 0) s"
                        " ORDER BY d, id LIMIT 50",
                        (query, g),
                    )
                    latencies.append(spent)
                row["exact"] = pct(latencies)
                out["shares"][share] = row
                print(share, json.dumps(row), file=sys.stderr, flush=True)
    finally:
        server.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=["vectors", "filters", "quality"])
    parser.add_argument("--n", type=int, default=0, help="vectors (vectors, filters); 0: the real ones alone")
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args(argv)
    if args.experiment == "vectors":
        result = vectors_experiment(args.n, args.questions)
    elif args.experiment == "filters":
        result = filters_experiment(args.n, args.questions)
    else:
        from bench.postgres_quality import quality_experiment

        result = quality_experiment()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"choices-{args.experiment}{f'-{args.n}' if args.n else ''}.json"
    path.write_text(json.dumps(result, indent=2))
    print(path)


if __name__ == "__main__":
    main()
