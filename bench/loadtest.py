"""Load test: searches at high concurrency against a real `rag serve` while documents are written and deleted.

    python bench/loadtest.py [--searches 10000] [--concurrency 32] [--index DIR] [--transcripts DIR]

Not a unit test: it prints figures. It builds an index from `examples/` in a temporary folder (or
uses --index; the documents it writes there are named `loadtest-*` and deleted again), starts
`python -m rag.cli serve` on 127.0.0.1, waits for /ready, then runs a warm-up and the measured
searches, all with a writer that keeps adding (POST /documents) and deleting (DELETE /documents/ID)
documents at the same time. It reports errors (any answer but 200/201/204, any broken connection),
latency percentiles, the server's RSS at start, after the warm-up and at the end, and the load
average of the machine while it ran. The client is asyncio streams with hand-written HTTP/1.1 over
keep-alive connections: far less CPU per request than an HTTP library, so on a small machine the
load generator takes little from the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

SPEAKERS = ["the minister", "the treasurer", "Lavrov", "the councillor", "the spokesperson", "the chair"]
TOPICS = [
    "the hotel tax",
    "the bus routes",
    "military bases",
    "gas supplies",
    "the budget",
    "harbour seals",
    "the market traders",
    "energy prices",
    "security cooperation",
    "the phone call",
    "housing",
    "the levy",
    "winter storage",
    "the ferry service",
    "Tajikistan",
    "the hearing",
    "cleaner water",
    "road closures",
]
FORMS = [
    "What did {s} say about {t}?",
    "Why did {s} mention {t}?",
    "How does {s} explain {t}?",
    "Who spoke about {t} after {s}?",
    "What is planned for {t}, according to {s}?",
]


def questions() -> itertools.cycle:
    """Distinct questions (540 of them), so a server's caches do not answer from memory every time."""
    return itertools.cycle([form.format(s=s, t=t) for form in FORMS for s in SPEAKERS for t in TOPICS])


@dataclass
class Tally:
    """Latencies and errors of one kind of request."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def summary(self) -> dict:
        values = sorted(self.latencies_ms)

        def pct(p: float) -> float | None:
            return round(values[min(len(values) - 1, int(p * len(values)))], 1) if values else None

        return {
            "requests": len(values) + sum(self.errors.values()),
            "ok": len(values),
            "errors": sum(self.errors.values()),
            "errors_by_kind": self.errors,
            "p50_ms": pct(0.50),
            "p90_ms": pct(0.90),
            "p99_ms": pct(0.99),
            "max_ms": round(values[-1], 1) if values else None,
            "mean_ms": round(statistics.fmean(values), 1) if values else None,
        }


class Connection:
    """One keep-alive HTTP/1.1 connection; a request at a time."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict | None = None) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        data = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nContent-Length: {len(data)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        try:
            self.writer.write(head.encode() + b"\r\n" + data)
            await self.writer.drain()
            return await self._response()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            raise

    async def _response(self) -> int:
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("connection closed by the server")
        status = int(status_line.split()[1])
        length, closing = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "connection" and value.strip().lower() == "close":
                closing = True
        if length:
            await self.reader.readexactly(length)
        if closing:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def search_load(port: int, count: int, concurrency: int, asked: itertools.cycle, tally: Tally) -> None:
    """`count` searches over `concurrency` connections, each sending its next as soon as one returns."""
    remaining = iter(range(count))

    async def client() -> None:
        connection = Connection(port)
        for _ in remaining:
            started = time.perf_counter()
            try:
                status = await connection.request("POST", "/search", {"query": next(asked), "k": 5})
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                tally.error(type(exc).__name__)
                continue
            if status == 200:
                tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                tally.error(f"HTTP {status}")
        connection.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))


async def write_load(port: int, stop: asyncio.Event, pause_s: float, tally: Tally, counter: list[int]) -> None:
    """Add a document, delete the one before, pause; until stopped. Each write is a tally entry."""
    connection = Connection(port)
    previous: str | None = None
    for n in itertools.count(counter[0]):
        if stop.is_set():
            break
        doc_id = f"loadtest-{n}"
        body = {
            "id": doc_id,
            "title": f"Load test briefing {n}",
            "date": "2026-01-01",
            "turns": [
                {"speaker": "Question", "text": f"What happens to the budget for the harbour in year {n}?"},
                {"speaker": f"Treasurer {n % 7}", "text": f"The harbour budget for year {n} grows by {n % 9} percent."},
            ],
        }
        for method, path, payload, wanted in (
            ("POST", "/documents", body, 201),
            *((("DELETE", f"/documents/{previous}", None, 204),) if previous else ()),
        ):
            started = time.perf_counter()
            try:
                status = await connection.request(method, path, payload)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                tally.error(f"{method} {type(exc).__name__}")
                continue
            if status == wanted:
                tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                tally.error(f"{method} HTTP {status}")
        previous = doc_id
        counter[0] = n + 1
        await asyncio.sleep(pause_s)
    if previous:
        try:
            await connection.request("DELETE", f"/documents/{previous}")
        except (OSError, asyncio.IncompleteReadError, ValueError):
            tally.error("DELETE at the end")
    connection.close()


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no RSS for process {pid}")


