"""Request and response bodies of the HTTP API, with examples for the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from rag.documents import ID_PATTERN

SEED_QUESTION = "What did Lavrov say about the phone call between Putin and Trump?"


def _encodable(value: str) -> str:
    # JSON may carry lone surrogates ("\ud800"); they cannot be stored or embedded as UTF-8
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    # pydantic would also take numbers as Unix timestamps; the schema promises YYYY-MM-DD only
    if not isinstance(value, (str, dt.date)) or (isinstance(value, str) and not _ISO_DAY.fullmatch(value)):
        raise ValueError("must be a date YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_day)]
Text = Annotated[str, AfterValidator(_encodable)]
# "\S" in the schema tells generated clients (and schemathesis) what the validator enforces
NonBlankText = Annotated[Text, AfterValidator(_not_blank), Field(json_schema_extra={"pattern": r"\S"})]

# ---------------------------------------------------------------------- requests


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: list[Text] | None = Field(
        None,
        description="Only passages by these speakers, as written in the transcripts (a list, or one name).",
        json_schema_extra=lambda schema: schema.update(anyOf=[*schema["anyOf"], {"type": "string"}]),
        examples=[["Sergey Lavrov"]],
    )
    document_id: Text | None = Field(
        None, description="Only passages of this document.", examples=["000_8fcf709333f4d63f"]
    )
    date_from: IsoDate | None = Field(
        None, description="Only documents dated on or after this day.", examples=["2025-01-01"]
    )
    date_to: IsoDate | None = Field(
        None, description="Only documents dated on or before this day.", examples=["2025-12-31"]
    )

    @field_validator("speaker", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        # one name may be sent as a string (the schema says so, through json_schema_extra above)
        return [value] if isinstance(value, str) else value


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Text = Field(
        ...,
        description="The question, in plain words.",
        examples=[SEED_QUESTION],
        json_schema_extra={"pattern": r"\S"},
    )
    k: int = Field(5, ge=1, le=100, description="How many results to return.", examples=[5])
    offset: int = Field(0, ge=0, le=10_000, description="Results to skip, for paging.", examples=[0])
    mode: Literal["hybrid", "dense", "lexical"] = Field(
        "hybrid", description="hybrid fuses meaning (dense) and word (lexical) matches.", examples=["hybrid"]
    )
    filters: SearchFilters | None = Field(None, description="Restrict the passages searched.")

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("query must not be empty")
        return value


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Text | None = Field(
        None,
        description="Who speaks, as the transcript names them; empty: the speaker the title names.",
        examples=["Anna Keller"],
    )
    text: NonBlankText = Field(..., description="What they said.", examples=["There will be enough gas this winter."])
    role: Literal["question", "answer", "statement"] | None = Field(
        None,
        description="Accepted so that `rag parse --json` output can be sent back; roles are always inferred.",
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
    title: NonBlankText = Field(..., description="The document's title.", examples=["Radio interview with Anna Keller"])
    date: IsoDate | None = Field(None, description="Day of the event, YYYY-MM-DD.", examples=["2026-10-21"])
    source: Text | None = Field(None, description="Where the transcript came from.", examples=["Radio Valley"])
    place: Text | None = Field(None, description="Where the event took place.", examples=["Northbridge"])
    number: Text | None = Field(None, description="The publisher's document number.", examples=["220-13-02-2025"])
    turns: list[TurnIn] = Field(..., min_length=1, description="Speaker turns, in order.")


class UploadIn(BaseModel):
    """A transcript file as multipart/form-data."""

    file: bytes = Field(
        ...,
        description="The transcript file (.txt or .json, else detected from its content); its name gives the id.",
        json_schema_extra={"format": "binary"},
    )
    format: Literal["text", "json"] | None = Field(
        None, description="Force a format instead of detecting it.", examples=["text"]
    )


# ---------------------------------------------------------------------- responses


class DocumentRef(BaseModel):
    id: str = Field(..., examples=["000_8fcf709333f4d63f"])
    title: str = Field(..., examples=["Foreign Minister Sergey Lavrov’s statement and answers to media questions ..."])
    date: str | None = Field(None, description="ISO date of the document.", examples=["2025-02-13"])
    place: str | None = Field(None, examples=["Moscow"])
    source: str | None = Field(
        None, description="File or URL the transcript came from.", examples=["examples/000_8fcf709333f4d63f.txt"]
    )


class HighlightOut(BaseModel):
    text: str = Field(..., description="The sentences of the passage that best match the question.")
    start_char: int = Field(..., description="Offset of the highlight in the result's text.", examples=[0])
    end_char: int = Field(..., description="End offset (exclusive) in the result's text.", examples=[120])


class HitPartOut(BaseModel):
    passage_id: int = Field(..., description="Stable id of the passage in this index.", examples=[17])
    speaker: str = Field(
        ..., description="Who said this part, as written in the transcript.", examples=["Sergey Lavrov"]
    )
    canonical_speaker: str = Field(..., description="Their canonical name.", examples=["Sergey Lavrov"])
    role: Literal["question", "answer", "statement"] = Field(..., examples=["answer"])
    turn_index: int = Field(..., description="Position of its speaker turn in the document, from 0.", examples=[6])
    start_char: int = Field(..., description="Offset of the part in its turn's text.", examples=[0])
    end_char: int = Field(..., description="End offset (exclusive) in its turn's text.", examples=[512])
    text: str = Field(..., description="The words of this part, exactly as in the transcript.")
    start: float | None = Field(None, description="Seconds from the start of the recording, where known.")
    end: float | None = Field(None, description="Seconds from the start of the recording, where known.")


class SearchResultOut(BaseModel):
    rank: int = Field(..., description="1 for the best result.", examples=[1])
    score: float = Field(
        ...,
        description="Ranking score (fused rank score in hybrid mode, cosine in dense, BM25 in lexical).",
        examples=[0.0328],
    )
    passage_id: int = Field(..., description="Stable id of the main passage in this index.", examples=[17])
    text: str = Field(
        ...,
        description="The words found, exactly as in the transcript; when neighbouring turns were found together,"
        " each turn's text is preceded by 'Speaker: ' and turns are separated by a blank line.",
    )
    speaker: str = Field(
        ...,
        description="Who said the main passage (the longest), as written in the transcript.",
        examples=["Sergey Lavrov"],
    )
    canonical_speaker: str = Field(
        ..., description="The same person's canonical name in the speaker directory.", examples=["Sergey Lavrov"]
    )
    role: Literal["question", "answer", "statement"] = Field(
        ..., description="Role of the main passage.", examples=["answer"]
    )
    context: str | None = Field(None, description="For an answer: the question it answers.")
    document: DocumentRef
    turn_index: int = Field(
        ..., description="Position of the main passage's turn in the document, from 0.", examples=[6]
    )
    start_char: int = Field(..., description="Offset of the main passage in its turn's text.", examples=[0])
    end_char: int = Field(..., description="End offset (exclusive) of the main passage in its turn.", examples=[512])
    start: float | None = Field(None, description="Seconds from the start of the recording, where known.")
    end: float | None = Field(None, description="Seconds from the start of the recording, where known.")
    parts: list[HitPartOut] = Field(..., description="Every passage of the result, in transcript order.")
    highlight: HighlightOut | None = None


class SearchResponse(BaseModel):
    query: str = Field(..., examples=[SEED_QUESTION])
    took_ms: float = Field(..., description="Time spent answering, in milliseconds.", examples=[12.5])
    results: list[SearchResultOut]


class SpeakerAliasOut(BaseModel):
    name: str = Field(
        ..., description="A name as written in the transcripts.", examples=["Foreign Minister Sergey Lavrov"]
    )
    passages: int = Field(..., description="Passages under this name.", examples=[3])


class SpeakerOut(BaseModel):
    name: str = Field(..., description="The person's canonical name.", examples=["Sergey Lavrov"])
    passages: int = Field(..., description="Passages of theirs in the index, under all their names.", examples=[21])
    aliases: list[SpeakerAliasOut] = Field(..., description="Every name they appear under in the transcripts.")


class SpeakerRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NonBlankText = Field(
        ..., description="Any name of the person: as written, canonical, or a surname.", examples=["SPEAKER_01"]
    )
    to: NonBlankText = Field(..., description="Their new canonical name.", examples=["Maria Zakharova"])


class SpeakerMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: list[NonBlankText] = Field(..., min_length=1, description="People to merge.", examples=[["Vladmir Putin"]])
    into: NonBlankText = Field(..., description="The person they are merged into.", examples=["Vladimir Putin"])


class SpeakersPatch(BaseModel):
    """Exactly one change: a rename or a merge."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["rename"]}, {"required": ["merge"]}]},
    )

    # absent is allowed, null is not: the schema says exactly one of the two is given
    rename: SpeakerRename = Field(None, description="Give a person a new canonical name.")  # type: ignore[assignment]
    merge: SpeakerMerge = Field(None, description="Make several names one person.")  # type: ignore[assignment]

    @model_validator(mode="after")
    def _exactly_one(self) -> SpeakersPatch:
        if (self.rename is None) == (self.merge is None):
            raise ValueError("give exactly one of rename or merge")
        return self


