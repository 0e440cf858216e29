"""The plain service we are measured against, and the side-by-side run of it and `rag serve`.

    python -m bench.plain --collection bench/.cache/collections/20k [--concurrency 1,4,16] [--duration 15]

The plain service is what one would write in an afternoon: FastAPI with `POST /search`, the question
embedded by sentence-transformers (torch, fp32), an exact FAISS inner-product index over the same segment
vectors, the k best segments' texts returned; one uvicorn process. Both servers get the same questions
from the same load generator (bench.load, keep-alive connections), one after the other, on one machine.
Prints and saves one JSON object with each level's figures and our ratio to the plain service.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from pydantic import BaseModel

from bench.query import PY, RESULTS, free_port, machine, measure_server, post_search


class Query(BaseModel):
    query: str
    k: int = 10


def app(collection: Path):
    """The plain FastAPI app over a collection's stored segments (texts and vectors)."""
    import faiss
    from fastapi import FastAPI
    from sentence_transformers import SentenceTransformer

    from rag.embedding import resolve_model
    from rag.index import Index

    with Index.open(collection).reading() as reader:
        ids, vectors = reader.segment_vectors()
        segments = reader.segments(ids)
    texts = ["\n".join(p.text for _, p in segments[int(i)].passages) for i in ids]
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    model = SentenceTransformer(resolve_model("all-MiniLM-L6-v2"), device="cpu")
    service = FastAPI()

    @service.post("/search")
    def search(body: Query) -> dict:
        vector = model.encode([body.query], normalize_embeddings=True)
        scores, rows = index.search(vector, body.k)
        return {
            "results": [
                {"text": texts[r], "score": float(s)} for r, s in zip(rows[0], scores[0], strict=True) if r >= 0
            ]
        }

    return service


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, required=True)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--label", default="after")
    parser.add_argument("--workers", type=int, default=None, help="rag serve --workers (default: its own)")
    parser.add_argument("--serve-plain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_plain:
        import uvicorn

        uvicorn.run(app(args.collection), host="127.0.0.1", port=args.port, log_level="warning")
        return
    levels = [int(c) for c in args.concurrency.split(",")]
    out_dir = RESULTS / args.label
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {"RAG_QUERY_CACHE_SIZE": "0", "RAG_LOG_LEVEL": "WARNING"}
    result: dict = {"command": " ".join(sys.argv), "collection": str(args.collection), "machine": machine()}
    for name in ("plain", "rag"):
        port = free_port()
        if name == "plain":
            cmd = [PY, "-m", "bench.plain", "--serve-plain", "--collection", str(args.collection), "--port", str(port)]
        else:
            cmd = [PY, "-m", "rag.cli", "serve", "--index", str(args.collection), "--port", str(port)]
            cmd += ["--workers", str(args.workers)] if args.workers else []
        log = out_dir / f"plain-{name}-{args.collection.name}.log"
        cold, figures, memory = measure_server(cmd, env, port, post_search, "rag", levels, args.duration, log)
        result[name] = {"command": " ".join(cmd[1:]), "cold_start_s": round(cold, 2), **memory}
        result[name]["levels"] = figures
    result["ratio_rps"] = {
        str(ours["concurrency"]): round(ours["rps"] / theirs["rps"], 2)
        for ours, theirs in zip(result["rag"]["levels"], result["plain"]["levels"], strict=True)
        if theirs["rps"]
    }
    result["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    target = out_dir / f"plain-{args.collection.name}.json"
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
