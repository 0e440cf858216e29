"""Commands and options that run on a Ray cluster: rag reindex, and --ray for ingest (and serve)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rag.cli.common import DatabaseUrlOption, IndexOption, app, err, open_index, out, read_settings, translate_errors
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.cluster.ingest import Placement

RayOption = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Run on a Ray cluster (the ray extra): auto (the cluster of this machine), local (a Ray started here),"
        " or the head's host:port (default: RAG_RAY_ADDRESS; unset: no Ray).",
        show_default=False,
    ),
]
RayGpusOption = Annotated[
    int | None,
    typer.Option(
        "--ray-gpus",
        min=0,
        help="With --ray: GPUs that embed, one model each (default: RAG_RAY_GPUS, else every GPU of the cluster;"
        " 0: CPUs only).",
        show_default=False,
    ),
]


def ray_address(option: str | None) -> str | None:
    """The cluster a command runs on: --ray, else RAG_RAY_ADDRESS; None: this process alone."""
    return option or read_settings().ray_address


def placement(address: str, gpus: int | None) -> Placement:
    """Join the cluster and decide where the embedding runs; says so on stderr."""
    from rag.cluster import connect
    from rag.cluster.ingest import Placement

    settings = read_settings()
    cluster = connect(address)
    where = Placement.on(cluster, gpus if gpus is not None else settings.ray_gpus, settings.ray_actor_cpus)
    unit = f"{where.gpus} GPUs" if where.gpus else f"up to {where.max_actors} actors of {where.actor_cpus} CPUs"
    err.print(
        f"Ray cluster {address}: {cluster.nodes} nodes, {cluster.cpus} CPUs, {cluster.gpus} GPUs; embedding on {unit}",
        highlight=False,
    )
    return where


def segments_progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


@app.command()
@translate_errors
def reindex(
    model: Annotated[
        str | None, typer.Option("--model", help="The model to re-embed with (name or local path).")
    ] = None,
    index: IndexOption = None,
    database_url: DatabaseUrlOption = None,
    ray: RayOption = None,
    ray_gpus: RayGpusOption = None,
    abandon: Annotated[
        bool, typer.Option("--abandon", help="Drop what a stopped reindex staged; the collection stays as it is.")
    ] = False,
) -> None:
    """Re-embed the collection with another model, then switch to it at once.

    The new vectors are made beside the old ones while searches and writes go on with the old model; the
    switch makes every search after it use the new model and its vectors (never a mix). Passages and
    segments stay as they are. A run that stops is resumed by running it again.
    """
    from rag.embedding import Embedder
    from rag.reindex import ROUND_DOCUMENTS
    from rag.reindex import reindex as run

    idx = open_index(index, database_url)
    if abandon:
        idx.collection.abandon_reindex()
        out.print(f"dropped what a reindex had staged; searches use {idx.manifest.model} as before", highlight=False)
        return
    if not model:
        raise RagError("rag reindex needs --model NAME (or --abandon)", field="model")
    address = ray_address(ray)
    embedder = Embedder(model, options=idx.embedder_options)
    embed, rounds = None, ROUND_DOCUMENTS
    if address:
        from rag.cluster.reindex import ROUND_DOCUMENTS as RAY_ROUND_DOCUMENTS
        from rag.cluster.reindex import EmbedOnRay

        embed, rounds = EmbedOnRay(embedder, placement(address, ray_gpus)), RAY_ROUND_DOCUMENTS
    with idx.reading() as reader:
        total = reader.counts().segments
    with segments_progress() as progress:
        task = progress.add_task(f"re-embedded segments ({embedder.name})", total=total, rate="")

        def on_segments(n: int) -> None:
            progress.advance(task, n)
            done = progress.tasks[task]
            if done.elapsed:
                progress.update(task, rate=f"{done.completed / done.elapsed:.0f} segments/s")

        if embed is not None:
            embed.progress = on_segments
        report = run(idx, embedder, embed=embed, on_segments=on_segments, round_documents=rounds)
    resumed = f" ({report.resumed} staged by an earlier run)" if report.resumed else ""
    out.print(
        f"re-embedded {report.documents} documents ({report.segments} segments) with {report.model}{resumed}"
        f" in {report.seconds:.1f} s; searches use it now (was {report.previous}) -> {idx.collection.location}",
        highlight=False,
        soft_wrap=True,
    )
