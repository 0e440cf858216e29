"""Transcript readers: detect a file's format and parse it into a Transcript."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rag.errors import ParseError
from rag.models import Transcript
from rag.parsing.jsonfmt import parse_json, transcript_from_dict, transcript_to_dict
from rag.parsing.plaintext import parse_text

PARSERS: dict[str, Callable[[str, str], Transcript]] = {
    "text": parse_text,
    "json": parse_json,
}
_EXTENSIONS = {".json": "json", ".txt": "text", ".text": "text"}
SUPPORTED_SUFFIXES = tuple(_EXTENSIONS)  # what a folder scan picks up

__all__ = [
    "PARSERS",
    "SUPPORTED_SUFFIXES",
    "detect_format",
    "parse_bytes",
    "read_transcript",
    "transcript_from_dict",
    "transcript_to_dict",
]


def detect_format(name: str, text: str) -> str:
    """The format of a transcript, from its extension, else from its first characters."""
    by_suffix = _EXTENSIONS.get(Path(name).suffix.lower())
    if by_suffix:
        return by_suffix
    if text.lstrip().startswith("{"):
        return "json"
    return "text"


def decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(source, "not UTF-8 text", line=line) from None


def parse_bytes(data: bytes, source: str, fmt: str | None = None) -> Transcript:
    """Parse a transcript held in memory; `source` names it in errors."""
    text = decode(data, source)
    fmt = fmt or detect_format(source, text)
    if fmt not in PARSERS:
        raise ParseError(source, f"unknown format {fmt!r}; known: {', '.join(sorted(PARSERS))}")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ParseError(source, "binary data, not a transcript", line=line)
    return PARSERS[fmt](text, source)


def read_transcript(path: str | Path, fmt: str | None = None) -> Transcript:
    """Read and parse one transcript file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return parse_bytes(data, str(path), fmt)
