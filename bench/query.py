"""Query speed: in-process latency by stage, HTTP latency and throughput of a real `rag serve`, RSS, cold start.

    python -m bench.query --collection bench/.cache/collections/100k --label after
        [--concurrency 1,4,16] [--duration 15] [--inproc 200] [--no-http] [--env RAG_X=Y ...]

In-process (a child process, so each measurement starts clean): for distinct real questions, the time of
embedding the question, of the vector search (50 candidates, as the search path asks for k <= 12), of
the BM25 search, and of the whole `rag.search.search(k=10)` (hybrid), p50 and p99; recall@10 of the
collection's vector index against exact inner-product search over the same vectors.

HTTP: `python -m rag.cli serve --index DIR` started as a child process on 127.0.0.1; cold start is the
time from spawning it to its first 200 answer to POST /search; then `bench.load` (another process) at
each concurrency for a fixed duration; peak RSS (VmHWM) of the server and its children at the end.
The question-vector cache is off (RAG_QUERY_CACHE_SIZE=0) unless --env says otherwise, so that repeated
questions do not flatter the figures. Results: bench/results/<label>/<collection>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PY = sys.executable


def machine() -> dict:
    with open("/proc/cpuinfo") as handle:
        cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "?")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def pct(values: list[float]) -> dict:
    ms = np.asarray(values) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p99_ms": round(float(np.percentile(ms, 99)), 3)}


# ---------------------------------------------------------------------------------------------- in-process


def inproc(collection: Path, n: int) -> dict:
    from bench.corpus import questions
    from rag.index import Index
    from rag.lexical import query_terms
    from rag.models import Filters
    from rag.search import search

    started = time.perf_counter()
    index = Index.open(collection)
    embedder = index.embedder
    opened = time.perf_counter() - started
    qs = questions()
    for q in qs[-20:]:  # warm-up on questions not measured
        search(index, q, k=10)
    embed, dense, lexical, total = [], [], [], []
    cpu: dict[str, list[float]] = {"embed": [], "vector_search": [], "lexical_search": [], "search_total": []}
    clock, cpu_clock = time.perf_counter, time.thread_time  # wall, and this thread's CPU (robust to load)
    for q in qs[:n]:
        t0, c0 = clock(), cpu_clock()
        v = embedder.encode_query(q)
        t1, c1 = clock(), cpu_clock()
        with index.reading() as reader:
            reader.dense(v, 50, Filters())
        t2, c2 = clock(), cpu_clock()
        with index.reading() as reader:
            reader.lexical(query_terms(q), 50, Filters())
        t3, c3 = clock(), cpu_clock()
        search(index, q, k=10)
        t4, c4 = clock(), cpu_clock()
        embed.append(t1 - t0)
        dense.append(t2 - t1)
        lexical.append(t3 - t2)
        total.append(t4 - t3)
        for key, value in zip(cpu, (c1 - c0, c2 - c1, c3 - c2, c4 - c3), strict=True):
            cpu[key].append(value)
    import resource

    rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # before recall's exact copy
    out = {
        "passages": index.stats()["passages"],
        "vector_index": _describe(index),
        "open_seconds": round(opened, 2),
        "embed": pct(embed),
        "vector_search": pct(dense),
        "lexical_search": pct(lexical),
        "search_total": pct(total),
        "recall_at_10": recall(index, _embed_all(embedder, qs[:400])),
        "recall_questions": len(qs[:400]),
        "cpu_p50_ms": {key: round(float(np.percentile(v, 50)) * 1000, 3) for key, v in cpu.items()},
        "peak_rss_mb": rss_mb,
    }
    return out


def _embed_all(embedder, texts: list[str]) -> np.ndarray:
    many = getattr(embedder, "encode_queries", None)  # older code has only encode_query
    return many(texts) if many else np.stack([embedder.encode_query(t) for t in texts])


def _describe(index) -> str:
    d = index.collection.describe().get("base", {}).get("vector_index", {"kind": "flat (no base yet)"})
    return d["kind"] + (f" nlist {d['nlist']} nprobe {d['nprobe']}" if "nlist" in d else "")


def recall(index, queries: np.ndarray, k: int = 10) -> float:
    """recall@k of the index's vector search against exact inner product over the stored vectors."""
    import faiss

    from rag.models import Filters

    with index.reading() as reader:
        ids, matrix = reader.segment_vectors()
        found = [[i for i, _ in reader.dense(q, k, Filters())] for q in queries]
    exact = faiss.IndexFlatIP(matrix.shape[1])
    exact.add(np.ascontiguousarray(matrix, dtype=np.float32))
    _, truth = exact.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    hits = sum(len(set(ids[t[t >= 0]].tolist()) & set(f)) for t, f in zip(truth, found, strict=True))
    return round(hits / (k * len(queries)), 4)


