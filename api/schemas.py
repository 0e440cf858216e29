"""Request and response bodies of the HTTP API, with examples for the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from rag.context import DEFAULT_K, DEFAULT_MAX_TOKENS, MERGED, PASSAGE
from rag.documents import ID_PATTERN
from rag.store import Filters

SEED_QUESTION = "What did Lavrov say about the phone call between Putin and Trump?"


def _encodable(value: str) -> str:
    # JSON may carry lone surrogates ("\ud800"); they cannot be stored or embedded as UTF-8
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


# A character that is white space neither to Python (str.strip, which also strips U+001C..U+001F and U+0085)
# nor to JSON Schema (ECMA-262 \s, which also counts U+FEFF): the schema's pattern and the validators must
# agree on what "blank" means, or a schema-valid "\x1d" is refused.
VISIBLE = r"[^\s\x1c-\x1f\x85\ufeff]"
_VISIBLE = re.compile(VISIBLE)


def _not_blank(value: str) -> str:
    if not _VISIBLE.search(value):
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
# the pattern tells generated clients (and schemathesis) what the validator enforces
NonBlankText = Annotated[Text, AfterValidator(_not_blank), Field(json_schema_extra={"pattern": VISIBLE})]

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
    k: int = Field(5, ge=1, le=100, description="How many results to return.", examples=[5])
    offset: int = Field(0, ge=0, le=10_000, description="Results to skip, for paging.", examples=[0])
    mode: Literal["hybrid", "dense", "lexical"] = Field(
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
        if not _VISIBLE.search(value):
            raise ValueError("query must not be empty")
        return value


MAX_HISTORY = 20
FOLLOW_UP = "and what did he say about migration?"


class ContextRequest(BaseModel):
    """A question (and the conversation so far) to build a language model's context for."""

    model_config = ConfigDict(extra="forbid")

    question: NonBlankText = Field(
        ...,
        description='The user\'s question, in plain words; a follow-up ("and what did he say about migration?")'
        " is read against `history`.",
        examples=[SEED_QUESTION],
    )
    k: int = Field(
        DEFAULT_K, ge=1, le=100, description="How many search results to draw the quotes from.", examples=[DEFAULT_K]
    )
    max_tokens: int = Field(
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
    format: Literal["text", "json"] | None = Field(
        None, description="Force a format instead of detecting it.", examples=["text"]
    )


# ---------------------------------------------------------------------- responses

SEED_TITLE = (
    "Foreign Minister Sergey Lavrov’s statement and answers to media questions at a joint news conference with"
    " Foreign Minister of the Republic of Tajikistan Sirojiddin Mukhriddin following talks, Moscow, February 13, 2025"
)
SEED_DOCUMENT = {
    "id": "000_8fcf709333f4d63f",
    "title": SEED_TITLE,
    "date": "2025-02-13",
    "place": "Moscow",
    "source": "examples/000_8fcf709333f4d63f.txt",
}
SEED_QUESTION_TEXT = (
    "Yesterday, after the phone call between President Trump and Russian President Vladimir Putin, are you more"
    " hopeful now that there can be real and fundamental change and improvement in US-Russian relations? ..."
)
SEED_ANSWER = (
    "First, the very question – if we expect relations between Russia and the United States to improve after"
    " yesterday’s phone call – suggests that they were not normal during the years we lived with the Biden"
    " administration."
)
SEED_PART = {
    "passage_id": 21,
    "speaker": "Sergey Lavrov",
    "canonical_speaker": "Sergey Lavrov",
    "role": "answer",
    "turn_index": 6,
    "start_char": 0,
    "end_char": 220,
    "text": SEED_ANSWER,
    "start": None,
    "end": None,
}
SEED_HIGHLIGHT = {"text": SEED_ANSWER, "start_char": 0, "end_char": 220}
SEED_RESULT = {
    "rank": 1,
    "score": 0.0328,
    "passage_id": 21,
    "text": SEED_ANSWER,
    "speaker": "Sergey Lavrov",
    "canonical_speaker": "Sergey Lavrov",
    "role": "answer",
    "context": SEED_QUESTION_TEXT,
    "document": SEED_DOCUMENT,
    "turn_index": 6,
    "start_char": 0,
    "end_char": 220,
    "start": None,
    "end": None,
    "parts": [SEED_PART],
    "highlight": SEED_HIGHLIGHT,
}


class DocumentRef(BaseModel):
    id: str = Field(..., description="The document's id.", examples=["000_8fcf709333f4d63f"])
    title: str = Field(..., description="The document's title.", examples=[SEED_TITLE])
    date: str | None = Field(None, description="ISO date of the document.", examples=["2025-02-13"])
    place: str | None = Field(None, description="Where the event took place.", examples=["Moscow"])
    source: str | None = Field(
        None, description="File or URL the transcript came from.", examples=["examples/000_8fcf709333f4d63f.txt"]
    )


class HighlightOut(BaseModel):
    text: str = Field(
        ..., description="The sentences of the passage that best match the question.", examples=[SEED_ANSWER]
    )
    start_char: int = Field(..., description="Offset of the highlight in the result's text.", examples=[0])
    end_char: int = Field(..., description="End offset (exclusive) in the result's text.", examples=[120])


class HitPartOut(BaseModel):
    passage_id: int = Field(..., description="Stable id of the passage in this index.", examples=[17])
    speaker: str = Field(
        ..., description="Who said this part, as written in the transcript.", examples=["Sergey Lavrov"]
    )
    canonical_speaker: str = Field(..., description="Their canonical name.", examples=["Sergey Lavrov"])
    role: Literal["question", "answer", "statement"] = Field(
        ..., description="What the part does: asks, answers a question, or states.", examples=["answer"]
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
        description="The words found, exactly as in the transcript; when neighbouring turns were found together,"
        " each turn's text is preceded by 'Speaker: ' and turns are separated by a blank line.",
        examples=[SEED_ANSWER],
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
    results: list[SearchResultOut] = Field(..., description="The best results, best first.", examples=[[SEED_RESULT]])


SEED_LABEL = "Sergey Lavrov, Moscow, 13 February 2025"
SEED_CONTEXT = f"[1] {SEED_LABEL}:\n{SEED_ANSWER}"


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
    role: Literal["question", "answer", "statement"] = Field(
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


SEED_CITATION = {
    "n": 1,
    "label": SEED_LABEL,
    "speaker": "Sergey Lavrov",
    "canonical_speaker": "Sergey Lavrov",
    "role": "answer",
    "document": SEED_DOCUMENT,
    "date": "2025-02-13",
    "start": None,
    "end": None,
    "kind": PASSAGE,
    "text": SEED_ANSWER,
    "quote": SEED_ANSWER,
    "truncated": False,
    "passage_id": 21,
    "passage_ids": [21],
    "turn_index": 6,
    "start_char": 0,
    "end_char": 220,
}


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


class SpeakerAliasOut(BaseModel):
    name: str = Field(
        ..., description="A name as written in the transcripts.", examples=["Foreign Minister Sergey Lavrov"]
    )
    passages: int = Field(..., description="Passages under this name.", examples=[3])


class SpeakerOut(BaseModel):
    name: str = Field(..., description="The person's canonical name.", examples=["Sergey Lavrov"])
    passages: int = Field(..., description="Passages of theirs in the index, under all their names.", examples=[21])
    aliases: list[SpeakerAliasOut] = Field(
        ...,
        description="Every name they appear under in the transcripts.",
        examples=[
            [{"name": "Sergey Lavrov", "passages": 18}, {"name": "Foreign Minister Sergey Lavrov", "passages": 3}]
        ],
    )


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
    """Exactly one of rename and merge."""

    # the schema says "exactly one" too, so that clients (and schemathesis) know that a body with neither,
    # or with both, is refused; neither may be null (a default of None is not validated)
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"oneOf": [{"required": ["rename"]}, {"required": ["merge"]}]}
    )

    rename: SpeakerRename = Field(
        None,
        description="Give a person a new canonical name (give this or merge, not both).",
        examples=[{"name": "SPEAKER_01", "to": "Maria Zakharova"}],
    )
    merge: SpeakerMerge = Field(
        None,
        description="Make several names one person (give this or rename, not both).",
        examples=[{"names": ["Vladmir Putin"], "into": "Vladimir Putin"}],
    )

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
                },
                {
                    "speaker": "Anna Keller",
                    "role": "answer",
                    "text": "There will be enough gas.",
                    "start": 14.5,
                    "end": 61.0,
                },
            ]
        ],
    )


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
