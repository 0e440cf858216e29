"""Request dependencies: the open index, loaded once and shared by every request."""

from __future__ import annotations

import contextlib
import threading
from typing import Annotated

from fastapi import Depends, Request

from rag.config import Settings
from rag.embedding import Embedder
from rag.errors import RagError
from rag.index import Index


class IndexHolder:
    """Opens the index on first need, so that an index built after start-up is picked up."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._index: Index | None = None
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model and, if present, the index (at start-up, so the first search is fast)."""
        # no index yet is not fatal: each request says so until one is built
        with contextlib.suppress(RagError):
            self.get().embedder  # noqa: B018 - loads the model now rather than on the first search

    def get(self) -> Index:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = Index.open(
                        self.settings.index_dir, model=self.settings.model, embedder=self._embedder
                    )
        return self._index

    @property
    def loaded(self) -> Index | None:
        return self._index


def get_index(request: Request) -> Index:
    return request.app.state.holder.get()


IndexDep = Annotated[Index, Depends(get_index)]
