"""Plain-text transcripts: `Speaker: text` paragraphs, an optional title line, page debris."""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.errors import ParseError
from rag.models import NARRATION, NARRATOR, STATEMENT, Transcript, Turn
from rag.parsing import metadata, not_labels
from rag.parsing.labels import read_line
from rag.parsing.opening import opening_speaker
from rag.parsing.speakers import assign_roles, principal_speaker, trusted_labels

_TITLE_MAX_CHARS = 300


@dataclass
class _Paragraph:
    line: int
    text: str
    label: str | None = None
    start: float | None = None  # seconds, from a time code
    loose: bool = False  # see labels.Line.loose
    head: str = ""  # the label as written, put back should it be refused


@dataclass
class _Draft:
    speaker: str | None  # None: before the first label
    start: float | None = None
    paragraphs: list[str] = field(default_factory=list)


def parse_text(text: str, source: str, *, title: str | None = None) -> Transcript:
    """Parse a plain-text transcript; `source` names it in errors and metadata.

    `title`, when given (the HTML reader knows it), is used instead of looking for one in the text.
    """
    paragraphs, number = _paragraphs(text)
    if not paragraphs:
        raise ParseError(source, "no transcript text found", line=1)

    # labels first: a heading shaped like a label ("The Baltic: Sea of Cooperation Forum") may be the title
    _accept_labels(paragraphs)
    first = paragraphs[0]
    timed = first.start is not None  # "[00:00:03] Welcome, everyone" is speech, however short
    if title is None and first.label is None and not timed and len(paragraphs) > 1 and _looks_like_title(first.text):
        title = first.text.lstrip("#").strip()  # a markdown heading
        paragraphs = paragraphs[1:]
    title = title or metadata.file_stem(source)

    dateline = None
    if paragraphs and paragraphs[0].label is None and _is_dateline(_unemphasised(paragraphs[0].text)):
        dateline = _unemphasised(paragraphs.pop(0).text)
    drafts: list[_Draft] = []
    for para in paragraphs:
        if para.label is not None or not drafts:
            drafts.append(_Draft(para.label, para.start))
        if para.text:
            drafts[-1].paragraphs.append(para.text)
    drafts = [d for d in drafts if d.paragraphs]
    if not drafts:
        # paragraphs may be empty here: a lone dateline was taken as metadata
        raise ParseError(
            source, "no transcript text found after the title", line=paragraphs[0].line if paragraphs else 1
        )

    labels = [d.speaker for d in drafts if d.speaker]
    if drafts[0].speaker is None and labels:
        opener = opening_speaker(title, labels, "\n\n".join(drafts[0].paragraphs))
    else:  # a page without any label: all of it is one person's, the title's or Unknown
        opener = principal_speaker(title, labels)
    turns = [
        Turn(
            speaker=opener if d.speaker is None else d.speaker,
            text="\n\n".join(d.paragraphs),
            role=NARRATION if d.speaker is None and opener == NARRATOR else STATEMENT,
            start=d.start,
            end=_end(d, nxt),
        )
        for d, nxt in zip(drafts, [*drafts[1:], None], strict=True)
    ]

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
    """Blank-line separated paragraphs, debris dropped; a labelled or time-coded line starts its own paragraph."""
    paragraphs: list[_Paragraph] = []
    number = None
    open_paragraph = False
    pending_time = None  # a time code on its own line, for the label that follows it
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.replace("\u00a0", " ").strip()
        if not line:
            open_paragraph = False
            continue
        read = read_line(line)
        if read.time_only:
            pending_time = read.start
            open_paragraph = False
            continue
        if metadata.is_debris(raw):
            if number is None and metadata.is_document_number(line):
                number = line
            open_paragraph = False
            continue
        if read.label is not None:
            start = read.start if read.start is not None else pending_time
            paragraphs.append(_Paragraph(lineno, read.text, read.label, start, read.loose, read.head))
        elif open_paragraph and read.start is None:
            paragraphs[-1].text = f"{paragraphs[-1].text} {read.text}".strip()
        else:
            paragraphs.append(_Paragraph(lineno, read.text, start=read.start))
        # A clock time at the top of a page ("17:31" above the title) times nothing.
        pending_time = None
        open_paragraph = True
    return paragraphs, number


def _accept_labels(paragraphs: list[_Paragraph]) -> None:
    """Refuse labels the document does not bear out; a refused label goes back into the text.

    A loose shape ("Q. ...", "Jane Doe  0:03" over the text) needs several of its kind in the document;
    a label after a time code is believed.
    """
    loose_ok = sum(p.loose for p in paragraphs) > 1
    for para in paragraphs:
        if para.loose and not loose_ok:
            _refuse(para)
    for i in not_labels.refused([p.label for p in paragraphs], [p.text for p in paragraphs]):
        _refuse(paragraphs[i])
    trusted = trusted_labels(p.label for p in paragraphs if p.label)
    trusted |= {p.label for p in paragraphs if p.label and p.start is not None}  # "[00:00:09] Guest: ..."
    for para in paragraphs:
        if para.label is not None and para.label not in trusted:
            _refuse(para)


def _refuse(para: _Paragraph) -> None:
    para.text = f"{para.head} {para.text}".strip()
    para.label = None


def _end(draft: _Draft, following: _Draft | None) -> float | None:
    """A timed turn ends where the next one starts, when that is known."""
    if draft.start is None or following is None or following.start is None or following.start < draft.start:
        return None
    return following.start


def _is_dateline(text: str) -> bool:
    """'Northbridge, 9 October 2026' under a title: where and when, not anyone's words."""
    found = metadata.find_date(text)
    if not found or len(text.split()) > 8:
        return False
    _, match = found
    rest = (text[: match.start()] + text[match.end() :]).strip(" ,.–-")
    return not rest or metadata.find_place(text, match) is not None


def _unemphasised(text: str) -> str:
    """'*Gull Point, 19 September 2025*' -> 'Gull Point, 19 September 2025' (markdown italics or bold)."""
    return text.strip("*_ ")


def _looks_like_title(text: str) -> bool:
    if len(text) > _TITLE_MAX_CHARS:
        return False
    if metadata.find_date(text):
        return True
    return len(text.split()) <= 25 and not text.rstrip().endswith((".", "!", "?", ":", ";", ","))
