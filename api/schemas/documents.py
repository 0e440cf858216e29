"""Bodies of the document endpoints: transcripts in, documents and turns out."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.fields import IsoDate, StoredName, StoredText
from rag.documents import ID_PATTERN
from rag.models import Format, Role
from rag.parsing.jsonfmt import MEDIA_URL_MAX_CHARS, MEDIA_URL_PATTERN


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: StoredText | None = Field(
        None,
        description="Who speaks, as the transcript names them; empty: the speaker the title names (or no one, for"
        " narration).",
        examples=["Anna Keller"],
    )
    text: StoredName = Field(..., description="What they said.", examples=["There will be enough gas this winter."])
    role: Role | None = Field(
        None,
        description="Accepted so that `rag parse --json` output can be sent back; roles are inferred, except that"
        " a turn without a speaker and with the role `narration` stays narration, no one's words.",
        examples=["answer"],
    )
    start: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="Seconds from the start of the recording.", examples=[14.5]
    )
    end: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="Seconds from the start of the recording.", examples=[61.0]
    )


class TranscriptIn(BaseModel):
    """A transcript in our JSON format (README, "JSON"), with an optional id."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "keller-interview",
                    "title": "Radio interview with Energy Minister Anna Keller",
                    "date": "2026-10-21",
                    "turns": [
                        {"speaker": "Interviewer", "text": "Will there be enough gas?", "start": 0.0, "end": 14.5},
                        {"speaker": "Anna Keller", "text": "There will be enough gas.", "start": 14.5, "end": 61.0},
                    ],
                }
            ]
        },
    )

    id: str | None = Field(
        None,
        pattern=ID_PATTERN,
        description="The document's id; absent: derived from the content, so the same body gets the same id."
        " `PUT /documents/{id}` takes the id from the path instead.",
        examples=["keller-interview"],
    )
    title: StoredName = Field(..., description="The document's title.", examples=["Radio interview with Anna Keller"])
    date: IsoDate | None = Field(None, description="Day of the event, YYYY-MM-DD.", examples=["2026-10-21"])
    source: StoredText | None = Field(None, description="Where the transcript came from.", examples=["Radio Valley"])
    place: StoredText | None = Field(None, description="Where the event took place.", examples=["Northbridge"])
    number: StoredText | None = Field(None, description="The publisher's document number.", examples=["220-13-02-2025"])
    media_url: str | None = Field(
        None,
        pattern=MEDIA_URL_PATTERN,
        max_length=MEDIA_URL_MAX_CHARS,
        description="The recording the transcript is of: an http or https URL of an audio or video file (or a page).",
        examples=["https://media.example.org/keller-interview.mp3"],
    )
    turns: list[TurnIn] = Field(
        ...,
        min_length=1,
        description="Speaker turns, in order.",
        examples=[[{"speaker": "Anna Keller", "text": "There will be enough gas.", "start": 14.5, "end": 61.0}]],
    )


class UploadIn(BaseModel):
    """A transcript file as multipart/form-data."""

    file: bytes = Field(
        ...,
        description="The transcript file (.txt or .json, else detected from its content); its name gives the id.",
        json_schema_extra={"format": "binary", "examples": ["Q: Will there be enough gas?\n\nA: There will be."]},
    )
    format: Format | None = Field(
        None, description="Force a format instead of detecting it.", examples=["text"]
    )


class DocumentOut(BaseModel):
    id: str = Field(..., description="The document's id.", examples=["000_8fcf709333f4d63f"])
    title: str = Field(..., description="The document's title.", examples=["Foreign Minister Sergey Lavrov’s ..."])
    date: str | None = Field(None, description="ISO date of the document.", examples=["2025-02-13"])
    place: str | None = Field(None, description="Where the event took place.", examples=["Moscow"])
    number: str | None = Field(None, description="The publisher's document number.", examples=["220-13-02-2025"])
    source: str | None = Field(
        None, description="Where the transcript came from.", examples=["examples/000_8fcf709333f4d63f.txt"]
    )
    media_url: str | None = Field(
        None, description="The recording the transcript is of (http or https), where known.", examples=[None]
    )
    turns: int = Field(..., description="Speaker turns.", examples=[7])
    passages: int = Field(..., description="Passages indexed for search.", examples=[25])


