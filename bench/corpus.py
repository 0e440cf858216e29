"""Benchmark collections of about 20k, 100k and 1M passages, written as index directories the service opens.

    python -m bench.corpus --sizes 20k,100k,1m            # -> bench/.cache/collections/{20k,100k,1m}

The base is real: transcripts from /work/shared/data (QMSum meetings and kremlin.ru press conferences,
interleaved) or, without them, examples/, parsed and chunked by the project's own code and embedded by
the model, once, until about 20,000 passages (the vectors cached in bench/.cache/base.npz, next to the
ids of the documents they belong to; the documents are parsed and chunked again on each run). The 20k collection is that
base as it is. Larger collections repeat it; copy c >= 1 of every document is varied so that copies are
neither duplicates nor far from the real distribution:

- text: of each passage, one word in eight (chosen by a seeded RNG) is dropped, and one pair of
  neighbouring words is swapped, so BM25 sees near-duplicates with different term statistics;
- vector: v' = normalise(v + 0.35 * g / sqrt(384)), g ~ N(0, I) seeded per copy and passage; the copy
  keeps a cosine of about 0.94 to its real vector (near-duplicates around real points, as overlapping
  windows of one turn are), so approximate indexes are tested where they are weakest;
- document: id `<id>~<c>`, title suffixed ` (copy c)`, date moved c*7 days, speakers and roles kept
  (a speaker filter selects all copies, as it would across years of briefings).

Collections are written as `rag ingest` writes (Index.apply: one transaction per document), with the
vectors given rather than embedded, then one base (FAISS vectors and BM25 postings) is built over all of
it, so the directory is what `rag serve` opens.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.chunking import index_text

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
DATA = Path("/work/shared/data")
SIZES = {"20k": 20_000, "100k": 100_000, "1m": 1_000_000}
NOISE = 0.35


def source_files() -> list[Path]:
    """Real transcripts, press conferences and meetings interleaved; else the bundled examples."""
    press = sorted((DATA / "presscon-sample" / "transcripts_txt").glob("*.txt"))
    meetings = sorted((DATA / "qmsum-dev" / "transcripts_txt").glob("*.txt"))
    if not press and not meetings:
        return sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in {".txt", ".json"})
    out: list[Path] = []
    for i in range(max(len(press), len(meetings))):
        out.extend(x[i] for x in (press, meetings) if i < len(x))
    return out


def questions(n: int | None = None, seed: int = 7) -> list[str]:
    """Real questions: QMSum's queries and the press conferences' journalists' questions, shuffled."""
    found: list[str] = []
    for path in (DATA / "qmsum-dev" / "queries.jsonl", DATA / "presscon-sample" / "queries.jsonl"):
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    found.append(" ".join(json.loads(line)["query"].split())[:1000])
    if not found:
        found = [
            "Why did the administration turn down the hotel tax?",
            "What did Lavrov say about the phone call between Putin and Trump?",
            "Will there be enough gas this winter?",
            "What did the minister say about bus fares?",
        ]
    found = list(dict.fromkeys(found))
    random.Random(seed).shuffle(found)
    return found[:n] if n else found


def build_base(target: int = 20_000, path: Path = CACHE / "base.npz") -> list:
    """Parse and chunk real transcripts until `target` passages, and embed their segments (cached)."""
    import tempfile

    from rag.embedding import Embedder
    from rag.index import Index
    from rag.ingest import document_id, embed_all, prepare
    from rag.parsing import read_transcript

    embedder = Embedder()
    docs = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Index.open(Path(tmp) / "scratch", create=True, embedder=embedder)
        total = 0
        for file in source_files():
            prepared = prepare(scratch, read_transcript(file), document_id(file))
            if not prepared.passages:
                continue
            docs.append(prepared)
            total += len(prepared.passages)
            if total >= target:
                break
        ids = [d.doc.id for d in docs]
        if path.exists():
            cached = np.load(path, allow_pickle=False)
            if cached["doc_ids"].tolist() == ids and len(cached["vectors"]) == sum(len(d.segments) for d in docs):
                first = 0
                for doc in docs:
                    doc.vectors[:] = cached["vectors"][first : first + len(doc.segments)]
                    first += len(doc.segments)
                return docs
        started, done = time.perf_counter(), [0]

        def progress(n: int) -> None:
            done[0] += n
            if done[0] % 1024 < n:
                rate = done[0] / (time.perf_counter() - started)
                print(f"  embedded {done[0]} segments ({total} passages), {rate:.0f}/s", file=sys.stderr, flush=True)

        embed_all(scratch, docs, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, doc_ids=np.array(ids), vectors=np.concatenate([d.vectors for d in docs]))
    return docs


