"""Small documents with stored vectors of our choosing, for storage tests that need no model; and a writer
process: `python -m tests.storage.pg_documents URL NAME START_AT` writes shared and own documents."""

from __future__ import annotations

import sys
import time
import zlib

import numpy as np
from pydantic import SecretStr

from rag.chunking import index_text
from rag.models import ANSWER, QUESTION, Document, Passage, PreparedDocument, Segment, Transcript, Turn

DIMENSION = 384
SHARED = [f"shared-{n}" for n in range(6)]  # ids both writer processes write
ROUNDS = 4


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)).astype(np.float32)


def document(
    doc_id: str, speakers: list[str], vectors: np.ndarray, words: str = "harbour dredging", date: str = "2026-03-01"
) -> PreparedDocument:
    """A document of one turn per speaker (alternating question and answer), one segment per turn."""
    turns = tuple(
        Turn(speaker, f"{speaker} on {words}: item {i} of {doc_id}.", QUESTION if i % 2 == 0 else ANSWER)
        for i, speaker in enumerate(speakers)
    )
    passages = [
        Passage(doc_id, i, t.speaker, t.role, t.text, 0, len(t.text), context=None) for i, t in enumerate(turns)
    ]
    segments = [Segment(i, i, index_text([(p.speaker, p.text)])) for i, p in enumerate(passages)]
    transcript = Transcript(title=f"Briefing {doc_id}", turns=turns, date=date)
    doc = Document(id=doc_id, title=transcript.title, date=transcript.date)
    return PreparedDocument(doc, f"{doc_id}:{words}", transcript, passages, segments, unit(vectors))


def write(url: str, name: str, start_at: float) -> None:
    """Wait for `start_at`, then write the shared documents and this writer's own ones, interleaved, ROUNDS times."""
    from rag.storage.postgres import DatabaseOptions, open_collection

    collection = open_collection(DatabaseOptions(SecretStr(url)))
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    time.sleep(max(0.0, start_at - time.time()))
    for round_ in range(ROUNDS):
        for n, shared in enumerate(SHARED):
            speakers = [f"Reporter {n}", f"Minister {name}", f"Reporter {n}"]
            collection.apply(add=[document(shared, speakers, rng.normal(size=(3, DIMENSION)), f"round {round_}")])
            own = f"{name}-{round_}-{n}"
            collection.apply(add=[document(own, [f"Minister {name}"] * 2, rng.normal(size=(2, DIMENSION)))])
    collection.close()


if __name__ == "__main__":
    write(sys.argv[1], sys.argv[2], float(sys.argv[3]))
