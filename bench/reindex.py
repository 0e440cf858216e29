"""A reindex while questions are answered, on both backends: its time, the switch's, and what searches saw.

    python -m bench.reindex [--passages 20000] [--backends embedded,postgres]

bench.corpus's collection of about `--passages` passages (real transcripts, their vectors from the cache) is
written to a new index directory and to a new database on a scratch PostgreSQL server (tests.pgserver), then
`rag.reindex.reindex` re-embeds it with the CLS-pooled variant of the default model (the one other model this
machine has offline; tests.models) while a thread answers real questions (hybrid, k=10) in a loop (the
question cache off). The new vectors are computed once and reused for the second backend (same texts, same
model), so the second backend's reindex time is mostly its own staging and switch. Recorded per backend: the
whole reindex, the switch (Collection.switch: the last catch-up and the transaction; writers wait for it),
search latency before, during and after the switch, searches that failed, and whether every read after the
switch saw the new model (each search embeds its question with the model of the snapshot it reads). Numbers,
not pass/fail; saved to docs/bench-results/reindex/.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench.postgres import collection_documents, write_all
from bench.query import ROOT, machine, pct

OUT = ROOT / "docs" / "bench-results" / "reindex"


def run(index, new_embedder, embed, questions: list[str]) -> dict:
    from rag.reindex import reindex
    from rag.search import search

    spans: dict[str, float] = {}
    switch = index.collection.switch

    def timed_switch(catch_up):
        spans["switch_started"] = time.perf_counter()
        try:
            return switch(catch_up)
        finally:
            spans["switch_ended"] = time.perf_counter()

    index.collection.switch = timed_switch  # the bench's own stopwatch around the switch
    answers: list[tuple[float, float, str]] = []  # (started, seconds, model of the snapshot)
    failures: list[str] = []
    done = threading.Event()

    def asking() -> None:
        i = 0
        while not done.is_set():
            question = questions[i % len(questions)]
            i += 1
            started = time.perf_counter()
            try:
                search(index, question, k=10)
            except Exception as exc:  # a failed search is what is counted
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            with index.reading() as reader:
                model = reader.manifest.model
            answers.append((started, time.perf_counter() - started, model))

    thread = threading.Thread(target=asking)
    thread.start()
    time.sleep(5)  # searches before the reindex begins
    started = time.perf_counter()
    try:
        report = reindex(index, new_embedder, embed=embed)
        seconds = time.perf_counter() - started
        time.sleep(5)  # and after it
    finally:
        done.set()
        thread.join()
        index.collection.switch = switch
    before = [s for t, s, _ in answers if t < started]
    during = [s for t, s, _ in answers if started <= t < spans["switch_ended"]]
    at_switch = [s for t, s, _ in answers if spans["switch_started"] <= t < spans["switch_ended"]]
    after = [(s, m) for t, s, m in answers if t >= spans["switch_ended"]]
    return {
        "documents": report.documents,
        "segments": report.segments,
        "reindex_s": round(seconds, 1),
        "switch_s": round(spans["switch_ended"] - spans["switch_started"], 2),
        "searches": {
            "before": {"n": len(before), **pct(before)},
            "during": {"n": len(during), **pct(during), "max_ms": round(1000 * max(during, default=0), 1)},
            "while_switching": {"n": len(at_switch), "max_ms": round(1000 * max(at_switch, default=0), 1)},
            "after": {"n": len(after), **pct([s for s, _ in after])},
            "failed": len(failures),
            "failures": failures[:5],
            "after_all_new_model": all(m == new_embedder.name for _, m in after),
        },
    }


def main(argv: list[str] | None = None) -> None:
    from pydantic import SecretStr

    from bench.corpus import questions as real_questions
    from rag.config import Settings
    from rag.embedding import Embedder
    from rag.index import Index
    from rag.storage.postgres import DatabaseOptions
    from tests.models import cls_pooled_model
    from tests.pgserver import ScratchServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--backends", default="embedded,postgres")
    args = parser.parse_args(argv)

    docs = collection_documents(args.passages)
    options = Settings(query_cache_size=0).embedder_options()  # every question embedded, as a new one is
    embedder, new_embedder = Embedder(options=options), Embedder(cls_pooled_model(), options=options)
    questions = real_questions(200)
    made: dict[str, np.ndarray] = {}

    def embed(texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in made]
        if todo:
            made.update(zip(todo, new_embedder.encode_passages(todo), strict=True))
        return np.stack([made[t] for t in texts])

    result: dict = {
        "command": "python -m bench.reindex " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine_before": machine(),
        "documents": len(docs),
        "segments": sum(len(d.segments) for d in docs),
        "model": embedder.name,
        "new_model": "all-MiniLM-L6-v2, CLS-pooled (tests.models)",
        "backends": {},
    }
    server = ScratchServer() if "postgres" in args.backends else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for backend in args.backends.split(","):
                if backend == "postgres":
                    url = server.new_database("bench")
                    place = {"database": DatabaseOptions(SecretStr(url), statement_timeout_s=120)}
                else:
                    place = {"directory": Path(tmp) / "index"}
                index = Index.open(**place, create=True, embedder=embedder, embedder_options=options)
                write_all(index, docs)
                if backend == "postgres":
                    server.vacuum_analyze(url)
                print(f"{backend}: written, reindexing", file=sys.stderr)
                result["backends"][backend] = run(index, new_embedder, embed, questions)
                print(json.dumps(result["backends"][backend]), file=sys.stderr)
                index.close()
    finally:
        if server is not None:
            server.close()
    result["machine_after"] = machine()
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"reindex-{args.passages // 1000}k.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"-> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
