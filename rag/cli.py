"""The `rag` command line: ingest, search, parse, documents, delete, stats, serve."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rag.config import Settings
from rag.errors import RagError

app = typer.Typer(
    help="Search speech transcripts: who said what about X.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable)

IndexOption = Annotated[
    Path | None, typer.Option("--index", help="Index directory (default: RAG_INDEX_DIR or ./index).")
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model", help="sentence-transformers model name or path (default: RAG_MODEL, else all-MiniLM-L6-v2)."
    ),
]
FormatOption = Annotated[
    str | None, typer.Option("--format", help="Force a format: text, json, diarized, vtt, srt, html.")
]


def _settings() -> Settings:
    return Settings()


def _index_dir(index: Path | None) -> Path:
    return index or _settings().index_dir


def _model(model: str | None) -> str | None:
    """An explicit model: the option, else RAG_MODEL when set; None means the index's own."""
    return model or _settings().model


def translate_errors(func: F) -> F:
    """Library errors become a one-line message and exit status 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RagError as exc:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@app.command()
@translate_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or folders.")],
    index: IndexOption = None,
    model: ModelOption = None,
    fmt: FormatOption = None,
) -> None:
    """Parse, chunk, embed and index transcripts; a file that fails is reported and skipped."""
    from rag.index import Index
    from rag.ingest import find_transcripts, ingest_paths

    directory = _index_dir(index)
    files, _ = find_transcripts(paths)
    idx = Index.open(directory, model=_model(model), create=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        parse_task = progress.add_task("parsed files", total=len(files), rate="")
        embed_task = progress.add_task("embedded passages", total=None, rate="")

        def on_file(path: Path, problem: str | None) -> None:
            progress.advance(parse_task)

        def on_passages(n: int) -> None:
            progress.advance(embed_task, n)
            task = progress.tasks[embed_task]
            if task.elapsed:
                progress.update(embed_task, rate=f"{task.completed / task.elapsed:.0f} passages/s")

        report = ingest_paths(idx, paths, fmt=fmt, on_file=on_file, on_passages=on_passages)
    for source, message in report.failures:
        err.print(
            f"[yellow]skipped[/yellow] {message if message.startswith(source) else f'{source}: {message}'}",
            highlight=False,
        )
    out.print(
        f"indexed {report.documents} documents ({report.turns} turns, {report.passages} passages)"
        f", {report.unchanged} unchanged, {len(report.failures)} failed, in {report.seconds:.1f} s"
        f" -> {directory}",
        highlight=False,
    )
    if report.failures and not report.documents and not report.unchanged:
        raise typer.Exit(1)


@app.command()
@translate_errors
def search(
    query: Annotated[str, typer.Argument(help="The question.")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Number of results.")] = 5,
    speaker: Annotated[list[str] | None, typer.Option("--speaker", help="Only this speaker (repeatable).")] = None,
    document: Annotated[str | None, typer.Option("--document", help="Only this document id.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Earliest date, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Latest date, YYYY-MM-DD.")] = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or lexical.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON object.")] = False,
    index: IndexOption = None,
    model: ModelOption = None,
) -> None:
    """Answer a question with the best matching passages and who said them."""
    from rag.index import Index
    from rag.search import search as run_search
    from rag.store import Filters

    filters = Filters(
        speakers=tuple(speaker or ()),
        document_ids=(document,) if document else (),
        date_from=_iso_date(date_from, "--from"),
        date_to=_iso_date(date_to, "--to"),
    )
    idx = Index.open(_index_dir(index), model=_model(model))
    result = run_search(idx, query, k=k, filters=filters, mode=mode)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if not result.hits:
        out.print("no results")
    for hit in result.hits:
        doc = hit.document
        out.print(
            f"[bold]{hit.rank}. {hit.speaker}[/bold] ({hit.role}) — {doc.title[:80]}"
            f" {doc.date or ''} [dim]score {hit.score:.4f}, turn {hit.turn_index}[/dim]",
            highlight=False,
        )
        out.print(f"   {hit.text}", highlight=False, soft_wrap=True)
    out.print(f"[dim]{result.took_ms:.1f} ms[/dim]")


@app.command()
@translate_errors
def parse(
    file: Annotated[Path, typer.Argument(help="A transcript file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    fmt: FormatOption = None,
) -> None:
    """Show how a transcript is read: title, date and speaker turns."""
    from rag.parsing import read_transcript, transcript_to_dict

    transcript = read_transcript(file, fmt)
    if as_json:
        print(json.dumps(transcript_to_dict(transcript), ensure_ascii=False, indent=2))
        return
    out.print(f"[bold]{transcript.title}[/bold]", highlight=False)
    out.print(f"date {transcript.date}  place {transcript.place}  number {transcript.number}", highlight=False)
    for i, turn in enumerate(transcript.turns):
        when = f" {_clock(turn.start)}–{_clock(turn.end)}" if turn.start is not None else ""
        out.print(f"[{i}] [bold]{turn.speaker}[/bold] ({turn.role}){when}: {turn.text[:200]}", highlight=False)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes // 60):02d}:{int(minutes % 60):02d}:{secs:06.3f}"


@app.command()
@translate_errors
def documents(
    date_from: Annotated[str | None, typer.Option("--from", help="Earliest date, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Latest date, YYYY-MM-DD.")] = None,
    speaker: Annotated[
        list[str] | None, typer.Option("--speaker", help="Only documents where this speaker has a turn (repeatable).")
    ] = None,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Documents to skip.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Documents to show.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON list.")] = False,
    index: IndexOption = None,
) -> None:
    """List the indexed documents: id, date, title, turns and passages."""
    from rag.documents import document_to_dict, list_documents
    from rag.index import Index

    idx = Index.open(_index_dir(index))
    docs, total = list_documents(
        idx,
        offset=offset,
        limit=limit,
        date_from=_iso_date(date_from, "--from"),
        date_to=_iso_date(date_to, "--to"),
        speakers=speaker or (),
    )
    if as_json:
        print(json.dumps([document_to_dict(d) for d in docs], ensure_ascii=False, indent=2))
        return
    table = Table("id", "date", "title", "turns", "passages")
    for doc in docs:
        table.add_row(doc.id, doc.date or "", doc.title[:70], str(doc.turns), str(doc.passages))
    out.print(table)
    out.print(f"{len(docs)} of {total} documents", highlight=False)


@app.command()
@translate_errors
def delete(
    doc_id: Annotated[str, typer.Argument(metavar="ID", help="The document's id (see rag documents).")],
    index: IndexOption = None,
) -> None:
    """Remove a document and its passages from the index."""
    from rag.documents import delete_document
    from rag.index import Index

    delete_document(Index.open(_index_dir(index)), doc_id)
    out.print(f"deleted {doc_id}", highlight=False)


@app.command()
@translate_errors
def stats(index: IndexOption = None) -> None:
    """Counts and settings of an index."""
    from rag.index import Index

    idx = Index.open(_index_dir(index))
    table = Table(show_header=False)
    for key, value in idx.stats().items():
        table.add_row(key, str(value))
    out.print(table)


@app.command()
@translate_errors
def serve(
    index: IndexOption = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port to listen on.")] = None,
    build_from: Annotated[
        Path | None,
        typer.Option(
            "--build-from",
            help="Transcripts to build the index from when it is missing (default: RAG_EXAMPLES_DIR or ./examples).",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API; builds the index from the example transcripts first if there is none."""
    from rag.threads import configure_serving

    configure_serving()  # before numpy, faiss or onnxruntime load their thread pools
    import uvicorn

    from rag.index import MANIFEST

    settings = _settings()
    directory = _index_dir(index)
    source = build_from or settings.examples_dir
    if not (directory / MANIFEST).exists():
        if not source.exists():
            err.print(f"[red]error:[/red] no index at {directory} and no transcripts at {source} to build one")
            raise typer.Exit(1)
        err.print(f"no index at {directory}: building it from {source}")
        ingest([source], index=directory, model=None, fmt=None)
    from api.observability import uvicorn_log_config

    os.environ["RAG_INDEX_DIR"] = str(directory)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_config=uvicorn_log_config(settings.log_level),
        access_log=False,  # the service logs each request itself, as JSON with its request id
    )


def _iso_date(value: str | None, option: str) -> str | None:
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise RagError(f"{option} must be a date YYYY-MM-DD, got {value!r}", field=option) from None


def main() -> None:
    sys.exit(app())


if __name__ == "__main__":
    main()
