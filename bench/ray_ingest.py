"""Ingest on Ray against the local ingest, same files, same machine: throughput and Ray's overhead.

    python -m bench.ray_ingest [--passages 320] [--runs 2] [--cpus 2]

Files of 150-word turns (bench.ingest's, from real press-conference text where /work/shared/data has it,
else the examples) are ingested into a new index by `rag.ingest.ingest_paths` (local) and by
`rag.cluster.ingest.ingest_paths_on_ray` on a Ray started in the measuring process with `--cpus` CPUs
(`rag ingest --ray local`), alternately, each run in a child process of its own. The clock runs from the
first file read to the last write; Ray's start-up (ray.init) is timed apart, the pipeline's own start
(actors and their model loads) is inside the clock, as a user waits for it. The time spent writing
(Index.apply) is measured too: it is the rate a cluster of any size cannot exceed. Numbers, not pass/fail;
saved to docs/bench-results/ray/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import make_files
from bench.query import PY, ROOT, machine

OUT = ROOT / "docs" / "bench-results" / "ray"


def child(mode: str, passages: int, cpus: int) -> dict:
    from rag.embedding import Embedder
    from rag.index import Index
    from rag.ingest import ingest_paths

    with tempfile.TemporaryDirectory() as tmp:
        files = Path(tmp) / "files"
        files.mkdir()
        make_files(files, passages)
        embedder = Embedder()
        index = Index.open(Path(tmp) / "index", create=True, embedder=embedder)
        writing = [0.0]
        apply = index.apply

        def timed_apply(*args, **kwargs) -> None:
            started = time.perf_counter()
            apply(*args, **kwargs)
            writing[0] += time.perf_counter() - started

        index.apply = timed_apply  # the bench's own stopwatch around each batch written
        ray_start = 0.0
        if mode == "ray":
            from rag.cluster import connect
            from rag.cluster.ingest import Placement, ingest_paths_on_ray

            started = time.perf_counter()
            cluster = connect("local", cpus=cpus)
            ray_start = time.perf_counter() - started
            placement = Placement.on(cluster, None, 1)
            started = time.perf_counter()
            report = ingest_paths_on_ray(index, [files], placement=placement)
        else:
            started = time.perf_counter()
            report = ingest_paths(index, [files])
        seconds = time.perf_counter() - started
    return {
        "mode": mode,
        "documents": report.documents,
        "passages": report.passages,
        "segments": report.segments,
        "ray_start_s": round(ray_start, 2),
        "seconds": round(seconds, 2),
        "segments_per_s": round(report.segments / seconds, 1),
        "write_s": round(writing[0], 3),
        "write_segments_per_s": round(report.segments / writing[0], 0) if writing[0] else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=320)
    parser.add_argument("--runs", type=int, default=2, help="runs of each mode, alternating")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    parser.add_argument("--child", choices=["local", "ray"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.passages, args.cpus)))
        return
    before = machine()
    runs = []
    for _ in range(args.runs):
        for mode in ("local", "ray"):
            run = subprocess.run(
                [
                    PY,
                    "-m",
                    "bench.ray_ingest",
                    "--passages",
                    str(args.passages),
                    "--cpus",
                    str(args.cpus),
                    "--child",
                    mode,
                ],
                cwd=ROOT,
                env=os.environ,
                capture_output=True,
                text=True,
            )
            if run.returncode:
                raise SystemExit(run.stderr[-3000:])
            runs.append(json.loads(run.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]), flush=True)
    median = {
        mode: {
            key: statistics.median(r[key] for r in runs if r["mode"] == mode)
            for key in ("seconds", "segments_per_s", "ray_start_s", "write_s", "write_segments_per_s")
        }
        for mode in ("local", "ray")
    }
    result = {
        "command": "python -m bench.ray_ingest " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine_before": before,
        "runs": runs,
        "median": median,
        "ray_over_local_time": round(median["ray"]["seconds"] / median["local"]["seconds"], 2),
        "machine_after": machine(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ingest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("median", "ray_over_local_time")}, indent=2))


if __name__ == "__main__":
    main()
