"""Ingest speed: `rag ingest` of a folder against a plain embedding loop on the same text, in one run.

    python -m bench.ingest [--folder DIR] [--files 35] [--rounds 2] [--label after]
        [--env NAME=VALUE ...] [--variant NAME:KEY=VALUE,... ...]

The folder (default: the QMSum dev meetings) gives `--files` transcripts, every n-th in name order so
that the three QMSum domains are all in. Each round runs, each in a new process so that interpreter
start, imports and model load are counted for both:

- plain: what a plain script would do with the same text: `SentenceTransformer(model)`,
  `encode(texts, batch_size=32, normalize_embeddings=True)` file by file (fp32, torch's default threads),
  each file's vectors added to a FAISS flat inner-product index, written to disk at the end. Its texts
  are exactly the segments `rag ingest` embeds (made by the project's chunker before the clock starts,
  so the plain loop is not charged for parsing or chunking);
- rag: `python -m rag.cli ingest FOLDER --index NEW` (parse, chunk, embed, SQLite store, BM25, FAISS,
  manifest), into a new index each time;
- any `--variant`: rag again with other settings, e.g. `fp32:RAG_EMBED_PRECISION=fp32`, or another
  checkout's code (`src=DIR`: `rag ingest` run from DIR), e.g. `before:src=/tmp/base`.

Runs alternate and the order flips every round (plain, rag, ... then ..., rag, plain), so a neighbour's
load weighs on both sides alike; each run records the load average before and after it, its wall time
(spawn to exit), its CPU time and its peak RSS. Words are whitespace words of the files, the same
number for every run; words/s = words / wall seconds. The summary gives each side's median and the
ratio of medians to the plain loop, and the ratio per round (a run against the plain run next to it).
Results: bench/results/<label>/ingest.json (kept ones in docs/bench-results/).
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

from bench.query import PY, RESULTS, ROOT, machine

QMSUM = Path("/work/shared/data/qmsum-dev/transcripts_txt")
PLAIN_BATCH = 32


def pick_files(folder: Path, count: int) -> list[Path]:
    """Every n-th supported file of the folder in name order, `count` of them (all when fewer)."""
    from rag.ingest import find_transcripts

    files, _ = find_transcripts([folder])
    step = max(1, len(files) // count)
    return files[::step][:count]


def plain_texts(files: list[Path]) -> list[list[str]]:
    """Each file's segment texts, made by the project's own parser and chunker, as `rag ingest` embeds them."""
    from rag.index import DEFAULT_OVERLAP_TOKENS, DEFAULT_SEGMENT_TOKENS, Index
    from rag.ingest import document_id, prepare
    from rag.parsing import read_transcript

    with tempfile.TemporaryDirectory() as tmp:
        index = Index.open(Path(tmp) / "ix", create=True)
        assert (index.segment_tokens, index.overlap_tokens) == (DEFAULT_SEGMENT_TOKENS, DEFAULT_OVERLAP_TOKENS)
        out = []
        for path in files:
            prepared = prepare(index, read_transcript(path), document_id(path))
            out.append([segment.text for segment in prepared.segments])
    return out


def plain_child(texts_file: Path, out_file: Path) -> None:
    """The plain loop (runs in its own process; the parent times it from spawn to exit)."""
    import faiss
    from sentence_transformers import SentenceTransformer

    from rag.embedding import resolve_model

    model = SentenceTransformer(resolve_model("all-MiniLM-L6-v2"), device="cpu")
    index = faiss.IndexFlatIP(model.get_embedding_dimension())
    for texts in json.loads(texts_file.read_text()):
        index.add(model.encode(texts, batch_size=PLAIN_BATCH, normalize_embeddings=True))
    faiss.write_index(index, str(out_file))
    print(json.dumps({"vectors": index.ntotal}))


def timed(argv: list[str], *, cwd: Path, env: dict[str, str]) -> dict:
    """Run a command; its wall time from spawn to exit, its CPU time and peak RSS (from wait4)."""
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}):\n{stderr[-3000:]}")
    return {
        "seconds": round(seconds, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "stdout_tail": stdout.strip().splitlines()[-1:] if stdout.strip() else [],
    }


def parse_variant(spec: str) -> tuple[str, Path, dict[str, str]]:
    """NAME:KEY=VALUE,... -> (name, source checkout, environment); key `src` is the checkout."""
    name, _, rest = spec.partition(":")
    settings = dict(item.split("=", 1) for item in rest.split(",") if item)
    source = Path(settings.pop("src", ROOT)).resolve()
    return name, source, settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=QMSUM)
    parser.add_argument("--files", type=int, default=35)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--label", default="after")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for every measured process")
    parser.add_argument("--variant", action="append", default=[], help="NAME:KEY=VALUE,... another rag run")
    parser.add_argument("--no-plain", action="store_true", help="compare rag variants only")
    parser.add_argument("--plain-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plain_child:
        plain_child(*args.plain_child)
        return

    base_env = {**os.environ, **dict(e.split("=", 1) for e in args.env)}
    files = pick_files(args.folder, args.files)
    words = sum(len(path.read_text(errors="replace").split()) for path in files)
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        folder = work / "files"
        folder.mkdir()
        for path in files:
            (folder / path.name).symlink_to(path.resolve())
        texts_file = work / "texts.json"
        texts = plain_texts(files)
        texts_file.write_text(json.dumps(texts))
        sides: list[tuple[str, list[str], Path, dict[str, str]]] = []
        if not args.no_plain:
            plain = [PY, "-m", "bench.ingest", "--plain-child", str(texts_file), str(work / "plain.faiss")]
            sides.append(("plain", plain, ROOT, {}))
        for name, source, settings in [("rag", ROOT, {}), *map(parse_variant, args.variant)]:
            sides.append((name, [PY, "-m", "rag.cli", "ingest", str(folder)], source, settings))
        for round_ in range(args.rounds):
            order = sides if round_ % 2 == 0 else sides[::-1]
            for name, command, cwd, settings in order:
                index_dir = work / f"ix-{name}-{round_}"
                argv_ = command if name == "plain" else [*command, "--index", str(index_dir)]
                result = timed(argv_, cwd=cwd, env={**base_env, **settings})
                result.update(side=name, round=round_, words_per_s=round(words / result["seconds"], 1))
                runs.append(result)
                print(
                    f"round {round_} {name:>8}: {result['words_per_s']:8.1f} words/s  {result['seconds']:7.2f} s"
                    f"  cpu {result['cpu_s']:7.2f} s  load {result['load_before'][0]:.2f} -> "
                    f"{result['load_after'][0]:.2f}",
                    flush=True,
                )
    summary = summarise(runs, [name for name, *_ in sides])
    result = {
        "label": args.label,
        "command": "python -m bench.ingest " + " ".join(argv if argv is not None else sys.argv[1:]),
        "env": dict(e.split("=", 1) for e in args.env),
        "variants": args.variant,
        "machine": machine(),
        "folder": str(args.folder),
        "files": [p.name for p in files],
        "words": words,
        "segments": sum(len(t) for t in texts),
        "runs": runs,
        "summary": summary,
    }
    out_dir = RESULTS / args.label
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ingest.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({"words": words, "segments": result["segments"], "summary": summary}, indent=2))


def summarise(runs: list[dict], names: list[str]) -> dict:
    """Median words/s per side; each rag side's ratio to the plain loop (of medians, and per round)."""
    out: dict[str, dict] = {}
    for name in names:
        mine = [r for r in runs if r["side"] == name]
        out[name] = {
            "words_per_s_median": round(statistics.median(r["words_per_s"] for r in mine), 1),
            "seconds": [r["seconds"] for r in mine],
            "cpu_s": [r["cpu_s"] for r in mine],
            "load_1min": [r["load_before"][0] for r in mine],
        }
    if "plain" in out:
        plain = out["plain"]["words_per_s_median"]
        for name in names:
            if name == "plain":
                continue
            per_round = [
                round(r["words_per_s"] / p["words_per_s"], 2)
                for r in runs
                if r["side"] == name
                for p in runs
                if p["side"] == "plain" and p["round"] == r["round"]
            ]
            out[name]["ratio_to_plain"] = round(out[name]["words_per_s_median"] / plain, 2)
            out[name]["ratio_per_round"] = per_round
            cpu = statistics.median(out["plain"]["cpu_s"]) / statistics.median(out[name]["cpu_s"])
            out[name]["cpu_ratio_to_plain"] = round(cpu, 2)
    return out


if __name__ == "__main__":
    main()
