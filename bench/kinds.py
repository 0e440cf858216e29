"""Vector index kinds on a collection's own vectors: recall@10 against exact search, latency, size, build time.

    python -m bench.kinds --collection bench/.cache/collections/100k [--kinds flat,sq8,ivf-sq8] [--nprobe 8,16,32,64]

Questions are real questions embedded by the model; each search is one question on one thread, as the
service runs it. Recall@10 is the share of the exact top 10 (inner product over the float32 vectors) that
the kind returns. This is what sets `FLAT_MAX` and `default_nprobe` in rag/storage/embedded/vectors.py (a base's index).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import faiss
import numpy as np

from bench.corpus import questions
from bench.query import RESULTS, machine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, required=True)
    parser.add_argument("--kinds", default="flat,sq8,ivf-sq8")
    parser.add_argument("--nprobe", default="8,16,32,64,128")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--label", default="after")
    args = parser.parse_args(argv)

    from rag.embedding import Embedder
    from rag.index import Index
    from rag.storage.embedded.vectors import VectorIndex

    with Index.open(args.collection).reading() as reader:
        ids, matrix = reader.segment_vectors()
    embedder = Embedder()
    qs = embedder.encode_queries(questions(args.questions))
    exact = faiss.IndexFlatIP(matrix.shape[1])
    exact.add(matrix)
    _, truth_rows = exact.search(qs, 10)
    truth = ids[truth_rows]
    out = {"collection": str(args.collection), "vectors": len(ids), "machine": machine(), "kinds": []}

    def measure(index: VectorIndex, label: str, **extra) -> None:
        for q in qs[:10]:
            index.search(q, 10)
        times, found = [], []
        for q in qs:
            t = time.perf_counter()
            _, f = index.search(q, 10)
            times.append(time.perf_counter() - t)
            found.append(f[0])
        recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
        row = {
            "kind": label,
            **extra,
            "recall_at_10": round(float(recall), 4),
            "p50_ms": round(float(np.percentile(times, 50)) * 1000, 3),
            "p99_ms": round(float(np.percentile(times, 99)) * 1000, 3),
        }
        out["kinds"].append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)

    for kind in filter(None, args.kinds.split(",")):
        started = time.perf_counter()
        index = VectorIndex.build(matrix.shape[1], ids, matrix, kind=kind)
        built = round(time.perf_counter() - started, 1)
        path = RESULTS / f".kinds-{kind}.faiss"
        path.parent.mkdir(parents=True, exist_ok=True)
        index.save(path)
        size_mb = round(path.stat().st_size / 2**20, 1)
        path.unlink()
        if index.nprobe is None:
            measure(index, kind, build_s=built, file_mb=size_mb)
            continue
        default = index.nprobe
        for nprobe in sorted({*(int(x) for x in args.nprobe.split(",")), default}):
            index.nprobe = nprobe
            measure(
                index,
                kind,
                nprobe=nprobe,
                nlist=index.describe()["nlist"],
                default=nprobe == default,
                build_s=built,
                file_mb=size_mb,
            )
    target = RESULTS / args.label / f"kinds-{args.collection.name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
