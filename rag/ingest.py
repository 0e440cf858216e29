"""From files to an index: find transcripts, parse, chunk, embed, and write them in batches."""

from __future__ import annotations

import hashlib
import json
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.chunking import chunk_transcript, segment_passages
from rag.errors import ParseError, RagError
from rag.index import Index
from rag.models import Document, PreparedDocument, Transcript
from rag.parsing import SUPPORTED_SUFFIXES, read_transcript, transcript_to_dict

BATCH_SEGMENTS = 1000  # segments embedded and written together; a crash loses at most the two in flight
PREFETCH_DOCUMENTS = 8  # documents parsed and chunked ahead of the embedding
# Transcripts an ingest must hold to be bulk work, which `RAG_EMBED_PRECISION=auto` embeds in bf16 on a CPU
# with native bf16: about 1,000 segments, whose ~3.5 ms of CPU saved each pay for loading torch (~4 s)
BULK_BYTES = 512 * 1024


@dataclass
class IngestReport:
    """What an ingest did, for the CLI's summary and the API's answer."""

    documents: int = 0
    unchanged: int = 0
    turns: int = 0
    passages: int = 0
    segments: int = 0
    seconds: float = 0.0
    ids: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def find_transcripts(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files named directly, and supported files under folders; missing paths are failures."""
    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            missing.append((str(path), "no such file or folder"))
    return list(dict.fromkeys(files)), missing


def document_id(path: str | Path) -> str:
    """A stable id from a file name: its stem, reduced to letters, digits, '.', '_' and '-'."""
    stem = Path(path).name
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")
    return slug or "doc-" + hashlib.sha1(str(path).encode()).hexdigest()[:12]


def content_hash(transcript: Transcript, index: Index) -> str:
    """Changes when the text, metadata, model or passage settings change."""
    payload = {
        "transcript": transcript_to_dict(transcript),
        "model": index.manifest.model,
        "segment_tokens": index.segment_tokens,
        "overlap_tokens": index.overlap_tokens,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def prepare(index: Index, transcript: Transcript, doc_id: str) -> PreparedDocument:
    """Chunk a transcript into passages and segments (vectors are filled in by embed_all)."""
    embedder = index.embedder
    passages = chunk_transcript(
        transcript,
        doc_id,
        count_tokens=embedder.count_tokens,
        max_tokens=index.segment_tokens,
        overlap_tokens=index.overlap_tokens,
    )
    segments = segment_passages(passages, embedder.count_tokens, index.segment_tokens)
    doc = Document(
        id=doc_id,
        title=transcript.title,
        date=transcript.date,
        place=transcript.place,
        number=transcript.number,
        source=transcript.source,
        media_url=transcript.media_url,
    )
    empty = np.zeros((len(segments), embedder.dimension), dtype=np.float32)
    return PreparedDocument(
        doc, content_hash(transcript, index), transcript, passages, segments, empty, model=embedder.name
    )


def embed_all(
    index: Index, docs: list[PreparedDocument], progress: Callable[[int], None] | None = None, *, bulk: bool = False
) -> None:
    """Fill in every segment vector of the documents, in one length-sorted pass (`bulk`: of a large ingest)."""
    texts = [s.text for d in docs for s in d.segments]
    vectors = index.embedder.encode_passages(texts, progress=progress, bulk=bulk)
    first = 0
    for doc in docs:
        doc.vectors[:] = vectors[first : first + len(doc.segments)]
        first += len(doc.segments)


def add_transcripts(
    index: Index,
    items: Iterable[tuple[str, Transcript]],
    *,
    on_segments: Callable[[int], None] | None = None,
    report: IngestReport | None = None,
    batch_segments: int | None = None,
    bulk: bool = False,
) -> IngestReport:
    """Index (doc_id, transcript) pairs; an unchanged document is skipped, a changed one replaced.

    Documents are embedded and written in batches of about `batch_segments` segments (default
    BATCH_SEGMENTS), each document in its own transaction, in the order given. Three stages overlap,
    so that the model is never idle while one core waits for Python work: a thread reads `items`
    (parsing) and chunks them, the calling thread writes the batch embedded before (`index.apply`:
    the store, BM25 and FAISS; on this thread because the CLI holds the index's write lock here), and
    a thread embeds the current batch. The model loads while the first files are chunked. `bulk`: a
    large ingest (see BULK_BYTES), which may choose another precision.
    """
    batch_segments = batch_segments or BATCH_SEGMENTS
    report = report or IngestReport()
    started = time.perf_counter()
    loading = index.embedder.preload_passages(bulk=bulk)
    batch: list[PreparedDocument] = []
    embedding = ThreadPoolExecutor(1, thread_name_prefix="rag-ingest-embed")
    pending: tuple[list[PreparedDocument], Future[None]] | None = None  # embedding or embedded, not written

    def write_pending() -> None:
        nonlocal pending
        if pending:
            docs, embedded = pending
            pending = None
            embedded.result()
            index.apply(add=docs)

    def flush() -> None:
        nonlocal pending
        if batch:
            docs = list(batch)
            batch.clear()
            embedded = embedding.submit(embed_all, index, docs, on_segments, bulk=bulk)
            write_pending()  # the batch before, while this one is embedded
            pending = docs, embedded

    prepared_docs = _prepared_ahead(index, items)
    try:
        for doc_id, transcript, prepared in prepared_docs:
            report.ids.append(doc_id)
            if pending and any(d.doc.id == doc_id for d in pending[0]):
                write_pending()  # the same id in the batch before: compare with what it wrote
            if index.content_hash(doc_id) == prepared.content_hash:
                report.unchanged += 1
                continue
            if any(d.doc.id == doc_id for d in batch):
                flush()  # the same id twice: the later file replaces the earlier, in order
            batch.append(prepared)
            report.documents += 1
            report.turns += len(transcript.turns)
            report.passages += len(prepared.passages)
            report.segments += len(prepared.segments)
            if sum(len(d.segments) for d in batch) >= batch_segments:
                flush()
        flush()
        write_pending()
    finally:
        prepared_docs.close()  # stops the reading thread now, not when the generator is collected
        embedding.shutdown(wait=True, cancel_futures=True)
        loading.join()  # not left importing torch while the interpreter exits
    report.seconds += time.perf_counter() - started
    return report


def _prepared_ahead(
    index: Index, items: Iterable[tuple[str, Transcript]]
) -> Iterator[tuple[str, Transcript, PreparedDocument]]:
    """(doc_id, transcript, prepared) for each item, in order, read and chunked on a thread of its own.

    It runs at most PREFETCH_DOCUMENTS documents ahead; an error there is raised here, and leaving the
    loop early (an error downstream) stops the thread.
    """
    handoff: queue.Queue = queue.Queue(maxsize=PREFETCH_DOCUMENTS)
    stop = threading.Event()
    end = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for doc_id, transcript in items:
                if not put((doc_id, transcript, prepare(index, transcript, doc_id))):
                    return
            put(end)
        except BaseException as exc:  # handed over: the consumer raises it
            put(exc)

    thread = threading.Thread(target=produce, name="rag-ingest-prepare", daemon=True)
    thread.start()
    try:
        while (item := handoff.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def is_bulk(files: Iterable[Path]) -> bool:
    """Whether an ingest of these files is bulk work (BULK_BYTES or more of transcripts)."""
    return sum(_size(path) for path in files) >= BULK_BYTES


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # gone since it was found: reading it will report that


def ingest_paths(
    index: Index,
    paths: Iterable[str | Path],
    *,
    fmt: str | None = None,
    on_file: Callable[[Path, str | None], None] | None = None,
    on_segments: Callable[[int], None] | None = None,
    batch_segments: int | None = None,
) -> IngestReport:
    """Parse and index files and folders; a file that fails is reported and skipped."""
    files, missing = find_transcripts(paths)
    report = IngestReport(failures=list(missing))
    bulk = is_bulk(files)

    def parsed() -> Iterable[tuple[str, Transcript]]:
        for path in files:
            try:
                transcript = read_transcript(path, fmt)
            except RagError as exc:
                report.failures.append((str(path), exc.message if isinstance(exc, ParseError) else str(exc)))
                if on_file:
                    on_file(path, exc.message)
                continue
            if on_file:
                on_file(path, None)
            yield document_id(path), transcript

    return add_transcripts(
        index, parsed(), on_segments=on_segments, report=report, batch_segments=batch_segments, bulk=bulk
    )
