"""The `rag` command line: ingest, search, context, parse, documents, delete, stats, serve, mcp."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
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
            err.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)  # one line, never wrapped
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


WaitOption = Annotated[
    bool,
    typer.Option("--wait", help="If another process is writing to the index, wait for it instead of stopping at once."),
]


@contextlib.contextmanager
def _sole_writer(directory: Path, wait: bool) -> Iterator[None]:
    """Hold the index's write lock for a whole command; a taken lock stops it with the holder named."""
    from rag.locking import IndexBusyError, writer_lock

    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(writer_lock(directory, wait=wait))
        except IndexBusyError as exc:
            raise RagError(f"{exc.message}, or pass --wait", field="index") from None
        yield


@app.command()
@translate_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or folders.")],
    index: IndexOption = None,
    model: ModelOption = None,
    fmt: FormatOption = None,
    wait: WaitOption = False,
    batch: Annotated[
        int | None,
        typer.Option(
            "--batch",
            min=1,
            help="Segments embedded and written together (default 1000): a crash loses at most the batch"
            " being written, and a running server sees each batch as it lands.",
        ),
    ] = None,
) -> None:
    """Parse, chunk, embed and index transcripts; a file that fails is reported and skipped.

    One writer at a time: while another process writes to the index this stops with a message
    naming it (exit 1), or with --wait waits for it.
    """
    directory = _index_dir(index)
    with _sole_writer(directory, wait):
        _ingest(paths, directory, model, fmt, batch)


