"""rag: parse speech transcripts, chunk, embed, index and search them with attribution."""

from rag.models import Document, Passage, SearchHit, Transcript, Turn

__all__ = ["Document", "Passage", "SearchHit", "Transcript", "Turn"]