def vary_text(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) < 4:
        return text
    kept = [w for w in words if rng.random() >= 1 / 8] or words
    if len(kept) > 2:
        i = rng.randrange(len(kept) - 1)
        kept[i], kept[i + 1] = kept[i + 1], kept[i]
    return " ".join(kept)


def vary_vectors(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noisy = vectors + NOISE * rng.standard_normal(vectors.shape, dtype=np.float32) / np.sqrt(vectors.shape[1])
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def copy_of(prepared, c: int):
    """Copy c of a prepared document (c = 0 is the real one)."""
    if c == 0:
        return prepared
    seed = zlib.crc32(f"{prepared.doc.id}~{c}".encode())
    rng = random.Random(seed)
    doc_id = f"{prepared.doc.id}~{c}"
    date = prepared.doc.date
    if date:
        date = (dt.date.fromisoformat(date) + dt.timedelta(days=7 * c)).isoformat()
    doc = replace(prepared.doc, id=doc_id, title=f"{prepared.doc.title} (copy {c})", date=date)
    passages = [replace(p, doc_id=doc_id, text=vary_text(p.text, rng)) for p in prepared.passages]
    segments = [
        replace(s, text=index_text([(p.speaker, p.text) for p in passages[s.first : s.last + 1]]))
        for s in prepared.segments
    ]
    vectors = vary_vectors(prepared.vectors, np.random.default_rng(seed))
    return replace(
        prepared,
        doc=doc,
        passages=passages,
        segments=segments,
        vectors=vectors,
        content_hash=f"{prepared.content_hash}~{c}",
    )


def write_collection(base: list, directory: Path, size: int) -> dict:
    """An index directory of about `size` passages (whole documents) built from the base."""
    from rag.embedding import Embedder
    from rag.index import Index
    from rag.storage.embedded.collection import EmbeddedOptions

    if (directory / "manifest.json").exists():
        raise SystemExit(f"{directory} exists: remove it first")
    started = time.perf_counter()
    embedder = Embedder()  # the manifest records its name and dimension
    # no base is built while writing (rebuild_after out of reach): one is built over everything at the end
    index = Index.open(directory, create=True, embedder=embedder, embedded=EmbeddedOptions(rebuild_after=10**12))
    written, c, pending = 0, 0, []
    while written < size:
        for prepared in base:
            if written >= size:
                break
            pending.append(copy_of(prepared, c))
            written += len(pending[-1].passages)
            if sum(len(d.passages) for d in pending) >= 20_000:
                index.apply(add=pending)
                pending = []
                print(f"  {directory.name}: {written} passages", file=sys.stderr, flush=True)
        c += 1
    index.apply(add=pending)
    stored = time.perf_counter() - started
    index.collection.compact()
    stats = index.stats()
    return {
        "directory": str(directory),
        "passages": stats["passages"],
        "segments": stats["segments"],
        "documents": stats["documents"],
        "copies": c,
        "store_seconds": round(stored, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "storage": index.collection.describe(),
    }


def rederive(directory: Path) -> dict:
    """Build the collection's base (FAISS vectors, BM25 postings) again, with the code that runs this."""
    from rag.index import Index

    started = time.perf_counter()
    index = Index.open(directory)
    index.collection.compact(force=True)
    return {
        "directory": str(directory),
        "segments": index.stats()["segments"],
        "storage": index.collection.describe(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rederive", type=Path, nargs="*", help="collection directories to build the base of again")
    parser.add_argument("--sizes", default="20k,100k,1m", help="comma-separated: 20k, 100k, 1m")
    parser.add_argument("--out", type=Path, default=CACHE / "collections")
    parser.add_argument("--base-passages", type=int, default=20_000)
    args = parser.parse_args(argv)
    if args.rederive:
        for directory in args.rederive:
            print(json.dumps(rederive(directory)))
        return
    base = build_base(args.base_passages)
    print(f"base: {len(base)} documents, {sum(len(d.passages) for d in base)} passages", file=sys.stderr)
    for name in args.sizes.split(","):
        info = write_collection(base, args.out / name, SIZES[name])
        print(json.dumps(info))


if __name__ == "__main__":
    main()
