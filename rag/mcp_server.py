"""The MCP server: tools that let a language model search the transcripts and read one, over stdio or HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from rag.context import citation_label
from rag.dates import iso_day
from rag.documents import get_document
from rag.errors import RagError
from rag.index import Index
from rag.models import MAX_K, Filters, Role
from rag.search import search

NAME = "transcript-search"
INSTRUCTIONS = (
    "Search speech transcripts (press conferences, interviews, hearings, meetings) for who said what about a"
    " subject. Each passage comes with its speaker and a citation (speaker, place, date): quote the words"
    " exactly and cite them. Use get_transcript to read a whole document around a passage."
)


class DocumentInfo(BaseModel):
    id: str = Field(description="The document's id, for get_transcript.")
    title: str = Field(description="The document's title.")
    date: str | None = Field(description="ISO date of the event (YYYY-MM-DD), where known.")
    place: str | None = Field(description="Where the event took place, where known.")


class Passage(BaseModel):
    rank: int = Field(description="1 for the best match.")
    citation: str = Field(description="Who said it, where and when: cite this with the quote.")
    speaker: str = Field(description="Who said it, as written in the transcript.")
    canonical_speaker: str = Field(description="The same person's canonical name across transcripts.")
    role: Role = Field(description="What the turn does.")
    text: str = Field(description="The words found, exactly as in the transcript.")
    answers: str | None = Field(description="For an answer: the question it answers.")
    document: DocumentInfo = Field(description="The transcript it comes from.")
    turn_index: int = Field(
        description="Position of the speaker turn in the document (get_transcript's turns), from 0."
    )
    passage_id: int = Field(description="The passage's id in the index.")
    start: float | None = Field(description="Seconds into the recording, where the source has times.")


class SearchResults(BaseModel):
    question: str = Field(description="The question searched for.")
    results: list[Passage] = Field(description="The best passages, best first; empty when nothing matched.")


class TranscriptTurn(BaseModel):
    index: int = Field(description="Position of the turn in the document, from 0.")
    speaker: str = Field(description="Who spoke, as written in the transcript.")
    role: Role = Field(description="What the turn does.")
    text: str = Field(description="What they said.")
    start: float | None = Field(description="Seconds into the recording, where the source has times.")
    end: float | None = Field(description="Seconds into the recording, where the source has times.")


class TranscriptOut(BaseModel):
    id: str = Field(description="The document's id.")
    title: str = Field(description="The document's title.")
    date: str | None = Field(description="ISO date of the event, where known.")
    place: str | None = Field(description="Where the event took place, where known.")
    source: str | None = Field(description="The file or address the transcript came from.")
    turns: list[TranscriptTurn] = Field(description="Every speaker turn, in order.")


class _LazyIndex:
    """The index, opened at the first tool call: the server answers its handshake without waiting for it."""

    def __init__(self, opening: Callable[[], Index]):
        self._opening = opening
        self._index: Index | None = None
        self._lock = threading.Lock()

    def get(self) -> Index:
        with self._lock:
            if self._index is None:
                self._index = self._opening()
            return self._index


def create_server(opening: Callable[[], Index], *, max_k: int = MAX_K) -> MCPServer:
    """An MCP server over the collection `opening()` opens (at the first tool call), with two read-only tools."""
    index = _LazyIndex(opening)
    server = MCPServer(NAME, instructions=INSTRUCTIONS, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

    @server.tool(annotations=read_only)
    def search_transcripts(
        question: Annotated[str, Field(description="What to find, in plain words: 'What did Lavrov say about X?'")],
        speaker: Annotated[
            str | None, Field(description="Only passages by this speaker (full name, surname, or as written).")
        ] = None,
        date_from: Annotated[
            str | None, Field(description="Only transcripts dated on or after this day, YYYY-MM-DD.")
        ] = None,
        date_to: Annotated[
            str | None, Field(description="Only transcripts dated on or before this day, YYYY-MM-DD.")
        ] = None,
        k: Annotated[int, Field(ge=1, le=MAX_K, description="How many passages to return (RAG_MAX_K at most).")] = 5,
    ) -> SearchResults:
        """Find the passages of the transcripts that answer a question, each with who said it, where and when."""
        if not question.strip():
            raise ToolError("question must not be empty")
        if k > max_k:
            raise ToolError(f"k must be at most {max_k}")
        filters = Filters(
            speakers=(speaker,) if speaker and speaker.strip() else (),
            date_from=_iso_day(date_from, "date_from"),
            date_to=_iso_day(date_to, "date_to"),
        )
        try:
            hits = search(index.get(), question, k=k, filters=filters).hits
        except RagError as exc:
            raise ToolError(exc.message) from None
        return SearchResults(
            question=question,
            results=[
                Passage(
                    rank=hit.rank,
                    citation=citation_label(hit.canonical_speaker, hit.document, hit.start),
                    speaker=hit.speaker,
                    canonical_speaker=hit.canonical_speaker,
                    role=hit.role,
                    text=hit.text,
                    answers=hit.context,
                    document=DocumentInfo(
                        id=hit.document.id, title=hit.document.title, date=hit.document.date, place=hit.document.place
                    ),
                    turn_index=hit.turn_index,
                    passage_id=hit.passage_id,
                    start=hit.start,
                )
                for hit in hits
            ],
        )

    @server.tool(annotations=read_only)
    def get_transcript(
        document_id: Annotated[str, Field(description="A document's id, as search_transcripts gives it.")],
    ) -> TranscriptOut:
        """The whole transcript of one document: its title, date, place and every speaker turn in order."""
        try:
            detail = get_document(index.get(), document_id)
        except RagError as exc:
            raise ToolError(exc.message) from None
        return TranscriptOut(
            id=detail.id,
            title=detail.title,
            date=detail.date,
            place=detail.place,
            source=detail.source,
            turns=[
                TranscriptTurn(index=i, speaker=t.speaker, role=t.role, text=t.text, start=t.start, end=t.end)
                for i, t in enumerate(detail.turns)
            ],
        )

    return server


def _iso_day(value: str | None, name: str) -> str | None:
    if value is None or not value.strip():
        return None
    day = iso_day(value)
    if day is None:
        raise ToolError(f"{name} must be a date YYYY-MM-DD, not {value!r}")
    return day


def serve(
    opening: Callable[[], Index],
    *,
    transport: Literal["stdio", "streamable-http"] = "stdio",
    host: str = "127.0.0.1",
    port: int = 8000,
    max_k: int = MAX_K,
) -> None:
    """Run the server until its client goes away (stdio) or it is stopped (HTTP, at http://host:port/mcp)."""
    server = create_server(opening, max_k=max_k)
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=host, port=port)
