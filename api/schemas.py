"""Request and response bodies of the HTTP API, with examples for the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SEED_QUESTION = "What did Lavrov say about the phone call between Putin and Trump?"


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: list[str] | None = Field(
        None,
        description="Only passages by these speakers, as written in the transcripts.",
        examples=[["Sergey Lavrov"]],
    )
    document_id: str | None = Field(
        None, description="Only passages of this document.", examples=["000_8fcf709333f4d63f"]
    )
    date_from: dt.date | None = Field(
        None, description="Only documents dated on or after this day.", examples=["2025-01-01"]
    )
    date_to: dt.date | None = Field(
        None, description="Only documents dated on or before this day.", examples=["2025-12-31"]
    )

    @field_validator("speaker", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(..., description="The question, in plain words.", examples=[SEED_QUESTION])
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


class SearchResultOut(BaseModel):
    rank: int = Field(..., description="1 for the best result.", examples=[1])
    score: float = Field(
        ...,
        description="Ranking score (fused rank score in hybrid mode, cosine in dense, BM25 in lexical).",
        examples=[0.0328],
    )
    passage_id: int = Field(..., description="Stable id of the passage in this index.", examples=[17])
    text: str = Field(..., description="The speaker's words, exactly as in the transcript.")
    speaker: str = Field(..., description="Who said it, as written in the transcript.", examples=["Sergey Lavrov"])
    role: Literal["question", "answer", "statement"] = Field(..., examples=["answer"])
    context: str | None = Field(None, description="For an answer: the question it answers.")
    document: DocumentRef
    turn_index: int = Field(..., description="Position of the speaker turn in the document, from 0.", examples=[6])
    start_char: int = Field(..., description="Offset of the text in its turn.", examples=[0])
    end_char: int = Field(..., description="End offset (exclusive) of the text in its turn.", examples=[512])
    start: float | None = Field(None, description="Seconds from the start of the recording, where known.")
    end: float | None = Field(None, description="Seconds from the start of the recording, where known.")
    highlight: HighlightOut | None = None


class SearchResponse(BaseModel):
    query: str = Field(..., examples=[SEED_QUESTION])
    took_ms: float = Field(..., description="Time spent answering, in milliseconds.", examples=[12.5])
    results: list[SearchResultOut]


class SpeakerOut(BaseModel):
    name: str = Field(..., examples=["Sergey Lavrov"])
    passages: int = Field(..., examples=[21])


class DocumentOut(BaseModel):
    id: str = Field(..., examples=["000_8fcf709333f4d63f"])
    title: str
    date: str | None = Field(None, examples=["2025-02-13"])
    place: str | None = Field(None, examples=["Moscow"])
    source: str | None = None
    turns: int = Field(..., examples=[7])
    passages: int = Field(..., examples=[25])


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"
    index: str = Field(..., description="The index directory.", examples=["index"])
    documents: int | None = Field(None, description="Documents indexed; null when there is no index yet.")
    passages: int | None = None
    model: str | None = Field(None, examples=["all-MiniLM-L6-v2"])


class ErrorOut(BaseModel):
    error: str = Field(
        ..., description="What is wrong, in words.", examples=["k: Input should be less than or equal to 100"]
    )
    field: str | None = Field(None, description="The request field at fault, dotted.", examples=["k"])
