"""What every `rag` command shares: the app, consoles, options, settings and error translation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from rag.config import Settings
from rag.dates import iso_day
from rag.errors import RagError
from rag.models import FORMATS, MAX_K, MODES

if TYPE_CHECKING:
    from rag.index import Index

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
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="PostgreSQL database holding the collection (default: RAG_DATABASE_URL); the index directory is then"
        " not used. RAG_DATABASE_URL keeps the password out of the process list.",
        show_default=False,
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model", help="sentence-transformers model name or path (default: RAG_MODEL, else all-MiniLM-L6-v2)."
    ),
]
FormatOption = Annotated[str | None, typer.Option("--format", help=f"Force a format: {', '.join(FORMATS)}.")]
ModeOption = Annotated[str, typer.Option("--mode", help=f"How questions are matched: {', '.join(MODES)}.")]
KOption = Annotated[int, typer.Option("-k", min=1, max=MAX_K, help="Number of results (at most RAG_MAX_K).")]


def read_settings() -> Settings:
    """The settings (RAG_* variables); one that cannot be used is a one-line error naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "RAG_" + str(first["loc"][0]).upper() if first.get("loc") else "a RAG_ setting"
        raise RagError(f"{name}: {first['msg']}", field=name) from None


def index_dir(index: Path | None) -> Path:
    return index or read_settings().index_dir


def open_index(index: Path | None, database_url: str | None, **options) -> Index:
    """The collection the options name: the database (--database-url, RAG_DATABASE_URL) or the directory,
    run as the settings say (a command writes new bases itself, in the write that makes them due)."""
    from rag.index import Index

    settings = read_settings()
    options = {"embedded": settings.embedded_options(), "embedder_options": settings.embedder_options(), **options}
    database = settings.database(database_url)
    if database is not None:
        return Index.open(database=database, **options)
    return Index.open(index_dir(index), **options)


def model_option(model: str | None) -> str | None:
    """An explicit model: the option, else RAG_MODEL when set; None means the index's own."""
    return model or read_settings().model


def translate_errors(func: F) -> F:
    """Library errors become a one-line message and exit status 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RagError as exc:
            # one line, never wrapped; escaped, so that text in brackets ('.[postgres]') is not taken for markup
            err.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


WaitOption = Annotated[
    bool,
    typer.Option("--wait", help="If another process is writing to the index, wait for it instead of stopping at once."),
]


def check_k(k: int) -> int:
    """k within the configured limit (RAG_MAX_K), as the API and MCP hold it."""
    limit = read_settings().max_k
    if k > limit:
        raise RagError(f"-k must be at most {limit} (RAG_MAX_K)", field="k")
    return k


def iso_date_option(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    day = iso_day(value)
    if day is None:
        raise RagError(f"{option} must be a date YYYY-MM-DD, got {value!r}", field=option)
    return day
