"""Transcript readers: detect a file's format and parse it into a Transcript."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rag.errors import ParseError
from rag.models import FORMATS, Format, Transcript
from rag.parsing.diarized import is_diarized, parse_diarized
from rag.parsing.html import parse_html
from rag.parsing.jsonfmt import load_json, parse_json, transcript_from_dict, transcript_to_dict
from rag.parsing.plaintext import parse_text
from rag.parsing.srt import parse_srt
from rag.parsing.timecodes import TIME_CODE
from rag.parsing.vtt import parse_vtt

PARSERS: dict[Format, Callable[[str, str], Transcript]] = {  # one for each of rag.models.FORMATS
    "text": parse_text,
    "json": parse_json,
    "diarized": parse_diarized,
    "vtt": parse_vtt,
    "srt": parse_srt,
    "html": parse_html,
}
_EXTENSIONS = {
    ".json": "json",
    ".txt": "text",
    ".text": "text",
    ".vtt": "vtt",
    ".webvtt": "vtt",
    ".srt": "srt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}
SUPPORTED_SUFFIXES = tuple(_EXTENSIONS)  # what a folder scan picks up
_SRT_START = re.compile(rf"^\d+[ \t]*\r?\n[ \t]*{TIME_CODE}[ \t]*-->")
_HTML_START = re.compile(r"^(?:<\?xml[^>]*>|<!--.*?-->|\s)*<(?:!doctype\s+html|html)\b", re.IGNORECASE | re.DOTALL)

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
    """The format of a transcript: from its extension, and from its first characters where the extension
    says little (none, an unknown one, `.txt`) or is shared (`.json`: ours or a speech recognizer's)."""
    by_suffix = _EXTENSIONS.get(Path(name).suffix.lower())
    if by_suffix == "json":
        return _json_kind(text)
    if by_suffix not in (None, "text"):
        return by_suffix
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    if head.startswith("WEBVTT"):
        return "vtt"
    if _SRT_START.match(head):
        return "srt"
    if _HTML_START.match(head):
        return "html"
    if by_suffix is None and head.startswith("{"):
        return _json_kind(text)
    return "text"


def _json_kind(text: str) -> str:
    try:
        data = load_json(text, "")
    except ParseError:
        return "json"  # its parser reports where the syntax breaks
    return "diarized" if is_diarized(data) else "json"


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
    if fmt not in FORMATS:
        raise ParseError(source, f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
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
