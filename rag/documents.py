"""Documents one at a time: read from a JSON body or an uploaded file, put, show, list, delete."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.errors import InvalidInputError, NotFoundError, ParseError, TooLargeError
from rag.index import Index
from rag.ingest import document_id, embed_all, prepare
from rag.models import Document, Limits, Transcript
from rag.parsing import parse_bytes, transcript_from_dict, transcript_to_dict

# Ids name rows in sqlite, never files; the shape is still kept tame for URLs, logs and shells.
ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$"
_ID = re.compile(ID_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BODY = "body"  # names a JSON request body in error messages


@dataclass(frozen=True)
class DocumentWrite:
    """What putting a document did (`status`: created, replaced, or unchanged: nothing written), and to what."""

    id: str
    title: str
    date: str | None
    turns: int
    passages: int
    status: str

    @classmethod
    def of(cls, document: Document, status: str) -> DocumentWrite:
        return cls(document.id, document.title, document.date, document.turns, document.passages, status)


@dataclass(frozen=True)
class PassageSpan:
    """Where one passage lies in its turn's text (passages of a turn may overlap), and when, if timed."""

    id: int
    start_char: int
    end_char: int
    start: float | None
    end: float | None


@dataclass(frozen=True)
class TurnRecord:
    """A stored turn as a document shows it: what was said, and where each of its passages lies."""

    speaker: str
    role: str
    text: str
    start: float | None
    end: float | None
    passages: tuple[PassageSpan, ...] = ()


@dataclass(frozen=True)
class DocumentDetail:
    """A stored document whole: its metadata and its turns in order."""

    id: str
    title: str
    date: str | None
    place: str | None
    number: str | None
    source: str | None
    media_url: str | None
    passages: int
    turns: tuple[TurnRecord, ...]


# ---------------------------------------------------------------------- reading


def check_document_id(doc_id: str) -> str:
    """A client-chosen id, accepted only in the shape `document_id` produces."""
    if not isinstance(doc_id, str) or not _ID.match(doc_id):
        raise InvalidInputError(
            "id: 1 to 200 letters, digits, '.', '_' or '-', starting with a letter, digit or '_'", field="id"
        )
    return doc_id


def upload_name(filename: str | None) -> str:
    """The last component of a client's file name, for messages: never a path, never control characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = _CONTROL.sub("", name).strip()[:255]
    return name if name.strip(".") else "upload"


def transcript_from_upload(
    data: bytes, filename: str | None, limits: Limits, fmt: str | None = None
) -> tuple[str, Transcript]:
    """Parse an uploaded file in memory; its id comes from its (sanitised) file name."""
    name = upload_name(filename)
    if len(data) > limits.max_upload_bytes:
        raise TooLargeError(f"{name}: {len(data)} bytes, at most {limits.max_upload_bytes}", field="file")
    transcript = parse_bytes(data, name, fmt)
    if len(transcript.turns) > limits.max_turns:
        raise InvalidInputError(f"{name}: {len(transcript.turns)} turns, at most {limits.max_turns}", field="file")
    for i, turn in enumerate(transcript.turns):
        if len(turn.text) > limits.max_text_chars:
            raise InvalidInputError(
                f"{name}: turn {i} ({turn.speaker}) has {len(turn.text)} characters, at most {limits.max_text_chars}",
                field="file",
            )
    return document_id(name), transcript


def transcript_from_body(data: dict, limits: Limits) -> Transcript:
    """A transcript sent as our JSON format; errors name the field as sent (`turns.3.text`)."""
    turns = data.get("turns") if isinstance(data, dict) else None
    if isinstance(turns, list):
        if len(turns) > limits.max_turns:
            raise InvalidInputError(f"turns: {len(turns)} turns, at most {limits.max_turns}", field="turns")
        for i, turn in enumerate(turns):
            text = turn.get("text") if isinstance(turn, dict) else None
            if isinstance(text, str) and len(text) > limits.max_text_chars:
                raise InvalidInputError(
                    f"turns.{i}.text: {len(text)} characters, at most {limits.max_text_chars}", field=f"turns.{i}.text"
                )
    try:
        transcript = transcript_from_dict(data, _BODY)
    except ParseError as exc:
        message = exc.message.removeprefix(f"{_BODY}: ")
        raise InvalidInputError(message, field=exc.key or _BODY) from None
    if not (isinstance(data.get("source"), str) and data["source"]):
        transcript = dataclasses.replace(transcript, source=None)  # not the placeholder name "body"
    return transcript


def content_id(transcript: Transcript) -> str:
    """A stable id for a transcript sent without one: the same content always gets the same id."""
    payload = json.dumps(transcript_to_dict(transcript), sort_keys=True, ensure_ascii=False)
    return "doc-" + hashlib.sha256(payload.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------- writing


def put_document(index: Index, doc_id: str, transcript: Transcript) -> DocumentWrite:
    """Add or replace one document, atomically; unchanged content is left alone.

    The passages are embedded before the index is locked, so searches wait only for the swap.
    """
    check_document_id(doc_id)
    previous = index.content_hash(doc_id)
    prepared = prepare(index, transcript, doc_id)
    document = dataclasses.replace(prepared.doc, turns=len(transcript.turns), passages=len(prepared.passages))
    if previous == prepared.content_hash:
        return DocumentWrite.of(document, "unchanged")
    embed_all(index, [prepared])
    index.apply(add=[prepared])
    return DocumentWrite.of(document, "created" if previous is None else "replaced")


def delete_document(index: Index, doc_id: str) -> None:
    """Remove a document and its passages from every part of the index, atomically."""
    index.delete(doc_id)


# ---------------------------------------------------------------------- reading back


def get_document(index: Index, doc_id: str) -> DocumentDetail:
    with index.reading() as reader:  # the document, its turns and passages as of one moment
        document = reader.document(doc_id)
        turns = reader.turns(doc_id)
        segments = reader.segments(reader.segment_ids_of(doc_id))
    if document is None:
        raise NotFoundError(f"no document with id {doc_id!r}", field="id")
    spans: dict[int, list[PassageSpan]] = {}
    for segment in segments.values():
        for pid, p in segment.passages:
            spans.setdefault(p.turn_index, []).append(PassageSpan(pid, p.start_char, p.end_char, p.start, p.end))
    return DocumentDetail(
        id=document.id,
        title=document.title,
        date=document.date,
        place=document.place,
        number=document.number,
        source=document.source,
        media_url=document.media_url,
        passages=document.passages,
        turns=tuple(
            TurnRecord(
                t.speaker,
                t.role,
                t.text,
                t.start,
                t.end,
                tuple(sorted(spans.get(i, ()), key=lambda span: (span.start_char, span.id))),
            )
            for i, t in enumerate(turns)
        ),
    )


def list_documents(
    index: Index,
    *,
    offset: int = 0,
    limit: int = 100,
    date_from: str | None = None,
    date_to: str | None = None,
    speakers: Sequence[str] = (),
) -> tuple[list[Document], int]:
    """One page of documents, by date then id, and how many match in all."""
    if offset < 0:
        raise InvalidInputError("offset must not be negative", field="offset")
    if limit < 1:
        raise InvalidInputError("limit must be at least 1", field="limit")
    filters = {"date_from": date_from, "date_to": date_to, "speakers": tuple(speakers)}
    with index.reading() as reader:  # the page and the total agree even while documents are written
        return reader.documents(offset=offset, limit=limit, **filters), reader.count_documents(**filters)

