"""SubRip subtitles (.srt): numbered cues, speakers from `Name:` / `[Name]` prefixes and dialogue dashes."""

from __future__ import annotations

import html
import re

from rag.models import Transcript
from rag.parsing import metadata
from rag.parsing.cues import Caption, caption_cues, read_cue_blocks, transcript_from_cues

# Formatting that players understand: <i>, <b>, <u>, <font color=...>, and {\an8}-style position codes.
_MARKUP = re.compile(r"</?[A-Za-z][^>]*>|\{\\[^}]*\}")


def parse_srt(text: str, source: str) -> Transcript:
    """Parse SubRip; markup is stripped, consecutive cues of one speaker become one turn."""
    blocks = read_cue_blocks(text, source, skip=lambda block: False)
    captions = [Caption(start, end, _plain_lines(payload)) for start, end, payload in blocks]
    return transcript_from_cues(caption_cues(captions), metadata.file_stem(source), source)


def _plain_lines(payload: list[str]) -> tuple[tuple[str | None, str], ...]:
    lines = (" ".join(html.unescape(_MARKUP.sub("", line)).split()) for line in payload)
    return tuple((None, line) for line in lines if line)
