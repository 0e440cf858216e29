"""rag ingest --ray: parse, chunk and embed on a Ray cluster; documents written here as they stream back.

The pipeline (Ray Data): files -> `parse_row` in tasks across the cluster -> `ChunkAndEmbed` in an
autoscaling pool of actors, each holding the model once (on a GPU each when the cluster has them) -> this
process, which writes the documents through `Index.apply` in batches, each document in its own transaction,
while the cluster goes on embedding the next. A worker that dies is replaced by Ray and its batch run
again; a document reaches the collection only here, once, whole, so nothing is lost or written twice.
A run that stops half way is finished by running it again: written documents are unchanged and skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.cluster.pipeline import EMBEDDED, FAILED, ChunkAndEmbed, file_rows, parse_row
from rag.cluster.runtime import Cluster, failure_reason, require_ray
from rag.errors import RagError
from rag.index import Index
from rag.ingest import BATCH_SEGMENTS, IngestReport, document_id, find_transcripts, is_bulk
from rag.models import PreparedDocument

DOCUMENTS_PER_CALL = 8  # documents an actor chunks and embeds in one call (and Ray runs again if it dies)


@dataclass(frozen=True)
class Placement:
    """Where the embedding runs: `gpus` actors of one GPU each, else CPU actors of `actor_cpus` CPUs each."""

    gpus: int = 0
    actor_cpus: int = 1
    max_actors: int = 1

    @classmethod
    def on(cls, cluster: Cluster, gpus: int | None, actor_cpus: int) -> Placement:
        """GPUs when the cluster has them (all, or `gpus`), else as many CPU actors as its CPUs hold."""
        wanted = cluster.gpus if gpus is None else gpus
        if wanted > cluster.gpus:
            raise RagError(f"--ray-gpus {wanted}: the cluster has {cluster.gpus} GPUs", field="ray_gpus")
        if wanted:
            return cls(gpus=wanted, actor_cpus=1, max_actors=wanted)
        if actor_cpus > cluster.cpus:
            raise RagError(f"embedding actors of {actor_cpus} CPUs: the cluster has {cluster.cpus}", field="ray")
        return cls(gpus=0, actor_cpus=actor_cpus, max_actors=max(1, cluster.cpus // actor_cpus))

    def remote_args(self) -> dict:
        """Ray's resources for one embedding actor, and its passage threads matched to its CPUs."""
        if self.gpus:
            return {"num_gpus": 1}
        return {"num_cpus": self.actor_cpus, "runtime_env": {"env_vars": {"RAG_PASSAGE_THREADS": str(self.actor_cpus)}}}


def ingest_paths_on_ray(
    index: Index,
    paths: Iterable[str | Path],
    *,
    placement: Placement,
    fmt: str | None = None,
    on_file: Callable[[Path, str | None], None] | None = None,
    on_segments: Callable[[int], None] | None = None,
    batch_segments: int | None = None,
    documents_per_call: int = DOCUMENTS_PER_CALL,
) -> IngestReport:
    """What `rag.ingest.ingest_paths` does, with the parsing, chunking and embedding on the cluster."""
    started = time.perf_counter()
    files, missing = find_transcripts(paths)
    report = IngestReport(failures=list(missing))
    # one file per id: the later one wins, as in a local ingest (which writes both, in order)
    files = list({document_id(path): path for path in files}.values())
    if files:
        _run(
            index,
            files,
            placement,
            fmt,
            on_file,
            on_segments,
            batch_segments or BATCH_SEGMENTS,
            documents_per_call,
            report,
        )
    report.seconds = time.perf_counter() - started
    return report


def _run(
    index: Index,
    files: list[Path],
    placement: Placement,
    fmt: str | None,
    on_file: Callable[[Path, str | None], None] | None,
    on_segments: Callable[[int], None] | None,
    batch_segments: int,
    documents_per_call: int,
    report: IngestReport,
) -> None:
    ray = require_ray()
    rows = file_rows(files)
    with index.reading() as reader:  # what is there already: unchanged documents are not embedded again
        known = {row["doc_id"]: h for row in rows if (h := reader.content_hash(row["doc_id"])) is not None}
    pool = ray.data.ActorPoolStrategy(min_size=1, max_size=placement.max_actors)
    dataset = (
        ray.data.from_items(rows)
        .map(parse_row, fn_kwargs={"fmt": fmt})
        .map_batches(
            ChunkAndEmbed,
            fn_constructor_kwargs={
                "manifest": index.manifest.to_dict(),
                "passage_backend": index.embedder.passage_backend,
                # the precision a local ingest of these files would embed at (bf16 is chosen per node by its CPU)
                "precision": index.embedder.precision_setting,
                "bulk": is_bulk(files),
                "gpu": bool(placement.gpus),
                "known": known,
            },
            batch_size=documents_per_call,
            compute=pool,
            **placement.remote_args(),
        )
    )
    pending: list[PreparedDocument] = []

    def flush() -> None:
        if pending:
            index.apply(add=pending)
            pending.clear()

    rows_back = iter(dataset.iter_rows())
    while True:
        try:
            row = next(rows_back)
        except StopIteration:
            break
        except Exception as exc:  # the pipeline failed for good (Ray retries a lost worker itself)
            flush()  # what arrived is whole: keep it; running the ingest again does the rest
            raise RagError(
                f"the Ray pipeline failed after {report.documents} documents ({failure_reason(exc)}); those are"
                " written:"
                " run the same command again for the rest",
                field="ray",
            ) from exc
        path = Path(row["path"])
        if row["status"] == FAILED:
            report.failures.append((row["path"], row["error"]))
            if on_file:
                on_file(path, row["error"])
            continue
        if on_file:
            on_file(path, None)
        report.ids.append(row["doc_id"])
        if row["status"] != EMBEDDED:
            report.unchanged += 1
            continue
        document: PreparedDocument = row["document"]
        pending.append(document)
        report.documents += 1
        report.turns += len(document.transcript.turns)
        report.passages += len(document.passages)
        report.segments += len(document.segments)
        if on_segments:
            on_segments(len(document.segments))
        if sum(len(d.segments) for d in pending) >= batch_segments:
            flush()
    flush()
