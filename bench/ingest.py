"""Ingest speed: passages/s for 150-word passages, end to end (parse, chunk, embed, write).

    python -m bench.ingest [--passages 640] [--label after] [--env RAG_X=Y ...]

Transcript files are made from real press-conference text (else the examples): speaker turns of exactly
150 words, 32 turns a file, in the plain-text format. They are ingested by `rag.ingest.ingest_paths` into
a new index whose passages hold up to 254 tokens (the model's limit), so each turn is one passage of
about 200 tokens. The clock runs from the first file read to the last write (the model is loaded
before it starts; its load time is reported apart). Runs in a child process so the measured process
starts clean.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.query import PY, RESULTS, ROOT, machine

WORDS = 150
TURNS_PER_FILE = 32


def make_files(directory: Path, passages: int) -> None:
    from bench.corpus import DATA

    sources = sorted((DATA / "presscon-sample" / "transcripts_txt").glob("*.txt")) or sorted(
        (ROOT / "examples").glob("*.txt")
    )
    words: list[str] = []
    for path in sources:
        for line in path.read_text().splitlines()[1:]:
            _, sep, text = line.partition(": ")
            words.extend((text if sep else line).split())
    speakers = ("Question", "Anna Keller")
    at = 0
    for f in range(0, passages, TURNS_PER_FILE):
        turns = []
        for t in range(min(TURNS_PER_FILE, passages - f)):
            chunk = [words[(at + i) % len(words)] for i in range(WORDS)]
            at += WORDS
            turns.append(f"{speakers[t % 2]}: {' '.join(chunk)}")
        (directory / f"briefing_{f // TURNS_PER_FILE:04d}.txt").write_text(
            f"Briefing number {f // TURNS_PER_FILE}, Riverton, 2 June 2026\n\n" + "\n\n".join(turns) + "\n"
        )


def child(passages: int) -> dict:
    from rag.embedding import Embedder
    from rag.index import Index
    from rag.ingest import ingest_paths

    with tempfile.TemporaryDirectory() as tmp:
        files = Path(tmp) / "files"
        files.mkdir()
        make_files(files, passages)
        started = time.perf_counter()
        embedder = Embedder()
        loaded = time.perf_counter() - started
        index = Index.open(Path(tmp) / "index", create=True, embedder=embedder, passage_tokens=254)
        import resource

        started, cpu_started = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        report = ingest_paths(index, [files])
        seconds = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (usage.ru_utime - cpu_started.ru_utime) + (usage.ru_stime - cpu_started.ru_stime)
        tokens = embedder.count_tokens([f.read_text().split("\n\n")[1] for f in sorted(files.iterdir())[:8]])
    return {
        "files": report.documents,
        "passages": report.passages,
        "words_per_passage": WORDS,
        "tokens_per_passage_sample": round(sum(tokens) / len(tokens), 1),
        "model_load_s": round(loaded, 2),
        "seconds": round(seconds, 2),
        "passages_per_s": round(report.passages / seconds, 1),
        # robust to a busy machine: CPU seconds the ingest used (all its threads), per passage
        "cpu_ms_per_passage": round(cpu * 1000 / report.passages, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=640)
    parser.add_argument("--label", default="after")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the measured process")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.passages)))
        return
    env = dict(e.split("=", 1) for e in args.env)
    before = machine()
    run = subprocess.run(
        [PY, "-m", "bench.ingest", "--passages", str(args.passages), "--child"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    if run.returncode:
        raise SystemExit(run.stderr[-3000:])
    result = {
        "label": args.label,
        "command": "python -m bench.ingest " + " ".join(argv if argv is not None else sys.argv[1:]),
        "env": env,
        "machine_before": before,
        **json.loads(run.stdout.strip().splitlines()[-1]),
        "machine_after": machine(),
    }
    out_dir = RESULTS / args.label
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ingest.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
