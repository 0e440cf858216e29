"""Plain-text transcripts: `Speaker: text` paragraphs, an optional title line, page debris."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from rag.errors import ParseError
from rag.models import Transcript, Turn
from rag.parsing import metadata
from rag.parsing.speakers import (
    ROLE_WORDS,
    assign_roles,
    label_shape_ok,
    name_key,
    principal_speaker,
    strip_parentheticals,
)

# The label ends at the first ": " of a line ("Yes or no: Did ..." inside a turn stays text).
_LABEL = re.compile(r"^\s*(?:\*\*)?(?P<label>[^:\n]{1,120}?)(?:\*\*)?:(?:\*\*)?(?:\s+|$)")
_TITLE_MAX_CHARS = 300


@dataclass
class _Paragraph:
    line: int
    text: str
    label: str | None = None


@dataclass
class _Draft:
    speaker: str | None  # None: before the first label
    paragraphs: list[str] = field(default_factory=list)


def parse_text(text: str, source: str) -> Transcript:
    """Parse a plain-text transcript; `source` names it in errors and metadata."""
    paragraphs, number = _paragraphs(text)
    if not paragraphs:
        raise ParseError(source, "no transcript text found", line=1)

    title = None
    first = paragraphs[0]
    if first.label is None and len(paragraphs) > 1 and _looks_like_title(first.text):
        title = first.text
        paragraphs = paragraphs[1:]
    title = title or _stem(source)

    _accept_labels(paragraphs)
    dateline = None
    if paragraphs and paragraphs[0].label is None and _is_dateline(paragraphs[0].text):
        dateline = paragraphs.pop(0).text
    drafts: list[_Draft] = []
    for para in paragraphs:
        if para.label is not None or not drafts:
            drafts.append(_Draft(para.label))
        if para.text:
            drafts[-1].paragraphs.append(para.text)

    labelled = [d.speaker for d in drafts if d.speaker]
    principal = principal_speaker(title, labelled)
    turns = [Turn(speaker=d.speaker or principal, text="\n\n".join(d.paragraphs)) for d in drafts if d.paragraphs]
    if not turns:
        # paragraphs may be empty here: a lone dateline was taken as metadata
        raise ParseError(
            source, "no transcript text found after the title", line=paragraphs[0].line if paragraphs else 1
        )

    date = place = None
    for header in (title, dateline):
        found = metadata.find_date(header or "")
        if found:
            date, match = found
            place = metadata.find_place(header, match)
            break
    return Transcript(
        title=title,
        turns=tuple(assign_roles(turns)),
        date=date,
        place=place,
        number=number,
        source=source,
    )


def _paragraphs(text: str) -> tuple[list[_Paragraph], str | None]:
    """Blank-line separated paragraphs, debris dropped; a labelled line starts its own paragraph."""
    paragraphs: list[_Paragraph] = []
    number = None
    open_paragraph = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.replace("\u00a0", " ").strip()
        if not line or metadata.is_debris(raw):
            if number is None and metadata.is_document_number(line):
                number = line
            open_paragraph = False
            continue
        match = _LABEL.match(line)
        if match and label_shape_ok(match.group("label").strip()):
            paragraphs.append(_Paragraph(lineno, line[match.end() :].strip(), match.group("label").strip()))
        elif open_paragraph:
            paragraphs[-1].text = f"{paragraphs[-1].text} {line}".strip()
        else:
            paragraphs.append(_Paragraph(lineno, line))
        open_paragraph = True
    return paragraphs, number


def _accept_labels(paragraphs: list[_Paragraph]) -> None:
    """Keep a one-word label only when it recurs, is a role, or names a known speaker.

    "Capacity: we just haven't ..." at the start of a paragraph is text, while "Putin:" or
    "Marketing:" recur and "Question:" is a role; rejected labels go back into the text.
    """
    counts = Counter(p.label for p in paragraphs if p.label)
    multiword = {name_key(lbl) for lbl in counts if len(strip_parentheticals(lbl).split()) > 1}
    surnames = {key.split()[-1] for key in multiword if key}
    for para in paragraphs:
        label = para.label
        if label is None or len(strip_parentheticals(label).split()) > 1:
            continue
        key = name_key(label)
        upper = label.isupper() and len(label) > 1
        if counts[label] > 1 or key in ROLE_WORDS or key in surnames or upper:
            continue
        para.text = f"{label}: {para.text}".strip()
        para.label = None


def _is_dateline(text: str) -> bool:
    """'Northbridge, 9 October 2026' under a title: where and when, not anyone's words."""
    found = metadata.find_date(text)
    if not found or len(text.split()) > 8:
        return False
    _, match = found
    rest = (text[: match.start()] + text[match.end() :]).strip(" ,.–-")
    return not rest or metadata.find_place(text, match) is not None


def _looks_like_title(text: str) -> bool:
    if len(text) > _TITLE_MAX_CHARS:
        return False
    if metadata.find_date(text):
        return True
    return len(text.split()) <= 25 and not text.rstrip().endswith((".", "!", "?", ":", ";", ","))


def _stem(source: str) -> str:
    name = re.split(r"[\\/]", source)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name