# ---------------------------------------------------------------------------------------------- HTTP


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post_search(port: int, question: str, timeout: float = 5.0) -> int:
    body = json.dumps({"query": question, "k": 10}).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/search", data=body, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except OSError:
        return 0


def wait_first_answer(port: int, proc: subprocess.Popen, started: float, check, limit: float = 300) -> float:
    while time.perf_counter() - started < limit:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        if check(port) == 200:
            return time.perf_counter() - started
        time.sleep(0.01)
    raise RuntimeError("server did not answer")


def tree_memory_mb(pid: int) -> dict:
    """Memory of a process and its children (workers are separate processes), in MB: the summed peak RSS,
    which counts the pages the workers share once per worker, and the summed PSS, which splits them, so
    that PSS with N+1 workers minus PSS with N is what one more worker costs."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    pids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    totals = {"VmHWM:": 0, "Pss:": 0}
    for p in pids:
        for name, key in ((f"/proc/{p}/status", "VmHWM:"), (f"/proc/{p}/smaps_rollup", "Pss:")):
            try:
                for line in Path(name).read_text().splitlines():
                    if line.startswith(key):
                        totals[key] += int(line.split()[1])
            except OSError:
                continue
    return {"peak_rss_mb": round(totals["VmHWM:"] / 1024, 1), "pss_mb": round(totals["Pss:"] / 1024, 1)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) and its children processes, in seconds."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def load_levels(port: int, levels: list[int], duration: float, style: str, pid: int | None = None) -> list[dict]:
    out = []
    offset = 0
    for c in levels:
        cpu_before = cpu_seconds(pid) if pid else None
        result = subprocess.run(
            [
                PY,
                "-m",
                "bench.load",
                "--port",
                str(port),
                "--concurrency",
                str(c),
                "--duration",
                str(duration),
                "--style",
                style,
                "--offset",
                str(offset),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        level = json.loads(result.stdout.strip().splitlines()[-1])
        if pid and level["requests"]:
            # the server's CPU per request: what it would sustain on idle cores is ~cores / this
            level["server_cpu_ms_per_request"] = round((cpu_seconds(pid) - cpu_before) * 1000 / level["requests"], 2)
        out.append(level)
        offset += 97  # a different slice of questions at each level
        print(f"  c={c}: {level}", file=sys.stderr, flush=True)
    return out


def measure_server(
    cmd: list[str],
    env: dict,
    port: int,
    ask: Callable[[int, str], int],
    target: str,
    levels: list[int],
    duration: float,
    log: Path,
) -> tuple[float, list[dict], dict]:
    """Start a server, time it to its first answer, warm it up, load it at each level, stop it.

    Returns the cold start in seconds, the figures of each level and the memory of its process tree.
    """
    with open(log, "w") as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=errors, stderr=errors)
        try:
            cold = wait_first_answer(port, proc, started, lambda p: ask(p, "What was said about the budget?"))
            for i in range(30):  # warm-up
                ask(port, f"warm-up question number {i} about housing")
            levels_out = load_levels(port, levels, duration, target, proc.pid)
            memory = tree_memory_mb(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    return cold, levels_out, memory


def http(collection: Path, levels: list[int], duration: float, env: dict, log: Path) -> dict:
    port = free_port()
    cmd = [PY, "-m", "rag.cli", "serve", "--index", str(collection), "--port", str(port)]
    cold, levels_out, memory = measure_server(cmd, env, port, post_search, "rag", levels, duration, log)
    return {"command": " ".join(cmd[1:]), "cold_start_s": round(cold, 2), **memory, "levels": levels_out}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, required=True)
    parser.add_argument("--label", required=True, help="e.g. before, after")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--inproc", type=int, default=200, help="questions for in-process timing (0: skip)")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the measured processes")
    parser.add_argument("--child-inproc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_inproc:
        print(json.dumps(inproc(args.collection, args.inproc)))
        return

    env = {"RAG_QUERY_CACHE_SIZE": "0", **dict(e.split("=", 1) for e in args.env)}
    out_dir = RESULTS / args.label
    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "label": args.label,
        "collection": str(args.collection),
        "env": env,
        "machine_before": machine(),
        "command": "python -m bench.query " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    if args.inproc:
        child = subprocess.run(
            [
                PY,
                "-m",
                "bench.query",
                "--collection",
                str(args.collection),
                "--label",
                args.label,
                "--inproc",
                str(args.inproc),
                "--child-inproc",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
        if child.returncode:
            raise SystemExit(child.stderr[-3000:])
        result["inproc"] = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"  in-process: {result['inproc']}", file=sys.stderr, flush=True)
    if not args.no_http:
        levels = [int(c) for c in args.concurrency.split(",")]
        log = out_dir / f"{args.collection.name}-server.log"
        result["http"] = http(args.collection, levels, args.duration, env, log)
    result["machine_after"] = machine()
    path = out_dir / f"{args.collection.name}.json"
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
