"""Diarized speech-recognition JSON (WhisperX, pyannote + Whisper): {"segments": [{start, end, text, speaker}]}."""

from __future__ import annotations

import json
import math
import re

from rag.errors import ParseError
from rag.models import Transcript
from rag.parsing import metadata
from rag.parsing.cues import Cue, transcript_from_cues
from rag.parsing.jsonfmt import load_json
from rag.parsing.speakers import UNKNOWN


def parse_diarized(text: str, source: str) -> Transcript:
    """Segments of one speaker in a row become one turn; a segment without a speaker continues the last one."""
    data = load_json(text, source)
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise ParseError(source, "diarized JSON must be an object with a 'segments' list", line=1)
    segments = data["segments"]
    if not segments:
        raise ParseError(source, "'segments' is empty", line=_line_of(text, 0, None))
    cues = [_cue(segment, i, text, source) for i, segment in enumerate(segments)]
    title = data.get("title") if isinstance(data.get("title"), str) and data["title"].strip() else None
    # A recognizer's first words without a speaker belong to no one we know: no principal speaker is guessed.
    return transcript_from_cues(cues, (title or metadata.file_stem(source)).strip(), source, first_speaker=UNKNOWN)


def is_diarized(data: object) -> bool:
    """Does decoded JSON have the recognizer's shape rather than our own {"turns": [...]}?"""
    return isinstance(data, dict) and isinstance(data.get("segments"), list) and "turns" not in data


def _cue(segment: object, i: int, text: str, source: str) -> Cue:
    where = f"segments[{i}]"

    def fail(message: str, key: str | None = None) -> ParseError:
        return ParseError(source, f"{where}{'.' + key if key else ''} {message}", line=_line_of(text, i, key))

    if not isinstance(segment, dict):
        raise fail("must be an object with 'start', 'end', 'text' and 'speaker'")
    words = segment.get("text")
    if not isinstance(words, str):
        raise fail("must be a string", "text")
    speaker = segment.get("speaker")
    if speaker is not None and not isinstance(speaker, str):
        raise fail("must be a string", "speaker")
    times = []
    for key in ("start", "end"):
        value = segment.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0
        ):
            raise fail("must be a number of seconds, not negative", key)
        times.append(None if value is None else round(float(value), 3))
    start, end = times
    if start is not None and end is not None and end < start:
        raise fail("is before its start", "end")
    return Cue(words, start, end, (speaker or "").strip() or None)


def _line_of(text: str, i: int, key: str | None) -> int | None:
    """The line of segments[i] (of its `key`, if given) in the file; looked for only when reporting an error."""
    decoder = json.JSONDecoder()
    for opening in re.finditer(r'"segments"\s*:\s*\[', text):
        spans: list[tuple[int, int]] = []
        position = opening.end()
        try:
            while len(spans) <= i:
                position = _skip_space(text, position)
                if text[position] == "]":
                    break
                _, end = decoder.raw_decode(text, position)
                spans.append((position, end))
                position = _skip_space(text, end)
                if text[position] == ",":
                    position += 1
        except (ValueError, IndexError, RecursionError):
            continue  # "segments" inside a string, not the key
        if i < len(spans):
            begin, end = spans[i]
            found = text.find(f'"{key}"', begin, end) if key else -1
            return text.count("\n", 0, found if found >= 0 else begin) + 1
        if not spans:
            return text.count("\n", 0, opening.start()) + 1
    return None


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position
