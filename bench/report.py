"""Tables (markdown) and plots (PNG in docs/) from bench/results/<label>/*.json.

python -m bench.report [--labels before,after] [--peer txtai] [--plots]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.query import RESULTS, ROOT

SIZES = ("20k", "100k", "1m")


def load(label: str) -> dict[str, dict]:
    folder = RESULTS / label
    out = {}
    for name in (*SIZES, "ingest"):
        path = folder / f"{name}.json"
        if path.exists():
            out[name] = json.loads(path.read_text())
    return out


def level(result: dict, c: int) -> dict | None:
    return next((x for x in result.get("http", {}).get("levels", []) if x["concurrency"] == c), None)


def fmt(value, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        value = f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return f"{value}{unit}"


def table(labels: list[str]) -> str:
    rows = [
        "| run | passages | vector index | embed p50 / p99 | vector search p50 | BM25 p50 | search() p50 / p99"
        " | HTTP c=1 p50 / p99 | c=4 req/s | c=16 req/s (p99) | server CPU/request | cold start | peak RSS"
        " | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label in labels:
        results = load(label)
        for size in SIZES:
            r = results.get(size)
            if not r:
                continue
            inproc = r.get("inproc", {})
            c1, c4, c16 = level(r, 1), level(r, 4), level(r, 16)
            http = r.get("http", {})
            loads = f"{r['machine_before']['load_average'][0]:.1f}–{r['machine_after']['load_average'][0]:.1f}"
            rows.append(
                f"| {label} | {inproc.get('passages', size)} | {inproc.get('vector_index', '?')}"
                f" | {fmt(inproc.get('embed', {}).get('p50_ms'))} / {fmt(inproc.get('embed', {}).get('p99_ms'))} ms"
                f" | {fmt(inproc.get('vector_search', {}).get('p50_ms'))} ms"
                f" | {fmt(inproc.get('lexical_search', {}).get('p50_ms'))} ms"
                f" | {fmt(inproc.get('search_total', {}).get('p50_ms'))} /"
                f" {fmt(inproc.get('search_total', {}).get('p99_ms'))} ms"
                f" | {fmt(c1 and c1['p50_ms'])} / {fmt(c1 and c1['p99_ms'])} ms"
                f" | {fmt(c4 and c4['rps'])}"
                f" | {fmt(c16 and c16['rps'])} ({fmt(c16 and c16['p99_ms'])} ms)"
                f" | {fmt(c16 and c16.get('server_cpu_ms_per_request'), ' ms')}"
                f" | {fmt(http.get('cold_start_s'), ' s')} | {fmt(http.get('peak_rss_mb'), ' MB')} | {loads} |"
            )
    return "\n".join(rows)


def ingest_table(labels: list[str]) -> str:
    """`bench.ingest`'s runs: each side's median words/s, its ratio to the plain loop, CPU, load."""
    rows = [
        "| run | side | files (words, segments) | words/s (median) | ratio to plain (per round) | wall s | CPU s"
        " | load avg (1 min, at start) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label in labels:
        r = load(label).get("ingest")
        if not r or "summary" not in r:
            continue
        for side, s in r["summary"].items():
            ratio = "" if side == "plain" else f"{s['ratio_to_plain']} ({', '.join(map(str, s['ratio_per_round']))})"
            rows.append(
                f"| {label} | {side} | {len(r['files'])} ({r['words']:,}, {r['segments']:,})"
                f" | {s['words_per_s_median']:,.0f} | {ratio} | {' / '.join(map(str, s['seconds']))}"
                f" | {' / '.join(map(str, s['cpu_s']))} | {' / '.join(map(str, s['load_1min']))} |"
            )
    return "\n".join(rows)


def peer_table(peer: str, ours: str) -> str:
    path = RESULTS / peer / "100k.json"
    if not path.exists():
        return ""
    p = json.loads(path.read_text())
    o = load(ours).get("100k", {})
    rows = [
        "| 100k passages | in-process search p50 / p99 | HTTP c=1 p50 | c=1 req/s | c=4 req/s"
        " | c=16 req/s (p99) | server CPU/request (c=16) | cold start | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in ((peer, p), (ours, o)):
        inproc = r.get("inproc", {}).get("search_total", {})
        c1, c4, c16 = level(r, 1), level(r, 4), level(r, 16)
        http = r.get("http", {})
        rows.append(
            f"| {name} | {fmt(inproc.get('p50_ms'))} / {fmt(inproc.get('p99_ms'))} ms | {fmt(c1 and c1['p50_ms'])} ms"
            f" | {fmt(c1 and c1['rps'])} | {fmt(c4 and c4['rps'])}"
            f" | {fmt(c16 and c16['rps'])} ({fmt(c16 and c16['p99_ms'])} ms)"
            f" | {fmt(c16 and c16.get('server_cpu_ms_per_request'), ' ms')}"
            f" | {fmt(http.get('cold_start_s'), ' s')} | {fmt(http.get('peak_rss_mb'), ' MB')} |"
        )
    ratios = dict(p.get("ratios_ours_to_txtai", {}))
    ours16, peer16 = level(o, 16) if o else None, level(p, 16)
    if ours16 and peer16 and ours16.get("server_cpu_ms_per_request") and peer16.get("server_cpu_ms_per_request"):
        ratios["server_cpu_per_request_ratio"] = round(
            ours16["server_cpu_ms_per_request"] / peer16["server_cpu_ms_per_request"], 3
        )
    if ratios:
        rows.append("")
        rows.append("Ratios, ours / txtai: " + ", ".join(f"{k} {v}" for k, v in ratios.items()))
    return "\n".join(rows)


def plots(labels: list[str], peer: str | None) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    sizes = {"20k": 20_000, "100k": 100_000, "1m": 1_000_000}
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label in labels:
        results = load(label)
        xs, http1, inproc = [], [], []
        for size in SIZES:
            r = results.get(size)
            if r and level(r, 1):
                xs.append(sizes[size])
                http1.append(level(r, 1)["p50_ms"])
                inproc.append(r.get("inproc", {}).get("search_total", {}).get("p50_ms"))
        if xs:
            ax.plot(xs, http1, marker="o", label=f"{label}: HTTP p50, 1 client")
            ax.plot(xs, inproc, marker="s", linestyle="--", label=f"{label}: search() p50 in-process")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passages")
    ax.set_ylabel("latency (ms)")
    ax.set_title("Latency against collection size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    first = docs / "speed-latency-vs-size.png"
    fig.savefig(first, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    series = [(label, load(label).get("100k")) for label in labels]
    if peer and (RESULTS / peer / "100k.json").exists():
        series.append((peer, json.loads((RESULTS / peer / "100k.json").read_text())))
    for name, r in series:
        if r and "http" in r:
            levels = r["http"]["levels"]
            ax.plot([x["concurrency"] for x in levels], [x["rps"] for x in levels], marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("concurrent clients (keep-alive)")
    ax.set_ylabel("requests/s")
    ax.set_title("Throughput against concurrency, 100k passages")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    second = docs / "speed-throughput.png"
    fig.savefig(second, dpi=110)
    plt.close(fig)
    return [first, second]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", default="before,after")
    parser.add_argument("--peer", default="txtai")
    parser.add_argument("--plots", action="store_true")
    args = parser.parse_args(argv)
    labels = [x for x in args.labels.split(",") if (RESULTS / x).exists()]
    print(table(labels))
    print()
    print(ingest_table(labels))
    print()
    print(peer_table(args.peer, labels[-1] if labels else "after"))
    if args.plots:
        for path in plots(labels, args.peer):
            print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
