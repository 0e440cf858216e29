"""Writes on a real-size collection: what one add or delete costs, and what writes cost the searches around them.

    python -m bench.writes --collection bench/.cache/collections/20k [--clients 16] [--duration 30]
        [--writes 1000] [--server-root CHECKOUT] [--out FILE.json]

Works on a copy of the collection (the copy is removed afterwards). Starts `rag serve` on it (question
cache off, so repeats do not flatter it) and measures, over HTTP with keep-alive clients:

1. single writes: `rounds` times, PUT a one-turn document, search at once (the first search after a write),
   search three more times (steady), DELETE it, search at once: latency of each;
2. throughput: `bench.load` at `clients` connections for `duration` seconds without writes, then again
   while a writer adds one document and deletes the one before, once a second; requests/s, errors,
   and searches slower than 2 s (what a client with a 2 s timeout gives up on);
3. memory: the server's RSS before and after `writes` writes (adds and deletes alternating, as fast as
   the server takes them), with a search after every tenth.

`--server-root` serves from another checkout of the project (an older commit, to compare on one machine);
the collection must be in that code's format.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.corpus import questions
from bench.query import PY, ROOT, free_port, machine, wait_first_answer

TIMEOUT_S = 2.0


def one_turn(i: int) -> dict:
    return {
        "title": f"Bench note {i}",
        "date": "2026-03-01",
        "turns": [{"speaker": "Clerk", "text": f"Note {i}: the committee moved the hearing on pier {i} to Monday."}],
    }


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (the workers of `rag serve`), in MiB."""
    pids = [pid] + [
        int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit() and _parent(entry) == pid
    ]
    total = 0
    for p in pids:
        try:
            lines = Path(f"/proc/{p}/status").read_text().splitlines()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in lines if line.startswith("VmRSS:")), 0)
    return round(total / 1024, 1)


def _parent(entry: Path) -> int | None:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def timed(call) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = call()
    return (time.perf_counter() - started) * 1000, response


def single_writes(http: httpx.Client, rounds: int, asked: list[str]) -> dict:
    put, delete, first, steady, after_delete = [], [], [], [], []
    for i in range(rounds):
        question = asked[i % len(asked)]

        def search(q: str = question) -> httpx.Response:
            return http.post("/search", json={"query": q, "k": 10})

        ms, response = timed(lambda i=i: http.put(f"/documents/bench-single-{i}", json=one_turn(i)))
        assert response.status_code == 201, response.text
        put.append(ms)
        first.append(timed(search)[0])
        steady.extend(timed(search)[0] for _ in range(3))
        ms, response = timed(lambda i=i: http.delete(f"/documents/bench-single-{i}"))
        assert response.status_code == 204, response.text
        delete.append(ms)
        after_delete.append(timed(search)[0])
    return {
        "rounds": rounds,
        "put_ms": summary(put),
        "delete_ms": summary(delete),
        "first_search_after_put_ms": summary(first),
        "first_search_after_delete_ms": summary(after_delete),
        "steady_search_ms": summary(steady),
    }


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
        "max": round(ordered[-1], 1),
    }


def load(port: int, clients: int, duration: float, offset: int) -> dict:
    result = subprocess.run(
        [
            PY,
            "-m",
            "bench.load",
            "--port",
            str(port),
            "--concurrency",
            str(clients),
            "--duration",
            str(duration),
            "--offset",
            str(offset),
            "--slow-ms",
            str(TIMEOUT_S * 1000),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


class Writer(threading.Thread):
    """Adds a document and deletes the one before, once a second, until stopped."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            i = 0
            while not self.stop.is_set():
                started = time.perf_counter()
                calls = [lambda n=i: http.put(f"/documents/bench-load-{n}", json=one_turn(n))]
                if i:
                    calls.append(lambda n=i: http.delete(f"/documents/bench-load-{n - 1}"))
                for call in calls:
                    ms, response = timed(call)
                    self.latencies.append(ms)
                    if response.status_code not in (201, 204):
                        self.errors.append(f"{response.status_code} {response.text[:200]}")
                i += 1
                self.stop.wait(max(0.0, 1.0 - (time.perf_counter() - started)))


def many_writes(http: httpx.Client, pid: int, writes: int, asked: list[str]) -> dict:
    before = rss_mib(pid)
    errors = 0
    started = time.perf_counter()
    for i in range(writes // 2):
        errors += http.put(f"/documents/bench-many-{i}", json=one_turn(i)).status_code != 201
        errors += http.delete(f"/documents/bench-many-{i}").status_code != 204
        if i % 5 == 0:
            errors += http.post("/search", json={"query": asked[i % len(asked)], "k": 10}).status_code != 200
    after = rss_mib(pid)
    return {
        "writes": 2 * (writes // 2),
        "errors": errors,
        "seconds": round(time.perf_counter() - started, 1),
        "rss_before_mib": before,
        "rss_after_mib": after,
        "rss_growth_percent": round(100 * (after - before) / before, 1),
    }


def ask(port: int) -> int:
    """The status of one search, 0 while the server does not accept connections yet."""
    try:
        return httpx.post(f"http://127.0.0.1:{port}/search", json={"query": "budget", "k": 1}, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    parser.add_argument("--server-root", type=Path, default=ROOT, help="the checkout whose code serves")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    asked = questions()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "collection"
        shutil.copytree(args.collection, copy)
        port = free_port()
        env = {**os.environ, "RAG_QUERY_CACHE_SIZE": "0", "RAG_LOG_LEVEL": "WARNING"}
        env.update(e.split("=", 1) for e in args.env)
        cmd = [PY, "-m", "rag.cli", "serve", "--index", str(copy), "--port", str(port)]
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 - open while the server runs
        started = time.perf_counter()
        server = subprocess.Popen(cmd, cwd=args.server_root, env=env, stdout=log, stderr=log)
        result: dict = {
            "command": " ".join(sys.argv),
            "collection": str(args.collection),
            "server_root": str(args.server_root),
            "machine": machine(),
        }
        try:
            wait_first_answer(port, server, started, ask)
            url = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=url, timeout=30) as http:
                result["stats"] = http.get("/health").json()
                for question in asked[:30]:  # warm-up
                    http.post("/search", json={"query": question, "k": 10})
                result["single"] = single_writes(http, args.rounds, asked)
                print(json.dumps(result["single"]), file=sys.stderr, flush=True)
                quiet = load(port, args.clients, args.duration, offset=100)
                writer = Writer(url)
                writer.start()
                busy = load(port, args.clients, args.duration, offset=400)
                writer.stop.set()
                writer.join(timeout=60)
                result["load"] = {
                    "without_writes": quiet,
                    "with_writes": busy,
                    "ratio": round(busy["rps"] / quiet["rps"], 3) if quiet["rps"] else None,
                    "writes": len(writer.latencies),
                    "write_errors": writer.errors[:5],
                    "write_ms": summary(writer.latencies) if writer.latencies else None,
                }
                print(json.dumps(result["load"]), file=sys.stderr, flush=True)
                result["memory"] = many_writes(http, server.pid, args.writes, asked)
                print(json.dumps(result["memory"]), file=sys.stderr, flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
    result["machine"]["load_after"] = os.getloadavg()
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
