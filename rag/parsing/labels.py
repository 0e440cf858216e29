"""The shapes a plain-text line starts a turn with: speaker labels and time codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.parsing.speakers import MAX_LABEL_CHARS, label_shape_ok
from rag.parsing.timecodes import TIME_CODE, to_seconds

_WRAP = r"(?:\*{1,2}|__)?"  # markdown bold or italics around a label
# "Name: text", "**Name:** text", "**Name**: text", "Name (00:01:02): text"; the label ends at the first ": ".
_LABEL = re.compile(
    rf"^{_WRAP}(?P<label>[^:\n]{{1,{MAX_LABEL_CHARS}}}?){_WRAP}(?:\s*[\[(](?P<time>{TIME_CODE})[\])])?{_WRAP}:{_WRAP}(?:\s+|$)"
)
# "[00:01:02] ...", "(12:03) ...", "00:01:02 ...": a time code before the label or the text.
_TIME_PREFIX = re.compile(rf"^(?:\[(?P<bracketed>{TIME_CODE})\]|\((?P<paren>{TIME_CODE})\)|(?P<bare>{TIME_CODE}))")
# Shapes that are labels only when a document has several of them:
# "Jane Doe  0:03" alone on a line, text below (exports of transcription services),
_LABEL_OVER_TEXT = re.compile(
    rf"^{_WRAP}(?P<label>[^:\n]{{1,{MAX_LABEL_CHARS}}}?){_WRAP}\s+[\[(]?(?P<time>{TIME_CODE})[\])]?$"
)
# and "Q. ...", "A. ...", "Q  ..." (interviews, and briefings that write the question label without a colon).
_BARE_QA = re.compile(r"^(?P<label>[QA])(?:\.\s+|\s{2,}|\t|\s(?=[A-Z\"“]))(?P<text>\S.*)$")


@dataclass(frozen=True)
class Line:
    """One transcript line read for its label and time code."""

    text: str  # what follows the label and time code
    label: str | None = None
    start: float | None = None
    time_only: bool = False  # the line is nothing but a time code
    loose: bool = False  # a label of a shape to believe only when the document has several
    head: str = ""  # the label as written ("**Name:**", "Q."), put back when the label is not believed


def read_line(line: str) -> Line:
    """Split a stripped, non-empty line into time code, label and text."""
    start = None
    rest = line
    prefix = _TIME_PREFIX.match(line)
    if prefix and (prefix.end() == len(line) or line[prefix.end()].isspace()):
        code = prefix["bracketed"] or prefix["paren"] or prefix["bare"]
        seconds = _seconds(code)
        if seconds is not None:
            rest = line[prefix.end() :].strip()
            if not rest:
                return Line("", start=seconds, time_only=True)
            start = seconds
    labelled = _labelled(rest, start)
    if labelled:
        return labelled
    if prefix and start is not None and not prefix["bare"]:
        # A bracketed time code before unlabelled text is a marker, not speech.
        return Line(rest, start=start)
    return Line(line)


def _labelled(rest: str, start: float | None) -> Line | None:
    match = _LABEL.match(rest)
    if match and label_shape_ok(match["label"].strip()):
        seconds = _seconds(match["time"]) if match["time"] else None
        return Line(
            rest[match.end() :].strip(),
            label=match["label"].strip(),
            start=start if seconds is None else seconds,
            head=rest[: match.end()].strip(),
        )
    match = _LABEL_OVER_TEXT.match(rest)
    if match and start is None and label_shape_ok(match["label"].strip()):
        seconds = _seconds(match["time"])
        if seconds is not None:
            return Line("", label=match["label"].strip(), start=seconds, loose=True, head=rest)
    match = _BARE_QA.match(rest)
    if match:
        head = rest[: match.start("text")].strip()
        return Line(match["text"].strip(), label=match["label"], start=start, loose=True, head=head)
    return None


def _seconds(code: str) -> float | None:
    try:
        return to_seconds(code)
    except ValueError:
        return None
