"""Re-embed a collection with another model: new vectors staged beside the old, then switched to at once.

Searches go on during the run with the old model and see the new one from the switch on (the storage
interface's begin_reindex / stage / switch). Documents are read, embedded and staged a round at a time;
documents written meanwhile are staged by later rounds, and the last few by the switch itself. The
embedding runs here, or anywhere `embed` sends it (rag.cluster sends it to a Ray cluster).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rag.chunking import index_text
from rag.embedding import Embedder
from rag.errors import IndexMismatchError, RagError
from rag.index import Index
from rag.ingest import content_hash
from rag.layout import Layout
from rag.models import Transcript, Turn
from rag.storage import Manifest
from rag.storage.interface import StagedDocument

ROUND_DOCUMENTS = 200  # documents read, embedded and staged together
STALLED_ROUNDS = 5  # rounds in a row that stage nothing (every document changed meanwhile) before giving up

Embed = Callable[[list[str]], np.ndarray]  # texts -> unit vectors of the new model, one row per text


@dataclass
class ReindexReport:
    """What a reindex did."""

    previous: str
    model: str
    dimension: int
    documents: int = 0  # staged by this run
    resumed: int = 0  # staged by an earlier run that stopped
    segments: int = 0
    seconds: float = 0.0


def target_manifest(index: Index, embedder: Embedder) -> Manifest:
    """The collection's manifest under the new model: its passages and segments stay as they are."""
    if index.segment_tokens > embedder.max_tokens:
        raise IndexMismatchError(
            f"the collection's segments of {index.segment_tokens} tokens do not fit {embedder.name}"
            f" (at most {embedder.max_tokens}): ingest the transcripts into a new index instead",
            field="model",
        )
    return dataclasses.replace(index.manifest, model=embedder.name, dimension=embedder.dimension)


def reindex(
    index: Index,
    embedder: Embedder,
    *,
    embed: Embed | None = None,
    on_segments: Callable[[int], None] | None = None,
    round_documents: int = ROUND_DOCUMENTS,
) -> ReindexReport:
    """Re-embed every segment with `embedder`'s model (by `embed`, default: here) and switch to it."""
    started = time.perf_counter()
    collection = index.collection
    target = target_manifest(index, embedder)
    previous = index.manifest
    report = ReindexReport(previous.model, target.model, target.dimension)
    report.resumed = collection.begin_reindex(target)
    run = embed or (lambda texts: embedder.encode_passages(texts, progress=on_segments))

    def embedded(ids: list[str]) -> list[StagedDocument]:
        found = staged_documents(index, ids, run, previous, target)
        report.segments += sum(len(doc.vectors) for doc in found)
        return found

    stalled = 0
    while todo := collection.reindex_todo(round_documents):
        staged = collection.stage(embedded(todo))
        report.documents += staged
        stalled = 0 if staged else stalled + 1
        if stalled >= STALLED_ROUNDS:
            raise RagError(f"documents change faster than they can be re-embedded ({', '.join(todo[:3])}...)")
    collection.switch(embedded)
    report.seconds = time.perf_counter() - started
    return report


def staged_documents(
    index: Index, ids: Sequence[str], embed: Embed, previous: Manifest, target: Manifest
) -> list[StagedDocument]:
    """The documents' segments as stored now, embedded by `embed`, with their hashes under the new model."""
    read = []
    with index.reading() as reader:
        for doc_id in ids:
            stored_hash = reader.content_hash(doc_id)
            document = reader.document(doc_id)
            if stored_hash is None or document is None:
                continue  # deleted meanwhile
            segment_ids = reader.segment_ids_of(doc_id)
            segments = reader.segments(segment_ids)
            # the text each segment was embedded from: its passages' labels and words (rag.chunking)
            texts = [index_text([(p.speaker, p.text) for _, p in segments[sid].passages]) for sid in segment_ids]
            transcript = Transcript(
                title=document.title,
                turns=tuple(Turn(t.speaker, t.text, t.role, t.start, t.end) for t in reader.turns(doc_id)),
                date=document.date,
                place=document.place,
                number=document.number,
                source=document.source,
                media_url=document.media_url,
            )
            read.append((doc_id, stored_hash, texts, transcript))
    vectors = embed([text for _, _, texts, _ in read for text in texts])
    out, first = [], 0
    for doc_id, stored_hash, texts, transcript in read:
        new_hash = rehash(transcript, stored_hash, previous, target)
        out.append(StagedDocument(doc_id, stored_hash, vectors[first : first + len(texts)], new_hash))
        first += len(texts)
    return out


def rehash(transcript: Transcript, stored_hash: str, previous: Manifest, target: Manifest) -> str:
    """The content hash an ingest of this transcript computes under the new model; the stored hash when the
    stored transcript does not hash to it (then the next ingest of its file embeds it once more)."""
    if content_hash(transcript, Layout(previous)) != stored_hash:
        return stored_hash
    return content_hash(transcript, Layout(target))
