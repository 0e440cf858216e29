"""HTTP load generator: N keep-alive connections, each sending one request after another, for a fixed time.

    python -m bench.load --port 8000 --concurrency 16 --duration 15 [--requests 5000] [--style rag|txtai]

Runs in its own process (so it does not share the server's interpreter) on asyncio streams with
hand-written HTTP/1.1, which costs far less CPU per request than an HTTP client library: on a 2-core
machine the load generator takes CPU from the server, and that share is kept small. Questions are
distinct and taken in order across all connections. Prints one JSON object: requests, errors,
requests/s, latency percentiles in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
import urllib.parse

import numpy as np

from bench.corpus import questions


def request_bytes(style: str, host: str, port: int, question: str, k: int) -> bytes:
    if style == "txtai":
        target = "/search?" + urllib.parse.urlencode({"query": question, "limit": k})
        return f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    body = json.dumps({"query": question, "k": k}).encode()
    head = (
        f"POST /search HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes) -> int:
    writer.write(payload)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next((int(v) for k, _, v in (x.partition(":") for x in lines[1:]) if k.lower() == "content-length"), None)
    if length is None:  # chunked: read to the terminating chunk
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return status


async def run(args: argparse.Namespace) -> dict:
    pool = questions()[args.offset :] or questions()
    payloads = [request_bytes(args.style, args.host, args.port, q, args.k) for q in pool]
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.perf_counter() + args.duration

    async def worker() -> None:
        nonlocal sent, errors
        reader, writer = await asyncio.open_connection(args.host, args.port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while time.perf_counter() < deadline and sent < args.requests:
                payload = payloads[sent % len(payloads)]
                sent += 1
                started = time.perf_counter()
                status = await one(reader, writer, payload)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - began
    ms = np.asarray(latencies) * 1000
    return {
        "concurrency": args.concurrency,
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2) if len(ms) else None,
        "p90_ms": round(float(np.percentile(ms, 90)), 2) if len(ms) else None,
        "p99_ms": round(float(np.percentile(ms, 99)), 2) if len(ms) else None,
        "max_ms": round(float(ms.max()), 2) if len(ms) else None,
        "slower_than_slow_ms": int((ms > args.slow_ms).sum()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--offset", type=int, default=0, help="first question to use")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--style", choices=("rag", "txtai"), default="rag")
    parser.add_argument("--slow-ms", type=float, default=2000.0, help="count the requests slower than this")
    print(json.dumps(asyncio.run(run(parser.parse_args(argv)))))


if __name__ == "__main__":
    main()
