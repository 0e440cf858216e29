"""Layout: what chunking and content hashes need of an index (model, passage settings), without its storage.

`rag.ingest.prepare` and `rag.ingest.content_hash` read these attributes of an `Index`; a worker on another
machine (a Ray actor) or a reindex hashing under the next model has no open collection, only this.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.embedding import Embedder
from rag.storage.manifest import Manifest


@dataclass(frozen=True)
class Layout:
    """A manifest, and the model that chunks by its tokenizer (None where only hashes are made)."""

    manifest: Manifest
    model: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        if self.model is None:
            raise ValueError("this layout hashes only: it has no model to chunk with")
        return self.model

    @property
    def segment_tokens(self) -> int:
        return self.manifest.segment_tokens

    @property
    def overlap_tokens(self) -> int:
        return self.manifest.overlap_tokens
