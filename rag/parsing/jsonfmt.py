"""Our JSON transcript format: {"title", "date"?, "media_url"?, ..., "turns": [{"speaker", "text", "start"?, ...}]}."""

from __future__ import annotations

import json
import math
import re

from rag.dates import iso_day
from rag.errors import ParseError
from rag.models import NARRATION, STATEMENT, Transcript, Turn
from rag.parsing.speakers import assign_roles, principal_speaker

# A recording is linked from web pages (<audio src>, <a href>): only http(s), so that a transcript can never
# carry a javascript: or data: URL into a page; no white space or control character (to Python or to JSON
# Schema, whose \s differ), so it is one URL and nothing else.
_URL_CHAR = r"[^\s\x00-\x20\x7f\x85\ufeff"
MEDIA_URL_PATTERN = rf"^https?://{_URL_CHAR}/?#]+{_URL_CHAR}]*$"
MEDIA_URL_MAX_CHARS = 2048
_MEDIA_URL = re.compile(MEDIA_URL_PATTERN)


def parse_json(text: str, source: str) -> Transcript:
    return transcript_from_dict(load_json(text, source), source)


def load_json(text: str, source: str) -> object:
    """Decoded JSON; any failure is a ParseError, naming the line where the syntax breaks."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(source, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:  # a number too long to convert, nesting too deep
        raise ParseError(source, f"unreadable JSON: {str(exc)[:200]}") from None


def transcript_from_dict(data: object, source: str) -> Transcript:
    """Validate a decoded JSON transcript; errors name the offending field."""
    if not isinstance(data, dict):
        raise ParseError(source, "a JSON transcript must be an object with 'title' and 'turns'", key="body")
    raw_turns = data.get("turns")
    if not isinstance(raw_turns, list) or not raw_turns:
        raise ParseError(source, "'turns' must be a non-empty list of {speaker, text}", key="turns")
    title = data.get("title")
    if title is not None and not isinstance(title, str):
        raise ParseError(source, "'title' must be a string", key="title")
    for key in ("title", "place", "number", "source"):
        _no_nul(data.get(key), f"'{key}'", source, key)
    date = _date(data.get("date"), source)
    turns: list[Turn] = []
    for i, raw in enumerate(raw_turns):
        where = f"turns[{i}]"
        if not isinstance(raw, dict):
            raise ParseError(source, f"{where} must be an object with 'speaker' and 'text'", key=f"turns.{i}")
        speaker, text = raw.get("speaker", ""), raw.get("text")
        if not isinstance(text, str):
            raise ParseError(source, f"{where}.text must be a string", key=f"turns.{i}.text")
        if speaker is None:
            speaker = ""
        if not isinstance(speaker, str):
            raise ParseError(source, f"{where}.speaker must be a string", key=f"turns.{i}.speaker")
        _no_nul(speaker, f"{where}.speaker", source, f"turns.{i}.speaker")
        _no_nul(text, f"{where}.text", source, f"turns.{i}.text")
        start, end = _seconds(raw, "start", i, source), _seconds(raw, "end", i, source)
        if start is not None and end is not None and end < start:
            raise ParseError(source, f"{where}.end is before {where}.start", key=f"turns.{i}.end")
        # narration (`rag parse --json` of a page that opens with a reporter's text) is no one's words;
        # any other turn without a speaker is the principal speaker's
        narration = not speaker.strip() and raw.get("role") == NARRATION
        if text.strip():
            role = NARRATION if narration else STATEMENT
            turns.append(Turn(speaker.strip(), text.strip(), role=role, start=start, end=end))
    if not turns:
        raise ParseError(source, "every turn's text is empty", key="turns")
    title = (title or "").strip() or source
    principal = principal_speaker(title, [t.speaker for t in turns if t.speaker])
    turns = [t if t.speaker or t.role == NARRATION else Turn(principal, t.text, t.role, t.start, t.end) for t in turns]
    src = data.get("source")
    return Transcript(
        title=title,
        turns=tuple(assign_roles(turns)),
        date=date,
        place=data.get("place") if isinstance(data.get("place"), str) else None,
        number=data.get("number") if isinstance(data.get("number"), str) else None,
        source=src if isinstance(src, str) and src else source,
        media_url=_media_url(data.get("media_url"), source),
    )


def _no_nul(value: object, where: str, source: str, key: str) -> None:
    # a NUL character is binary data, as in a file (rag.parsing.parse_bytes), and no database stores it in text
    if isinstance(value, str) and "\x00" in value:
        raise ParseError(source, f"{where} must not contain NUL characters", key=key)


def _date(value: object, source: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        day = iso_day(value[:10])  # a timestamp gives its day
        if day is not None:
            return day
    raise ParseError(source, f"'date' must be YYYY-MM-DD, got {value!r}", key="date")


def _media_url(value: object, source: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > MEDIA_URL_MAX_CHARS or not _MEDIA_URL.fullmatch(value):
        raise ParseError(
            source,
            f"'media_url' must be an http:// or https:// URL of at most {MEDIA_URL_MAX_CHARS} characters",
            key="media_url",
        )
    return value


def _seconds(raw: dict, key: str, i: int, source: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParseError(source, f"turns[{i}].{key} must be a number of seconds", key=f"turns.{i}.{key}")
    if value < 0:
        raise ParseError(source, f"turns[{i}].{key} must not be negative", key=f"turns.{i}.{key}")
    return float(value)


def transcript_to_dict(transcript: Transcript) -> dict:
    """The inverse of transcript_from_dict, used by `rag parse --json`."""
    out: dict = {"title": transcript.title, "date": transcript.date}
    for key in ("place", "number", "source", "media_url"):
        if getattr(transcript, key):
            out[key] = getattr(transcript, key)
    out["turns"] = []
    for turn in transcript.turns:
        item = {"speaker": turn.speaker, "role": turn.role, "text": turn.text}
        if turn.start is not None:
            item["start"] = turn.start
        if turn.end is not None:
            item["end"] = turn.end
        out["turns"].append(item)
    return out
