"""Time codes of transcripts and subtitles ('01:02:03,500', '12:03', '00:00:01.000 --> 00:00:04.000') in seconds."""

from __future__ import annotations

import re

# For composing other patterns: [h:]m:ss with an optional fraction after '.' or ',' (SRT writes a comma).
TIME_CODE = r"(?:\d{1,3}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_PARTS = re.compile(r"^(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d{2})(?:[.,](?P<frac>\d{1,3}))?$")
_TIMING = re.compile(r"^\s*(?P<start>\S+)\s*-->\s*(?P<end>\S+)(?:\s+.*)?$")


def to_seconds(code: str) -> float:
    """'01:02:03,5' -> 3723.5; two fields are minutes and seconds. ValueError when it is not a time code."""
    match = _PARTS.match(code.strip())
    if not match:
        raise ValueError(f"{code.strip()!r} is not a time code")
    hours, minutes, seconds = int(match["h"] or 0), int(match["m"]), int(match["s"])
    # Without hours, minutes may run past 59 ('75:30' in a long recording); with them they may not.
    if seconds >= 60 or (match["h"] is not None and minutes >= 60):
        raise ValueError(f"{code.strip()!r} is not a time code: minutes and seconds run to 59")
    fraction = int(match["frac"]) / 10 ** len(match["frac"]) if match["frac"] else 0.0
    return round(hours * 3600 + minutes * 60 + seconds + fraction, 3)


def is_timing_line(line: str) -> bool:
    return "-->" in line


def cue_timing(line: str) -> tuple[float, float]:
    """'00:00:01,000 --> 00:00:04,000 align:start' -> (1.0, 4.0), cue settings ignored; ValueError when malformed."""
    match = _TIMING.match(line)
    if not match:
        raise ValueError(f"malformed cue timing {line.strip()!r}: expected 'start --> end'")
    try:
        start, end = to_seconds(match["start"]), to_seconds(match["end"])
    except ValueError as exc:
        raise ValueError(f"malformed cue timing {line.strip()!r}: {exc}") from None
    if end < start:
        raise ValueError(f"cue timing {line.strip()!r} ends before it starts")
    return start, end
