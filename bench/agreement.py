"""How far each question backend's vectors are from torch's: cosine, and top-10 overlap on a real collection.

    python -m bench.agreement --collection bench/.cache/collections/20k [--questions 400]

For real questions, the vector from each backend (torch fp32 = the reference, ONNX fp32, ONNX int8) is
compared with torch's (cosine), and the exact top 10 passages it finds in the collection (inner product
over the stored passage vectors) with torch's top 10 (overlap). Also CPU ms per question (one thread).
The retrieval-quality evaluation (MRR@10) belongs to the quality work; this says how much can move.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.corpus import questions
from bench.query import RESULTS, machine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=400)
    parser.add_argument("--label", default="after")
    args = parser.parse_args(argv)

    from rag.embedding import Embedder
    from rag.index import Index

    with Index.open(args.collection).reading() as reader:
        ids, matrix = reader.segment_vectors()
    qs = questions(args.questions)
    out = {"collection": str(args.collection), "passages": len(ids), "questions": len(qs), "machine": machine()}
    vectors, cpu = {}, {}
    for backend in ("torch", "onnx", "onnx-int8"):
        embedder = Embedder(backend=backend)
        embedder.encode_queries(qs[:5])
        rows, times = [], []
        for q in qs:
            started = time.thread_time()
            rows.append(embedder.encode_queries([q])[0])
            times.append(time.thread_time() - started)
        vectors[backend] = np.asarray(rows, dtype=np.float32)
        cpu[backend] = round(float(np.mean(times)) * 1000, 2)
    top = {b: np.argsort(-(v @ matrix.T), axis=1)[:, :10] for b, v in vectors.items()}
    for backend in ("onnx", "onnx-int8"):
        cosine = (vectors[backend] * vectors["torch"]).sum(axis=1)
        overlap = [len(set(a) & set(b)) / 10 for a, b in zip(top[backend], top["torch"], strict=True)]
        first = float(np.mean(top[backend][:, 0] == top["torch"][:, 0]))
        out[backend] = {
            "cosine_min": round(float(cosine.min()), 6),
            "cosine_mean": round(float(cosine.mean()), 6),
            "top10_overlap_mean": round(float(np.mean(overlap)), 4),
            "top10_overlap_min": round(float(np.min(overlap)), 2),
            "top1_same": round(first, 4),
            "cpu_ms_per_question": cpu[backend],
        }
    out["torch"] = {"cpu_ms_per_question": cpu["torch"]}
    target = RESULTS / args.label / f"agreement-{args.collection.name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
