"""What every `rag` command shares: the app, consoles, options, settings and error translation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

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
            # one line, never wrapped; escaped, so that text in brackets ('.[postgres]') is not taken for markup
            err.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


WaitOption = Annotated[
    bool,
    typer.Option("--wait", help="If another process is writing to the index, wait for it instead of stopping at once."),
]


def _iso_date(value: str | None, option: str) -> str | None:
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise RagError(f"{option} must be a date YYYY-MM-DD, got {value!r}", field=option) from None
