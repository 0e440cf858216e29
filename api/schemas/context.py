"""Bodies of POST /context."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.examples import (
    FOLLOW_UP,
    SEED_ANSWER,
    SEED_CITATION,
    SEED_CONTEXT,
    SEED_DOCUMENT,
    SEED_LABEL,
    SEED_QUESTION,
)
from api.schemas.fields import Count, DocumentRef, NonBlankText, Text
from api.schemas.search import SearchFilters
from rag.context import DEFAULT_K, DEFAULT_MAX_TOKENS, MERGED, PASSAGE
from rag.models import MAX_K, Role

MAX_HISTORY = 20


class ContextRequest(BaseModel):
    """A question (and the conversation so far) to build a language model's context for."""

    model_config = ConfigDict(extra="forbid")

    question: NonBlankText = Field(
        ...,
        description='The user\'s question, in plain words; a follow-up ("and what did he say about migration?")'
        " is read against `history`.",
        examples=[SEED_QUESTION],
    )
    k: Count = Field(
        DEFAULT_K, ge=1, le=MAX_K, description="How many search results to draw the quotes from.", examples=[DEFAULT_K]
    )
    max_tokens: Count = Field(
        DEFAULT_MAX_TOKENS,
        ge=16,
        le=32_768,
        description="Budget for `context`, in tokens of the embedding model's tokenizer (all-MiniLM-L6-v2's"
        " WordPiece; a chat model's own tokenizer counts somewhat differently). A quote that does not fit is cut"
        " after its last whole sentence that does, or left out.",
        examples=[DEFAULT_MAX_TOKENS],
    )
    filters: SearchFilters | None = Field(
        None,
        description="Restrict the passages searched, as in `POST /search`.",
        examples=[{"speaker": ["Sergey Lavrov"], "date_from": "2025-01-01"}],
    )
    history: list[Text] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description="The user's earlier questions in this conversation, oldest first. A question that refers"
        ' back (he, she, they, it, "and ...", "what about ...") takes the speaker and topic from them.',
        examples=[[SEED_QUESTION]],
    )


class CitationOut(BaseModel):
    """One numbered quote of a context: who said it, where and when, and the exact words."""

    n: int = Field(..., description="The quote's number in `context` (`[n]`), from 1.", examples=[1])
    label: str = Field(
        ...,
        description="Who, where (place, else the document's title) and when (date, and time into the recording"
        " where known), as the context cites it.",
        examples=[SEED_LABEL],
    )
    speaker: str = Field(
        ..., description="Who said the quoted passage, as written in the transcript.", examples=["Sergey Lavrov"]
    )
    canonical_speaker: str = Field(
        ..., description="The same person's canonical name in the speaker directory.", examples=["Sergey Lavrov"]
    )
    role: Role = Field(
        ..., description="What the quoted turn does: asks, answers a question, or states.", examples=["answer"]
    )
    document: DocumentRef = Field(..., description="The transcript the quote comes from.", examples=[SEED_DOCUMENT])
    date: str | None = Field(None, description="ISO date of the document.", examples=["2025-02-13"])
    start: float | None = Field(
        None,
        description="Seconds into the recording where the quote starts, where the source has times.",
        examples=[14.5],
    )
    end: float | None = Field(
        None,
        description="Seconds into the recording where the quote ends, where the source has times.",
        examples=[61.0],
    )
    kind: Literal["passage", "merged"] = Field(
        ...,
        description=f"{PASSAGE}: `text` is one stored passage's text, exactly. {MERGED}: neighbouring passages of one"
        " turn were both chosen, and `text` is the exact span of the turn's text they cover together"
        " (`start_char`..`end_char`), listed in `passage_ids`.",
        examples=[PASSAGE],
    )
    text: str = Field(
        ...,
        description="The words cited, exactly as stored: one passage, or the merged span of one turn (see `kind`).",
        examples=[SEED_ANSWER],
    )
    quote: str = Field(
        ...,
        description="What `context` quotes: `text`, or its leading whole sentences when the token budget ran out.",
        examples=[SEED_ANSWER],
    )
    truncated: bool = Field(..., description="True when `quote` is shorter than `text`.", examples=[False])
    passage_id: int = Field(..., description="The (first) cited passage's id in this index.", examples=[21])
    passage_ids: list[int] = Field(
        ..., description="Every cited passage's id, in the order they appear in the turn.", examples=[[21]]
    )
    turn_index: int = Field(..., description="Position of the quoted turn in the document, from 0.", examples=[6])
    start_char: int = Field(..., description="Offset of `text` in its turn's text.", examples=[0])
    end_char: int = Field(..., description="End offset (exclusive) of `text` in its turn's text.", examples=[220])


class ContextResponse(BaseModel):
    """A language model's context for a question: numbered, attributed quotes and their citations."""

    question: str = Field(..., description="The question, as asked.", examples=[FOLLOW_UP])
    query: str = Field(
        ...,
        description="What was searched: the question made self-contained with the speaker and topic it refers"
        " back to from `history`.",
        examples=["and what did Sergey Lavrov say about migration?"],
    )
    context: str = Field(
        ...,
        description="Numbered quotes, best first, each as `[n] Speaker, place, date:` on one line and the exact"
        " words below it; quotes are separated by a blank line. Fits `max_tokens` and ends at a sentence end."
        " Empty when nothing was found.",
        examples=[SEED_CONTEXT],
    )
    citations: list[CitationOut] = Field(
        ..., description="One per quote of `context`, in the same order (`n`).", examples=[[SEED_CITATION]]
    )
    tokens: int = Field(
        ...,
        description="Tokens of `context` under the embedding model's tokenizer, at most `max_tokens`.",
        examples=[57],
    )
    max_tokens: int = Field(..., description="The budget that was asked for.", examples=[DEFAULT_MAX_TOKENS])
