"""Where the time of `rag.search.search` goes: cProfile over real questions, by function.

    python -m bench.profile --collection bench/.cache/collections/100k [--questions 200] [--mode hybrid]

Prints the functions with the most own time and the most cumulative time (per question, in ms), so the
report can say how much of a search is embedding, vector search, BM25, sqlite, highlighting.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from pathlib import Path

from bench.corpus import questions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collection", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)

    from rag.index import Index
    from rag.search import search

    index = Index.open(args.collection)
    qs = questions()
    for q in qs[-10:]:
        search(index, q, k=10, mode=args.mode)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for q in qs[: args.questions]:
        search(index, q, k=10, mode=args.mode)
    profiler.disable()
    per = (time.perf_counter() - started) * 1000 / args.questions
    print(f"{args.questions} questions, {per:.2f} ms each (with profiling overhead)")
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(key).print_stats(args.top)
        print(f"--- by {key} (seconds over all questions)")
        print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-6000:])


if __name__ == "__main__":
    main()
