"""Timed pieces of speech (subtitle cues, recognizer segments) and how they become speaker turns."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise

from rag.errors import ParseError
from rag.models import Transcript, Turn
from rag.parsing import metadata
from rag.parsing.speakers import UNKNOWN, assign_roles, label_shape_ok, principal_speaker, trusted_labels
from rag.parsing.timecodes import TIME_CODE, cue_timing, is_timing_line

_TIMING_LIKE = re.compile(rf"^{TIME_CODE}\s*(?:-+>?|–|—|to)\s*{TIME_CODE}")  # a timing line gone wrong


@dataclass(frozen=True)
class Cue:
    """A timed piece of speech, with its speaker where the source names one."""

    text: str
    start: float | None = None
    end: float | None = None
    speaker: str | None = None  # None: whoever spoke last goes on
    new_turn: bool = False  # a dialogue dash or '>>': a change of speaker even when no name is given


@dataclass(frozen=True)
class Caption:
    """A subtitle cue as written: its times and its lines, each with the voice a tag gave it (WebVTT `<v>`)."""

    start: float
    end: float
    lines: tuple[tuple[str | None, str], ...]


def merge_cues(cues: Iterable[Cue], first_speaker: str) -> list[Turn]:
    """Consecutive cues of one speaker become one turn from the first start to the last end."""
    runs: list[tuple[str, list[Cue]]] = []
    speaker, fresh = first_speaker, False
    for cue in cues:
        if cue.speaker is not None:
            speaker = cue.speaker
        fresh = fresh or cue.new_turn
        if not cue.text.strip():
            continue  # a label alone ("NAME:") still changes the speaker for the lines after it
        if runs and runs[-1][0] == speaker and not fresh:
            runs[-1][1].append(cue)
        else:
            runs.append((speaker, [cue]))
        fresh = False
    return [_turn(who, run) for who, run in runs]


def _turn(speaker: str, run: list[Cue]) -> Turn:
    starts = [c.start for c in run if c.start is not None]
    ends = [c.end for c in run if c.end is not None]
    text = " ".join(" ".join(c.text.split()) for c in run)
    return Turn(speaker, text, start=starts[0] if starts else None, end=max(ends) if ends else None)


def transcript_from_cues(cues: list[Cue], title: str, source: str, *, first_speaker: str | None = None) -> Transcript:
    """A transcript of merged cues; cues before any named speaker go to `first_speaker`, else to the principal."""
    if first_speaker is None:
        first_speaker = principal_speaker(title, [c.speaker for c in cues if c.speaker])
    turns = merge_cues(cues, first_speaker)
    if not turns:
        raise ParseError(source, "no spoken text found")
    date = place = None
    found = metadata.find_date(title)
    if found:
        date, match = found
        place = metadata.find_place(title, match)
    return Transcript(title=title, turns=tuple(assign_roles(turns)), date=date, place=place, source=source)


def read_cue_blocks(text: str, source: str, skip: Callable[[list[str]], bool]) -> list[tuple[float, float, list[str]]]:
    """The cues of a subtitle file: blank-line separated blocks of an optional number or id, a
    'start --> end' line, and text lines; `skip` says which blocks hold no cue (headers, notes)."""
    cues: list[tuple[float, float, list[str]]] = []
    for first_line, block in _blocks(text):
        if skip(block):
            timed = [i for i, line in enumerate(block) if is_timing_line(line)]
            if timed:  # a cue run into a header or note would be lost with it
                raise ParseError(source, "a cue must start after a blank line", line=first_line + timed[0])
            continue
        at = 0 if is_timing_line(block[0]) else 1 if len(block) > 1 and is_timing_line(block[1]) else None
        if at is None:
            if cues and not block[0].isdigit() and not _TIMING_LIKE.match(block[0]):
                cues[-1][2].extend(block)  # a blank line inside a cue's text
                continue
            line = first_line + 1 if len(block) > 1 and block[0].isdigit() else first_line
            raise ParseError(source, "expected a cue timing line 'start --> end'", line=line)
        for offset, line in enumerate(block[at:], start=at):
            if not is_timing_line(line):
                cues[-1][2].append(line)
                continue
            try:
                start, end = cue_timing(line)
            except ValueError as exc:
                raise ParseError(source, str(exc), line=first_line + offset) from None
            if offset > at and cues[-1][2] and cues[-1][2][-1].strip().isdigit():
                cues[-1][2].pop()  # the next cue's number, written without a blank line before it
            cues.append((start, end, []))
    return cues


def _blocks(text: str) -> Iterable[tuple[int, list[str]]]:
    block: list[str] = []
    first = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            if not block:
                first = lineno
            block.append(line.strip())
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


_CHEVRONS = re.compile(r"^>{2,}\s*")  # broadcast captions mark a change of speaker with '>>'
# '- Are you coming?' '- Yes.': two speakers in one cue ('—and then' is an interrupted line, not a new speaker).
_DASH = re.compile(r"^(?:[-–]\s+|-(?=[^\W\d_]|[\"'“‘(\[]))")
_NAME_COLON = re.compile(r"^(?P<label>[^:]{1,80}?):(?:\s+(?P<text>.*))?$")
_NAME_BRACKETS = re.compile(r"^\[(?P<label>[^\]]{1,80})\]\s*(?P<text>\S.*)$")
_DESCRIPTION = re.compile(r"^(?:\[[^\]]*\]|\([^)]*\)|\s)+$")  # '[MUSIC]', '(applause)': no one's words
_SOUNDS = {
    "music",
    "applause",
    "laughter",
    "laughs",
    "laughing",
    "chuckles",
    "inaudible",
    "unintelligible",
    "indistinct",
    "crosstalk",
    "silence",
    "pause",
    "cheering",
    "cheers",
    "coughs",
    "sighs",
    "noise",
    "background",
    "foreign",
    "sound",
    "speaking",
}


def caption_cues(captions: list[Caption]) -> list[Cue]:
    """Cues with their speakers, from voice tags, 'Name:' or '[Name]' prefixes, and dashes or '>>'."""
    captions = _without_rolling_repeats(captions)
    read = [[_read_line(voice, text) for voice, text in c.lines if not _DESCRIPTION.match(text)] for c in captions]
    # A voice tag names its speaker for certain; a 'Name:' prefix is believed as in plain text.
    trusted = trusted_labels(label for lines in read for label, _, _, _ in lines if label)
    trusted |= {voice for c in captions for voice, _ in c.lines if voice}
    cues: list[Cue] = []
    for caption, lines in zip(captions, read, strict=True):
        for label, change, text, as_written in lines:
            if label is not None and label in trusted:
                speaker = label
            else:
                speaker, text = (UNKNOWN if change else None), as_written
            cues.append(Cue(text, caption.start, caption.end, speaker, new_turn=change))
    return cues


def _read_line(voice: str | None, text: str) -> tuple[str | None, bool, str, str]:
    """(label, change of speaker, text after the label, text as written after any dash)."""
    if voice is not None:
        return voice, False, text, text
    change = False
    for marker in (_CHEVRONS, _DASH):
        match = marker.match(text)
        if match:
            change, text = True, text[match.end() :]
    for pattern in (_NAME_BRACKETS, _NAME_COLON):
        match = pattern.match(text)
        if not match:
            continue
        label = match["label"].strip()
        first_word = label.split()[0].lower() if label.split() else ""
        if label_shape_ok(label) and first_word not in _SOUNDS:
            return label, change, (match["text"] or "").strip(), text
    return None, change, text, text


def _without_rolling_repeats(captions: list[Caption]) -> list[Caption]:
    """Roll-up captions (YouTube's automatic ones) repeat the previous cue's last line at the top of the next."""
    rolled = sum(1 for a, b in pairwise(captions) if a.lines and b.lines and b.lines[0] == a.lines[-1])
    if rolled < 3 or rolled * 2 < len(captions) - 1:
        return captions  # a line said twice in a row is speech, unless the whole file rolls
    out: list[Caption] = []
    previous: tuple[tuple[str | None, str], ...] = ()
    for caption in captions:
        lines = caption.lines
        overlap = range(1, min(len(lines), len(previous)) + 1)
        repeated = max((n for n in overlap if lines[:n] == previous[-n:]), default=0)
        out.append(Caption(caption.start, caption.end, lines[repeated:]))
        previous = lines
    return out