async def sample(pid: int, stop: asyncio.Event, rss: list[float], load: list[float], every_s: float = 1.0) -> None:
    while not stop.is_set():
        rss.append(rss_mib(pid))
        load.append(os.getloadavg()[0])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)


async def phase(
    port: int, pid: int, searches: int, concurrency: int, asked: itertools.cycle, pause_s: float, counter: list[int]
) -> dict:
    """One run of searches with the writer going; returns the tallies and samples."""
    reads, writes = Tally(), Tally()
    stop, done = asyncio.Event(), asyncio.Event()
    rss: list[float] = []
    load: list[float] = []
    sampler = asyncio.create_task(sample(pid, done, rss, load))
    writer = asyncio.create_task(write_load(port, stop, pause_s, writes, counter))
    started = time.perf_counter()
    await search_load(port, searches, concurrency, asked, reads)
    seconds = time.perf_counter() - started
    stop.set()
    await writer
    done.set()
    await sampler
    return {
        "seconds": round(seconds, 1),
        "searches_per_s": round(searches / seconds, 1),
        "searches": reads.summary(),
        "writes": writes.summary(),
        "rss_max_mib": round(max(rss), 1) if rss else None,
        # RSS at each tenth of the phase: growth that flattens is warm-up (allocator arenas of the
        # worker threads filling), growth that keeps its slope is a leak
        "rss_tenths_mib": [round(rss[min(len(rss) - 1, i * len(rss) // 10)], 1) for i in range(1, 11)] if rss else [],
        "load_average_mean": round(statistics.fmean(load), 2) if load else None,
        "load_average_max": round(max(load), 2) if load else None,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_ready(port: int, server: subprocess.Popen, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/ready", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--searches", type=int, default=10_000, help="measured searches (default 10000)")
    parser.add_argument("--warmup", type=int, default=1_000, help="searches before the measured ones (default 1000)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections searching at once (default 32)")
    parser.add_argument("--write-pause", type=float, default=0.2, help="seconds between one add+delete and the next")
    parser.add_argument("--index", type=Path, help="an existing index (default: a new one from --transcripts)")
    parser.add_argument("--transcripts", type=Path, default=ROOT / "examples", help="what a new index is built from")
    parser.add_argument("--out", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="set for the server (repeatable)"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="rag-loadtest-"))
    python = sys.executable
    env = dict(os.environ, RAG_LOG_LEVEL="WARNING")
    env.pop("RAG_API_KEYS", None)
    env.pop("RAG_API_KEYS_FILE", None)
    server_env = dict(env, **dict(item.split("=", 1) for item in args.server_env))
    index = args.index
    if index is None:
        index = workdir / "index"
        subprocess.run(
            [python, "-m", "rag.cli", "ingest", str(args.transcripts), "--index", str(index)],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    port = free_port()
    log = (workdir / "server.log").open("w")
    load_before = os.getloadavg()
    server = subprocess.Popen(
        [python, "-m", "rag.cli", "serve", "--index", str(index), "--port", str(port)],
        cwd=ROOT,
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(port, server)
        rss_start = rss_mib(server.pid)
        asked, counter = questions(), [0]
        warm = asyncio.run(phase(port, server.pid, args.warmup, args.concurrency, asked, args.write_pause, counter))
        rss_warm = rss_mib(server.pid)
        measured = asyncio.run(
            phase(port, server.pid, args.searches, args.concurrency, asked, args.write_pause, counter)
        )
        rss_end = rss_mib(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    figures = {
        "command": " ".join([Path(python).name, *sys.argv]),
        "searches": args.searches,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
        "server_env": args.server_env,
        "load_average_before": round(load_before[0], 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "warmup": warm,
        "measured": measured,
        "rss_mib": {
            "ready": round(rss_start, 1),
            "after_warmup": round(rss_warm, 1),
            "end": round(rss_end, 1),
            "growth_after_warmup_percent": round(100 * (rss_end - rss_warm) / rss_warm, 1),
        },
        "server_exit_status": server.returncode,
    }
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    if args.index is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