def _ingest(paths: list[Path], directory: Path, model: str | None, fmt: str | None, batch: int | None) -> None:
    from rag.index import Index
    from rag.ingest import find_transcripts, ingest_paths

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
        embed_task = progress.add_task("embedded segments", total=None, rate="")

        def on_file(path: Path, problem: str | None) -> None:
            progress.advance(parse_task)

        def on_segments(n: int) -> None:
            progress.advance(embed_task, n)
            task = progress.tasks[embed_task]
            if task.elapsed:
                progress.update(embed_task, rate=f"{task.completed / task.elapsed:.0f} segments/s")

        report = ingest_paths(idx, paths, fmt=fmt, on_file=on_file, on_segments=on_segments, batch_segments=batch)
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
def context(
    question: Annotated[str, typer.Argument(help="The question.")],
    history: Annotated[
        list[str] | None,
        typer.Option("--history", help="An earlier question of the conversation (repeatable, oldest first)."),
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Search results to draw quotes from.")] = 8,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="Token budget of the context.")] = 1000,
    speaker: Annotated[list[str] | None, typer.Option("--speaker", help="Only this speaker (repeatable).")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Earliest date, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Latest date, YYYY-MM-DD.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON object.")] = False,
    index: IndexOption = None,
) -> None:
    """Build a chat model's context: numbered quotes, who said them, where and when, within a token budget."""
    from rag.context import build_context
    from rag.index import Index
    from rag.store import Filters

    filters = Filters(
        speakers=tuple(speaker or ()), date_from=_iso_date(date_from, "--from"), date_to=_iso_date(date_to, "--to")
    )
    idx = Index.open(_index_dir(index))
    result = build_context(idx, question, k=k, max_tokens=max_tokens, filters=filters, history=history or ())
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if result.resolution.text != question.strip():
        err.print(f"[dim]searched: {result.resolution.text}[/dim]", highlight=False)
    print(result.text or "(nothing found)")
    err.print(f"[dim]{result.tokens} of {max_tokens} tokens, {len(result.citations)} quotes[/dim]", highlight=False)


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
    wait: WaitOption = False,
) -> None:
    """Remove a document and its passages from the index."""
    from rag.documents import delete_document
    from rag.errors import NoIndexError
    from rag.index import MANIFEST, Index

    directory = _index_dir(index)
    if not (directory / MANIFEST).exists():
        raise NoIndexError(str(directory))  # before the lock, which would create the folder
    with _sole_writer(directory, wait):
        delete_document(Index.open(directory), doc_id)
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
def check(
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify an index: manifest, model and dimension, files, and that store, vectors and BM25 agree.

    Exit status 1 when anything is wrong; each problem says what `rag repair` would do about it.
    """
    from rag.integrity import check_index

    report = check_index(_index_dir(index))
    if as_json:
        print(json.dumps({"ok": report.ok, "facts": report.facts, "problems": report.problems}, indent=2))
    else:
        _print_check(report)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@translate_errors
def repair(
    index: IndexOption = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="The index's model, to write a new manifest when it is missing or unreadable."),
    ] = None,
) -> None:
    """Rebuild what the store allows: vector and BM25 files, a lost manifest (with --model); clear leftovers.

    Documents that are not whole in the store are removed (ingest them again); nothing is re-embedded.
    Exit status 1 when problems remain.
    """
    from rag.integrity import repair_index

    report = repair_index(_index_dir(index), model=model)
    for action in report.actions:
        out.print(f"repaired: {action}", highlight=False, soft_wrap=True)
    if report.check is not None:
        _print_check(report.check)
    if not report.ok:
        raise typer.Exit(1)


def _print_check(report) -> None:
    facts = report.facts
    out.print(f"index      {report.directory}", highlight=False)
    if "model" in facts:
        out.print(f"model      {facts['model']}, dimension {facts['dimension']}", highlight=False)
    if "documents" in facts:
        out.print(
            f"store      {facts['documents']} documents, {facts['turns']} turns, {facts['passages']} passages,"
            f" {facts['segments']} segments, generation {facts['store_generation']}",
            highlight=False,
        )
    for problem in report.problems:
        out.print(f"[red]problem:[/red] {problem}", highlight=False, soft_wrap=True)
    if report.ok:
        out.print("ok: manifest, model, store and derived files agree", highlight=False)
    else:
        out.print(f"{len(report.problems)} problems", highlight=False)


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
        ingest([source], index=directory, model=None, fmt=None, wait=True)
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


@app.command()
@translate_errors
def mcp(
    index: IndexOption = None,
    model: ModelOption = None,
    http: Annotated[
        bool, typer.Option("--http", help="Serve streamable HTTP at http://HOST:PORT/mcp, not stdio.")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Address to listen on, with --http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on, with --http.")] = 8001,
) -> None:
    """Serve the MCP tools search_transcripts and get_transcript, over stdio (for desktop clients) or HTTP."""
    from rag.mcp_server import serve as serve_mcp

    # stdout is the protocol's channel under stdio: nothing else may be printed there
    serve_mcp(
        _index_dir(index), model=_model(model), transport="streamable-http" if http else "stdio", host=host, port=port
    )


@app.command()
@translate_errors
def speakers(
    merge: Annotated[
        tuple[str, str] | None, typer.Option("--merge", help="Make NAME one person with INTO: --merge NAME INTO.")
    ] = None,
    rename: Annotated[
        tuple[str, str] | None, typer.Option("--rename", help="Give a person a new canonical name: --rename OLD NEW.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    index: IndexOption = None,
) -> None:
    """List the speaker directory (canonical names, their spellings, passages); rename or merge."""
    from rag.index import Index

    idx = Index.open(_index_dir(index))
    if merge:
        idx.merge_speakers([merge[0]], merge[1])
    if rename:
        idx.rename_speaker(*rename)
    directory = idx.speakers
    people: dict[str, list[tuple[str, int]]] = {}
    for name, count in idx.store.speakers():
        people.setdefault(directory.canonical_of(name), []).append((name, count))
    if as_json:
        listing = [{"name": c, "aliases": [{"name": n, "passages": k} for n, k in a]} for c, a in people.items()]
        print(json.dumps(listing, ensure_ascii=False, indent=2))
        return
    table = Table("speaker", "passages", "written as")
    for canonical, aliases in sorted(people.items(), key=lambda item: -sum(k for _, k in item[1])):
        table.add_row(canonical, str(sum(k for _, k in aliases)), "; ".join(n for n, _ in aliases))
    out.print(table)


@app.command("eval")
@translate_errors
def evaluate(
    queries: Annotated[Path, typer.Argument(help="Annotated questions, JSON lines (qid, query, relevant_text...).")],
    transcripts: Annotated[
        list[Path] | None, typer.Option("--transcripts", help="Index these first (files or folders); repeatable.")
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or lexical.")] = "hybrid",
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Results per question.")] = 10,
    results: Annotated[Path | None, typer.Option("--results", help="Write the results file here (JSON lines).")] = None,
    index: IndexOption = None,
    model: ModelOption = None,
) -> None:
    """Score retrieval on annotated questions: Hit@1, Hit@5, MRR@10, nDCG@10, speaker accuracy."""
    from rag import evaluation
    from rag.index import Index

    asked = evaluation.load_queries(queries)
    directory = _index_dir(index)
    if transcripts:
        ingest(transcripts, index=directory, model=model, fmt=None, wait=True)
    idx = Index.open(directory, model=_model(model))
    found = evaluation.run(idx, asked, mode=mode, k=k)
    if results:
        results.write_text(
            "".join(json.dumps({"qid": q, "results": r}, ensure_ascii=False) + "\n" for q, r in found.items())
        )
    metrics = evaluation.score(asked, found, evaluation.collection_turns(idx))
    table = Table("metric", mode)
    for name, value in metrics.items():
        table.add_row(name, f"{value:.4f}" if isinstance(value, float) else str(value))
    out.print(table)


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
