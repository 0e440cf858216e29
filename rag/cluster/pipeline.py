"""The stages a Ray Data pipeline runs on the cluster's workers: read and parse files, chunk and embed.

Rows travel as dicts: `path` (as the user named it: the transcript's source, as in a local ingest), `file`
(absolute, for reading on any worker), `doc_id`, a parsed `transcript` or an `error`, and after the
embedding stage a `document` (a PreparedDocument with its vectors) and a `status`. Ray moves the Python
objects between its processes itself; nothing of it is stored.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rag.embedding import Embedder
from rag.errors import ParseError, RagError
from rag.ingest import document_id, embed_all, prepare
from rag.layout import Layout
from rag.parsing import parse_bytes
from rag.storage import Manifest

FAILED, UNCHANGED, EMBEDDED = "failed", "unchanged", "embedded"


def file_rows(files: list[Path]) -> list[dict]:
    """The pipeline's input: one row per file."""
    return [{"path": str(path), "file": str(path.resolve()), "doc_id": document_id(path)} for path in files]


def parse_row(row: dict, fmt: str | None = None) -> dict:
    """Read and parse one file where the worker runs (the file must be on storage every node sees)."""
    try:
        try:
            data = Path(row["file"]).read_bytes()
        except OSError as exc:
            raise ParseError(row["path"], f"cannot read on {os.uname().nodename}: {exc.strerror or exc}") from None
        transcript = parse_bytes(data, row["path"], fmt)
    except RagError as exc:
        return {**row, "transcript": None, "error": exc.message}
    return {**row, "transcript": transcript, "error": ""}


def embedder_for_worker(model: str, passage_backend: str, gpu: bool, precision: str = "fp32") -> Embedder:
    """The model as this worker runs it: on its GPU when Ray gave it one, else on CPUs as the driver would
    (`precision` as the driver's RAG_EMBED_PRECISION: `auto` takes bf16 for bulk work where this node's CPU
    has native bf16)."""
    if gpu:
        return Embedder(model, passage_backend="torch", device="cuda")
    return Embedder(model, passage_backend=passage_backend, precision=precision)


def ray_get(value: object) -> object:
    """A value the driver put in Ray's object store, fetched (Ray Data hands constructors the reference)."""
    import ray

    return ray.get(value) if isinstance(value, ray.ObjectRef) else value


class ChunkAndEmbed:
    """An actor's stage: chunk parsed transcripts by the model's tokenizer, skip unchanged ones, embed the rest.

    The model is loaded once per actor; Ray restarts an actor that dies and sends it the batch again.
    """

    def __init__(self, manifest: dict, passage_backend: str, precision: str, bulk: bool, gpu: bool, known: object):
        self.manifest = Manifest.from_dict(manifest, "the driver's manifest")
        self.layout = Layout(self.manifest, embedder_for_worker(self.manifest.model, passage_backend, gpu, precision))
        self.bulk = bulk
        # content hashes of the documents already in the collection, by id (put in Ray's object store once)
        self.known = ray_get(known)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        out: dict[str, list] = {"path": [], "doc_id": [], "status": [], "error": [], "document": []}
        prepared = []
        for path, doc_id, transcript, error in zip(
            batch["path"], batch["doc_id"], batch["transcript"], batch["error"], strict=True
        ):
            status, document = FAILED, None
            if transcript is not None:
                document = prepare(self.layout, transcript, str(doc_id))
                if self.known.get(str(doc_id)) == document.content_hash:
                    status, document = UNCHANGED, None
                else:
                    status = EMBEDDED
                    prepared.append(document)
            for key, value in zip(out, (str(path), str(doc_id), status, str(error), document), strict=True):
                out[key].append(value)
        if prepared:
            embed_all(self.layout, prepared, bulk=self.bulk)  # one length-sorted pass over the batch's segments
        return out


class EmbedTexts:
    """An actor's stage for reindexing: texts in, the model's vectors out (the model loaded once)."""

    def __init__(self, model: str, passage_backend: str, gpu: bool):
        self.embedder = embedder_for_worker(model, passage_backend, gpu)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.encode_passages([str(text) for text in batch["text"]])
        return {"row": batch["row"], "vector": vectors}