class DocumentWriteOut(BaseModel):
    id: str = Field(..., description="The document's id.", examples=["keller-interview"])
    title: str = Field(..., description="The document's title.", examples=["Radio interview with Anna Keller"])
    date: str | None = Field(None, description="ISO date of the document.", examples=["2026-10-21"])
    turns: int = Field(..., description="Speaker turns read from it.", examples=[6])
    passages: int = Field(..., description="Passages indexed for search.", examples=[9])
    status: Literal["created", "replaced", "unchanged"] = Field(
        ...,
        description="created: a new id (201); replaced: new content for an id (201); unchanged: the same"
        " content as indexed, nothing written (200).",
        examples=["created"],
    )


class PassageSpanOut(BaseModel):
    """Where a passage lies in its turn, so that a page can place it (the search results' passage_id)."""

    id: int = Field(..., description="The passage's id, as search results give it (`passage_id`).", examples=[21])
    start_char: int = Field(..., description="Offset of the passage in its turn's text.", examples=[0])
    end_char: int = Field(
        ..., description="End offset (exclusive); a turn's passages may overlap by a few words.", examples=[603]
    )
    start: float | None = Field(
        None, description="Seconds into the recording where it starts, if timed.", examples=[14.5]
    )
    end: float | None = Field(None, description="Seconds into the recording where it ends, if timed.", examples=[38.2])


class TurnOut(BaseModel):
    speaker: str = Field(..., description="Who spoke.", examples=["Anna Keller"])
    role: Role = Field(
        ..., description="What the turn does.", examples=["answer"]
    )
    text: str = Field(..., description="What they said.", examples=["There will be enough gas."])
    start: float | None = Field(None, description="Seconds from the start of the recording.", examples=[14.5])
    end: float | None = Field(None, description="Seconds from the start of the recording.", examples=[61.0])
    passages: list[PassageSpanOut] = Field(
        ...,
        description="The turn's passages, in order of their offsets.",
        examples=[[{"id": 12, "start_char": 0, "end_char": 114, "start": 14.5, "end": 61.0}]],
    )


class DocumentDetailOut(BaseModel):
    id: str = Field(..., description="The document's id.", examples=["energy_minister_interview"])
    title: str = Field(..., description="The document's title.", examples=["Radio interview with Anna Keller"])
    date: str | None = Field(None, description="ISO date of the document.", examples=["2026-10-21"])
    place: str | None = Field(None, description="Where the event took place.", examples=["Northbridge"])
    number: str | None = Field(None, description="The publisher's document number.", examples=["220-13-02-2025"])
    source: str | None = Field(None, description="Where the transcript came from.", examples=["Radio Valley"])
    media_url: str | None = Field(
        None,
        description="The recording the transcript is of (http or https), where known.",
        examples=["https://media.example.org/keller-interview.mp3"],
    )
    passages: int = Field(..., description="Passages indexed for search.", examples=[9])
    turns: list[TurnOut] = Field(
        ...,
        description="Speaker turns, in order.",
        examples=[
            [
                {
                    "speaker": "Interviewer",
                    "role": "question",
                    "text": "Will there be enough gas?",
                    "start": 0.0,
                    "end": 14.5,
                    "passages": [{"id": 11, "start_char": 0, "end_char": 25, "start": 0.0, "end": 14.5}],
                },
                {
                    "speaker": "Anna Keller",
                    "role": "answer",
                    "text": "There will be enough gas.",
                    "start": 14.5,
                    "end": 61.0,
                    "passages": [{"id": 12, "start_char": 0, "end_char": 25, "start": 14.5, "end": 61.0}],
                },
            ]
        ],
    )
