"""Commands that serve an index: the HTTP API and the MCP server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from rag.cli.common import (
    DatabaseUrlOption,
    IndexOption,
    ModelOption,
    app,
    err,
    index_dir,
    model_option,
    open_index,
    read_settings,
    translate_errors,
)
from rag.cli.indexing import ingest
from rag.cli.scaling import RayOption, ray_address
from rag.errors import RagError


@app.command()
@translate_errors
def serve(
    index: IndexOption = None,
    database_url: DatabaseUrlOption = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on.")] = None,
    build_from: Annotated[
        Path | None,
        typer.Option(
            "--build-from",
            help="Transcripts to build the index from when it is missing (default: RAG_EXAMPLES_DIR or ./examples);"
            " with a database, transcripts to ingest first (none unless given).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Worker processes answering requests (default: RAG_WORKERS, else the number of cores).",
        ),
    ] = None,
    ray: RayOption = None,
    replicas: Annotated[
        int | None,
        typer.Option(
            "--replicas",
            min=1,
            help="Serve from this many replicas on a Ray cluster (Ray Serve; --ray or RAG_RAY_ADDRESS), each"
            " reading the PostgreSQL collection (default with --ray: 2).",
        ),
    ] = None,
    min_replicas: Annotated[
        int | None, typer.Option("--min-replicas", min=1, help="With --ray: autoscale between this ...")
    ] = None,
    max_replicas: Annotated[
        int | None, typer.Option("--max-replicas", min=1, help="... and this many replicas, by load.")
    ] = None,
) -> None:
    """Serve the HTTP API; builds the index from the example transcripts first if there is none.

    With a database (--database-url, RAG_DATABASE_URL) any number of servers may serve one collection; with
    --ray (or --replicas) the same service runs as N replicas on a Ray cluster behind Ray Serve's proxy.
    """
    if ray or replicas or min_replicas or max_replicas:
        _serve_on_ray(database_url, ray, replicas, min_replicas, max_replicas, host, port)
        return
    from rag.threads import configure_serving

    configure_serving()  # before numpy, faiss or onnxruntime load their thread pools
    from rag.cli.workers import serve as serve_workers
    from rag.storage.embedded import EmbeddedCollection

    settings = read_settings()
    database = settings.database(database_url)
    if database is not None:
        # a shared database is never filled with examples behind its owner's back: only what is named
        if build_from is not None:
            ingest([build_from], index=None, database_url=database_url, model=None, fmt=None, wait=True)
        settings = settings.model_copy(update={"database_url": database.url})
    else:
        directory = index_dir(index)
        source = build_from or settings.examples_dir
        if not EmbeddedCollection.exists(directory):
            if not source.exists():
                err.print(f"[red]error:[/red] no index at {directory} and no transcripts at {source} to build one")
                raise typer.Exit(1)
            err.print(f"no index at {directory}: building it from {source}")
            ingest([source], index=directory, model=None, fmt=None, wait=True)
        settings = settings.model_copy(update={"index_dir": directory})
    # the service logs each request itself, as JSON with its request id
    serve_workers(
        settings,
        host or settings.host,
        port or settings.port,
        workers or settings.workers or os.cpu_count() or 1,
        _uvicorn_log_config(settings.log_level),
    )


def _serve_on_ray(
    database_url: str | None,
    ray: str | None,
    replicas: int | None,
    low: int | None,
    high: int | None,
    host: str | None,
    port: int | None,
) -> None:
    from rag.cluster import connect
    from rag.cluster.serve import Replicas, check_shared, serve_on_ray

    settings = read_settings()
    database = settings.database(database_url)
    if database is not None:
        settings = settings.model_copy(update={"database_url": database.url})  # the replicas' own settings
    check_shared(settings)  # before joining anything: the replicas need a database they all reach
    address = ray_address(ray)
    if not address:
        raise RagError("--replicas runs on Ray: give --ray ADDRESS (or RAG_RAY_ADDRESS)", field="ray")
    if (low is None) != (high is None):
        raise RagError("autoscaling needs both --min-replicas and --max-replicas", field="replicas")
    cluster = connect(address)
    err.print(f"Ray cluster {address}: {cluster.nodes} nodes, {cluster.cpus} CPUs", highlight=False)
    serve_on_ray(settings, Replicas(replicas or 2, low, high), host or settings.host, port or settings.port)


def _uvicorn_log_config(level: str) -> dict:
    """uvicorn's own lines (start-up, errors) as JSON too; the service logs each request itself.

    The formatter is named, not imported: uvicorn loads it with the app (rag never imports api).
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "api.observability.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
        },
    }


@app.command()
@translate_errors
def mcp(
    index: IndexOption = None,
    database_url: DatabaseUrlOption = None,
    model: ModelOption = None,
    http: Annotated[
        bool, typer.Option("--http", help="Serve streamable HTTP at http://HOST:PORT/mcp, not stdio.")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Address to listen on, with --http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on, with --http.")] = 8001,
) -> None:
    """Serve the MCP tools search_transcripts and get_transcript, over stdio (for desktop clients) or HTTP."""
    try:
        from rag.mcp_server import serve as serve_mcp
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] != "mcp":
            raise
        raise RagError("rag mcp needs the mcp extra: pip install 'transcript-rag[mcp]'", field="mcp") from None

    # stdout is the protocol's channel under stdio: nothing else may be printed there
    serve_mcp(
        lambda: open_index(index, database_url, model=model_option(model)),
        max_k=read_settings().max_k,
        transport="streamable-http" if http else "stdio",
        host=host,
        port=port,
    )
