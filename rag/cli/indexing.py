"""Commands that build and maintain an index: ingest, parse, documents, delete, stats, check, repair."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rag.cli.common import (
    DatabaseUrlOption,
    FormatOption,
    IndexOption,
    ModelOption,
    WaitOption,
    app,
    err,
    index_dir,
    iso_date_option,
    model_option,
    open_index,
    out,
    read_settings,
    translate_errors,
)
from rag.cli.scaling import RayGpusOption, RayOption, placement, ray_address


@app.command()
@translate_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Transcript files or folders.")],
    index: IndexOption = None,
    database_url: DatabaseUrlOption = None,
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
    segment_tokens: Annotated[
        int | None,
        typer.Option(
            "--segment-tokens",
            min=16,
            help="For a new index: the tokens of passages embedded and searched together (default 128,"
            " chosen on the QMSum dev meetings); an existing index keeps its own.",
        ),
    ] = None,
    ray: RayOption = None,
    ray_gpus: RayGpusOption = None,
) -> None:
    """Parse, chunk, embed and index transcripts; a file that fails is reported and skipped.

    One writer at a time in an index directory: while another process writes to it this stops with a
    message naming it (exit 1), or with --wait waits for it. A database takes several writers at once.
    """
    idx = open_index(
        index,
        database_url,
        model=model_option(model),
        create=True,
        segment_tokens=segment_tokens,
    )
    address = ray_address(ray)
    where = placement(address, ray_gpus) if address else None
    with idx.collection.exclusive(wait):
        _ingest(paths, idx, fmt, batch, where)


def _ingest(paths: list[Path], idx, fmt: str | None, batch: int | None, where=None) -> None:
    from rag.ingest import find_transcripts, ingest_paths

    _keep_freed_memory()
    if where is not None:  # parsing, chunking and embedding on the Ray cluster, written here
        from functools import partial

        from rag.cluster.ingest import ingest_paths_on_ray

        ingest_paths = partial(ingest_paths_on_ray, placement=where)

    files, _ = find_transcripts(paths)
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
        said = message if message.startswith(source) else f"{source}: {message}"
        err.print(f"[yellow]skipped[/yellow] {escape(said)}", highlight=False)  # brackets in it are text
    out.print(
        f"indexed {report.documents} documents ({report.turns} turns, {report.passages} passages)"
        f", {report.unchanged} unchanged, {len(report.failures)} failed, in {report.seconds:.1f} s"
        f" -> {idx.collection.location}",
        highlight=False,
    )
    if report.failures and not report.documents and not report.unchanged:
        raise typer.Exit(1)


def _keep_freed_memory() -> None:
    """Let glibc's malloc keep freed memory for reuse in this (short-lived, batch) process.

    torch allocates each batch's activations afresh (~10 MB each); by default glibc maps the larger
    ones and returns freed memory to the kernel, so every batch faults its pages in again: 2.3 million
    page faults and ~5 s of system time in an ingest of 35 QMSum meetings, and the embedding threads
    wait for each other on the process's memory map. Kept (mmap threshold at glibc's maximum, 32 MiB,
    no trimming): 0.5 million faults, ~2 s. Only here: a server should give memory back.
    """
    import ctypes

    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return  # not glibc
    mallopt(m_mmap_threshold, 32 * 1024 * 1024)
    mallopt(m_trim_threshold, 2**31 - 1)


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
    database_url: DatabaseUrlOption = None,
) -> None:
    """List the indexed documents: id, date, title, turns and passages."""
    from rag.documents import list_documents

    idx = open_index(index, database_url)
    docs, total = list_documents(
        idx,
        offset=offset,
        limit=limit,
        date_from=iso_date_option(date_from, "--from"),
        date_to=iso_date_option(date_to, "--to"),
        speakers=speaker or (),
    )
    if as_json:
        print(json.dumps([dataclasses.asdict(d) for d in docs], ensure_ascii=False, indent=2))
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
    database_url: DatabaseUrlOption = None,
    wait: WaitOption = False,
) -> None:
    """Remove a document and its passages from the index."""
    from rag.documents import delete_document

    idx = open_index(index, database_url)
    with idx.collection.exclusive(wait):
        delete_document(idx, doc_id)
    out.print(f"deleted {doc_id}", highlight=False)


@app.command()
@translate_errors
def stats(index: IndexOption = None, database_url: DatabaseUrlOption = None) -> None:
    """Counts and settings of an index (a database's URL shown with its password masked)."""
    idx = open_index(index, database_url)
    table = Table(show_header=False)
    for key, value in idx.stats().items():
        table.add_row(key, str(value))
    out.print(table)


@app.command()
@translate_errors
def check(
    index: IndexOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify an index: manifest, model and dimension, files, and that store, vectors and BM25 agree.

    Exit status 1 when anything is wrong; each problem says what `rag repair` would do about it.
    """
    from rag.index import check_collection

    report = check_collection(index_dir(index), database=read_settings().database(database_url))
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
    database_url: DatabaseUrlOption = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="The index's model, to write a new manifest when it is missing or unreadable."),
    ] = None,
) -> None:
    """Rebuild what the store allows: vector and BM25 files, a lost manifest (with --model); clear leftovers.

    Documents that are not whole in the store are removed (ingest them again); nothing is re-embedded.
    Exit status 1 when problems remain.
    """
    from rag.index import repair_collection

    report = repair_collection(index_dir(index), database=read_settings().database(database_url), model=model)
    for action in report.actions:
        out.print(f"repaired: {action}", highlight=False, soft_wrap=True)
    if report.check is not None:
        _print_check(report.check)
    if not report.ok:
        raise typer.Exit(1)


def _print_check(report) -> None:
    facts = report.facts
    out.print(f"index      {report.location}", highlight=False)
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
        out.print(f"ok: {facts.get('checked', 'manifest, model, store and base files agree')}", highlight=False)
    else:
        out.print(f"{len(report.problems)} problems", highlight=False)
