"""WebVTT captions (.vtt): cues with `<v Name>` voice tags or `Name:` prefixes, merged into timed turns."""

from __future__ import annotations

import html
import re

from rag.models import Transcript
from rag.parsing import metadata
from rag.parsing.cues import Caption, caption_cues, read_cue_blocks, transcript_from_cues

# Any cue tag: <v Name>, <v.loud Name>, </v>, <c.yellow>, <i>, <lang en>, <ruby>, and timestamps <00:01.500>.
_TAG = re.compile(r"<(?P<close>/)?(?P<name>[A-Za-z0-9][^\s.>/]*)(?:\.[^\s>]*)?(?:\s+(?P<annotation>[^>]*))?>")
_HEADER = re.compile(r"^\ufeff?WEBVTT(?:[ \t-]+(?P<title>.*))?$")


def parse_vtt(text: str, source: str) -> Transcript:
    """Parse WebVTT; NOTE, STYLE and REGION blocks and cue settings are ignored, cue tags stripped."""
    lines = text.splitlines()
    header = _HEADER.match(lines[0].strip()) if lines else None
    title = (header["title"] or "").strip(" -") if header else ""  # "WEBVTT - Council meeting, 3 March 2026"
    title = "" if title == "FILE" else title  # "WEBVTT FILE", the header of early drafts of the format
    blocks = read_cue_blocks(text, source, skip=_is_not_a_cue)
    captions = [Caption(start, end, _voiced_lines(payload)) for start, end, payload in blocks]
    return transcript_from_cues(caption_cues(captions), title or metadata.file_stem(source), source)


def _is_not_a_cue(block: list[str]) -> bool:
    return bool(_HEADER.match(block[0])) or block[0].split(maxsplit=1)[0] in ("NOTE", "STYLE", "REGION")


def _voiced_lines(payload: list[str]) -> tuple[tuple[str | None, str], ...]:
    """Each line's text without tags, split where the voice changes; a `<v>` lasts to `</v>` or the cue's end."""
    out: list[tuple[str | None, str]] = []
    voice = None
    for raw in payload:
        pieces: list[tuple[str | None, str]] = []
        position = 0
        for tag in _TAG.finditer(raw):
            pieces.append((voice, raw[position : tag.start()]))
            if tag["name"] == "v":
                voice = None if tag["close"] else (html.unescape(tag["annotation"] or "").strip() or None)
            position = tag.end()
        pieces.append((voice, raw[position:]))
        merged: list[tuple[str | None, str]] = []
        for piece_voice, piece in pieces:
            if merged and merged[-1][0] == piece_voice:
                merged[-1] = (piece_voice, merged[-1][1] + piece)
            else:
                merged.append((piece_voice, piece))
        out.extend((v, " ".join(html.unescape(t).split())) for v, t in merged if t.strip())
    return tuple(out)
