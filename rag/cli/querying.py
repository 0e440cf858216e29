"""Commands that ask an index: search, context, speakers, eval."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rag.cli.common import (
    DatabaseUrlOption,
    IndexOption,
    KOption,
    ModelOption,
    ModeOption,
    app,
    check_k,
    err,
    iso_date_option,
    model_option,
    open_index,
    out,
    translate_errors,
)
from rag.cli.indexing import ingest


@app.command()
@translate_errors
def search(
    query: Annotated[str, typer.Argument(help="The question.")],
    k: KOption = 5,
    speaker: Annotated[list[str] | None, typer.Option("--speaker", help="Only this speaker (repeatable).")] = None,
    document: Annotated[str | None, typer.Option("--document", help="Only this document id.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Earliest date, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Latest date, YYYY-MM-DD.")] = None,
    mode: ModeOption = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON object.")] = False,
    index: IndexOption = None,
    database_url: DatabaseUrlOption = None,
    model: ModelOption = None,
) -> None:
    """Answer a question with the best matching passages and who said them."""
    from rag.models import Filters
    from rag.search import search as run_search

    filters = Filters(
        speakers=tuple(speaker or ()),
        document_ids=(document,) if document else (),
        date_from=iso_date_option(date_from, "--from"),
        date_to=iso_date_option(date_to, "--to"),
    )
    idx = open_index(index, database_url, model=model_option(model))
    result = run_search(idx, query, k=check_k(k), filters=filters, mode=mode)
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if result.included_speakers:
        out.print(f"[dim]speakers: {', '.join(result.included_speakers)}[/dim]", highlight=False)
    if not result.hits:
        out.print("no results")
    for hit in result.hits:
        doc = hit.document
        who = f"{hit.speaker} " if hit.speaker else ""  # narration is no one's
        out.print(
            f"[bold]{hit.rank}. {who}[/bold]({hit.role}) — {doc.title[:80]}"
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
    k: KOption = 8,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="Token budget of the context.")] = 1000,
    speaker: Annotated[list[str] | None, typer.Option("--speaker", help="Only this speaker (repeatable).")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Earliest date, YYYY-MM-DD.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Latest date, YYYY-MM-DD.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON object.")] = False,
    index: IndexOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Build a chat model's context: numbered quotes, who said them, where and when, within a token budget."""
    from rag.context import build_context
    from rag.models import Filters

    filters = Filters(
        speakers=tuple(speaker or ()),
        date_from=iso_date_option(date_from, "--from"),
        date_to=iso_date_option(date_to, "--to"),
    )
    idx = open_index(index, database_url)
    result = build_context(idx, question, k=check_k(k), max_tokens=max_tokens, filters=filters, history=history or ())
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if result.resolution.text != question.strip():
        err.print(f"[dim]searched: {result.resolution.text}[/dim]", highlight=False)
    print(result.text or "(nothing found)")
    err.print(f"[dim]{result.tokens} of {max_tokens} tokens, {len(result.citations)} quotes[/dim]", highlight=False)


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
    database_url: DatabaseUrlOption = None,
) -> None:
    """List the speaker directory (canonical names, their spellings, passages); rename or merge."""
    idx = open_index(index, database_url)
    if merge:
        idx.merge_speakers([merge[0]], merge[1])
    if rename:
        idx.rename_speaker(*rename)
    people = idx.people()
    if as_json:
        print(json.dumps([dataclasses.asdict(p) for p in people], ensure_ascii=False, indent=2))
        return
    table = Table("speaker", "passages", "written as")
    for person in people:
        table.add_row(person.name, str(person.passages), "; ".join(a.name for a in person.aliases))
    out.print(table)


@app.command("eval")
@translate_errors
def evaluate(
    queries: Annotated[Path, typer.Argument(help="Annotated questions, JSON lines (qid, query, relevant_text...).")],
    transcripts: Annotated[
        list[Path] | None, typer.Option("--transcripts", help="Index these first (files or folders); repeatable.")
    ] = None,
    mode: ModeOption = "hybrid",
    k: KOption = 10,
    results: Annotated[Path | None, typer.Option("--results", help="Write the results file here (JSON lines).")] = None,
    index: IndexOption = None,
    database_url: DatabaseUrlOption = None,
    model: ModelOption = None,
) -> None:
    """Score retrieval on annotated questions: Hit@1, Hit@5, MRR@10, nDCG@10, speaker accuracy."""
    from rag import evaluation

    asked = evaluation.load_queries(queries)
    if transcripts:
        ingest(transcripts, index=index, database_url=database_url, model=model, fmt=None, wait=True)
    idx = open_index(index, database_url, model=model_option(model))
    found = evaluation.run(idx, asked, mode=mode, k=check_k(k))
    if results:
        results.write_text(
            "".join(json.dumps({"qid": q, "results": r}, ensure_ascii=False) + "\n" for q, r in found.items())
        )
    metrics = evaluation.score(asked, found, evaluation.collection_turns(idx))
    table = Table("metric", mode)
    for name, value in metrics.items():
        table.add_row(name, f"{value:.4f}" if isinstance(value, float) else str(value))
    out.print(table)