class DocumentOut(BaseModel):
    id: str = Field(..., description="The document's id.", examples=["000_8fcf709333f4d63f"])
    title: str = Field(..., description="The document's title.", examples=["Foreign Minister Sergey Lavrov’s ..."])
    date: str | None = Field(None, description="ISO date of the document.", examples=["2025-02-13"])
    place: str | None = Field(None, description="Where the event took place.", examples=["Moscow"])
    source: str | None = Field(
        None, description="Where the transcript came from.", examples=["examples/000_8fcf709333f4d63f.txt"]
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


class TurnOut(BaseModel):
    speaker: str = Field(..., description="Who spoke.", examples=["Anna Keller"])
    role: Literal["question", "answer", "statement"] = Field(
        ..., description="What the turn does.", examples=["answer"]
    )
    text: str = Field(..., description="What they said.", examples=["There will be enough gas."])
    start: float | None = Field(None, description="Seconds from the start of the recording.", examples=[14.5])
    end: float | None = Field(None, description="Seconds from the start of the recording.", examples=[61.0])


class DocumentDetailOut(BaseModel):
    id: str = Field(..., description="The document's id.", examples=["energy_minister_interview"])
    title: str = Field(..., description="The document's title.", examples=["Radio interview with Anna Keller"])
    date: str | None = Field(None, description="ISO date of the document.", examples=["2026-10-21"])
    place: str | None = Field(None, description="Where the event took place.", examples=["Northbridge"])
    number: str | None = Field(None, description="The publisher's document number.", examples=["220-13-02-2025"])
    source: str | None = Field(None, description="Where the transcript came from.", examples=["Radio Valley"])
    passages: int = Field(..., description="Passages indexed for search.", examples=[9])
    turns: list[TurnOut] = Field(..., description="Speaker turns, in order.")


class ReadyOut(BaseModel):
    status: Literal["ready"] = Field("ready", description="The index and the model are loaded.", examples=["ready"])
    documents: int = Field(..., description="Documents indexed.", examples=[4])
    passages: int = Field(..., description="Passages indexed.", examples=[57])
    model: str = Field(..., description="The embedding model.", examples=["all-MiniLM-L6-v2"])


class HealthOut(BaseModel):
    status: Literal["ok"] = Field("ok", description="The process is up.", examples=["ok"])
    index: str = Field(..., description="The index directory.", examples=["index"])
    documents: int | None = Field(None, description="Documents indexed; null when there is no index yet.", examples=[4])
    passages: int | None = Field(None, description="Passages indexed; null when there is no index yet.", examples=[57])
    model: str | None = Field(None, description="The embedding model of the index.", examples=["all-MiniLM-L6-v2"])


class ErrorOut(BaseModel):
    error: str = Field(
        ..., description="What is wrong, in words.", examples=["k: Input should be less than or equal to 100"]
    )
    field: str | None = Field(None, description="The request field at fault, dotted.", examples=["k"])
