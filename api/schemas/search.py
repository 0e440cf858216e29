"""Bodies of POST /search."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.examples import (
    SEED_ANSWER,
    SEED_DOCUMENT,
    SEED_HIGHLIGHT,
    SEED_PART,
    SEED_QUESTION,
    SEED_QUESTION_TEXT,
    SEED_RESULT,
)
from api.schemas.fields import VISIBLE, VISIBLE_RE, Count, DocumentRef, IsoDate, StoredText, Text
from rag.models import MAX_K, Filters, Mode, Role


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: list[StoredText] | None = Field(
        None,
        description="Only passages by these speakers (a list, or one name): a name as written in the transcripts,"
        " a canonical name, or a surname, which admits every person it may mean (see `included_speakers`).",
        json_schema_extra=lambda schema: schema.update(anyOf=[*schema["anyOf"], {"type": "string"}]),
        examples=[["Sergey Lavrov"]],
    )
    document_id: StoredText | None = Field(
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

    def to_filters(self) -> Filters:
        return Filters(
            speakers=tuple(self.speaker or ()),
            document_ids=(self.document_id,) if self.document_id else (),
            date_from=self.date_from.isoformat() if self.date_from else None,
            date_to=self.date_to.isoformat() if self.date_to else None,
        )


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Text = Field(
        ...,
        description="The question, in plain words.",
        examples=[SEED_QUESTION],
        json_schema_extra={"pattern": VISIBLE},
    )
    k: Count = Field(5, ge=1, le=MAX_K, description="How many results to return.", examples=[5])
    offset: Count = Field(0, ge=0, le=10_000, description="Results to skip, for paging.", examples=[0])
    mode: Mode = Field(
        "hybrid", description="hybrid fuses meaning (dense) and word (lexical) matches.", examples=["hybrid"]
    )
    filters: SearchFilters | None = Field(
        None,
        description="Restrict the passages searched.",
        examples=[{"speaker": ["Sergey Lavrov"], "date_from": "2025-01-01", "date_to": "2025-12-31"}],
    )

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not VISIBLE_RE.search(value):
            raise ValueError("query must not be empty")
        return value


class HighlightOut(BaseModel):
    text: str = Field(
        ..., description="The sentences of the passage that best match the question.", examples=[SEED_ANSWER]
    )
    start_char: int = Field(..., description="Offset of the highlight in the result's text.", examples=[0])
    end_char: int = Field(..., description="End offset (exclusive) in the result's text.", examples=[120])
    start: float | None = Field(
        None, description="Seconds into the recording where the highlighted passage starts, if timed.", examples=[75.0]
    )
    end: float | None = Field(
        None, description="Seconds into the recording where the highlighted passage ends, if timed.", examples=[91.5]
    )


class HitPartOut(BaseModel):
    passage_id: int = Field(..., description="Stable id of the passage in this index.", examples=[17])
    speaker: str = Field(
        ..., description="Who said this part, as written in the transcript.", examples=["Sergey Lavrov"]
    )
    canonical_speaker: str = Field(..., description="Their canonical name.", examples=["Sergey Lavrov"])
    role: Role = Field(
        ..., description="What the part does: asks, answers a question, states, or narrates.", examples=["answer"]
    )
    turn_index: int = Field(..., description="Position of its speaker turn in the document, from 0.", examples=[6])
    start_char: int = Field(..., description="Offset of the part in its turn's text.", examples=[0])
    end_char: int = Field(..., description="End offset (exclusive) in its turn's text.", examples=[512])
    text: str = Field(..., description="The words of this part, exactly as in the transcript.", examples=[SEED_ANSWER])
    start: float | None = Field(
        None, description="Seconds from the start of the recording, where known.", examples=[14.5]
    )
    end: float | None = Field(
        None, description="Seconds from the start of the recording, where known.", examples=[61.0]
    )


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
        description="The words found, exactly as in the transcript: one passage, or neighbouring passages of the"
        " same speaker separated by a blank line. A result never joins the words of two speakers.",
        examples=[SEED_ANSWER],
    )
    speaker: str = Field(
        ...,
        description="Who said the words found (the highlight's speaker), as written in the transcript; empty for"
        " narration, a reporter's text that is no one's words.",
        examples=["Sergey Lavrov"],
    )
    canonical_speaker: str = Field(
        ..., description="The same person's canonical name in the speaker directory.", examples=["Sergey Lavrov"]
    )
    role: Role = Field(
        ..., description="Role of the main passage.", examples=["answer"]
    )
    context: str | None = Field(
        None, description="For an answer: the question it answers.", examples=[SEED_QUESTION_TEXT]
    )
    document: DocumentRef = Field(..., description="The transcript the result comes from.", examples=[SEED_DOCUMENT])
    turn_index: int = Field(
        ..., description="Position of the main passage's turn in the document, from 0.", examples=[6]
    )
    start_char: int = Field(..., description="Offset of the main passage in its turn's text.", examples=[0])
    end_char: int = Field(..., description="End offset (exclusive) of the main passage in its turn.", examples=[512])
    start: float | None = Field(
        None, description="Seconds from the start of the recording, where known.", examples=[12.5]
    )
    end: float | None = Field(
        None, description="Seconds from the start of the recording, where known.", examples=[61.0]
    )
    parts: list[HitPartOut] = Field(
        ..., description="Every passage of the result, in transcript order.", examples=[[SEED_PART]]
    )
    highlight: HighlightOut | None = Field(
        None,
        description="The sentences of the result that best match the question; null when none shares a word with it.",
        examples=[SEED_HIGHLIGHT],
    )


class SearchResponse(BaseModel):
    query: str = Field(..., description="The question, as asked.", examples=[SEED_QUESTION])
    took_ms: float = Field(..., description="Time spent answering, in milliseconds.", examples=[12.5])
    included_speakers: list[str] = Field(
        ...,
        description="The people the speaker filter admitted, by canonical name: the person a full name means, or"
        " everyone a surname may mean when several people share it. Empty without a speaker filter.",
        examples=[["Sergey Lavrov"]],
    )
    results: list[SearchResultOut] = Field(..., description="The best results, best first.", examples=[[SEED_RESULT]])
