"""The embedded backend: a collection in one directory on one machine (sqlite, FAISS, BM25 postings)."""

from rag.storage.embedded.collection import EmbeddedCollection
from rag.storage.embedded.integrity import check, repair

__all__ = ["EmbeddedCollection", "check", "repair"]
