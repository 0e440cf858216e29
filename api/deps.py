"""Request dependencies: the open index, loaded once and shared by every request."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Annotated

from fastapi import Depends, Request

from rag.config import Settings
from rag.embedding import Embedder
from rag.errors import IndexMismatchError, NoIndexError, RagError, StorageUnavailableError
from rag.index import Index
from rag.models import DEFAULT_MODEL, Limits
from rag.search import search

log = logging.getLogger("api")


class IndexHolder:
    """Opens the index on first need, so that an index built after start-up is picked up."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.database = settings.database()
        # where the collection is, for people: the index directory, or the database URL with its password masked
        self.location = self.database.location if self.database else str(settings.index_dir)
        self._index: Index | None = None
        self._embedder = embedder
        self._lock = threading.Lock()
        self.model_load_seconds: float | None = 0.0 if embedder is not None else None
        self.load_error: str | None = None

    def load(self) -> None:
        """Load the model and, if present, the index (at start-up, so the first search is fast).

        Without an index, or with its database unreachable, the model is loaded all the same, so that
        /ready turns 200 as soon as the index can be opened; each request says why not until then.
        """
        started = time.perf_counter()
        try:
            try:
                embedder = self.get().embedder
            except (NoIndexError, StorageUnavailableError) as exc:
                if isinstance(exc, StorageUnavailableError):
                    self.load_error = exc.message
                    log.error("cannot open the index: %s", exc.message)
                model = self.settings.model or DEFAULT_MODEL
                embedder = self._embedder or Embedder(model, options=self.settings.embedder_options())
        except RagError as exc:
            self.load_error = exc.message
            log.error("cannot load the index or the model: %s", exc.message)
            return
        except Exception:
            # a damaged index must not keep the service from starting: /health answers, /ready says
            # 503, and each request that needs the index fails with a logged 500
            self.load_error = "the index cannot be opened; the server log has the details"
            log.exception("cannot open the index at %s", self.location)
            return
        if self._embedder is None:
            self.model_load_seconds = time.perf_counter() - started
        self._embedder = embedder
        if self._index is not None:
            warm_up(self._index)

    def get(self, *, create: bool = False) -> Index:
        """The open index; with create=True (a write) an empty one is made when there is none."""
        if self._index is None:
            with self._lock:
                if self._index is None:
                    index = self._open(create)
                    index.collection.set_write_wait(self.settings.write_wait_s)
                    self._index = index
        return self._index

    def _open(self, create: bool) -> Index:
        directory, model = self.settings.index_dir, self.settings.model
        options = {
            "database": self.database,
            "embedded": self.settings.embedded_options(background=True),  # a server builds bases in a thread
            "embedder_options": self.settings.embedder_options(),
        }
        if self._embedder is None:
            return Index.open(directory, model=model, create=create, **options)
        try:
            return Index.open(directory, model=model, create=create, embedder=self._embedder, **options)
        except IndexMismatchError:
            # built with another model since start-up: that model is loaded on first use
            return Index.open(directory, model=model, **options)

    @property
    def loaded(self) -> Index | None:
        return self._index

    @property
    def ready(self) -> bool:
        """The index is open and its model loaded: a search will not wait for either."""
        return self._index is not None and self._index.model_loaded

    def close(self) -> None:
        """Close the index (a database's pool of connections) at shutdown."""
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None

    def counts_if_reachable(self) -> dict[str, int] | None:
        """counts(), or None while the collection's database cannot be reached (metrics are served all the same)."""
        try:
            return self.counts()
        except StorageUnavailableError:
            return None

    def counts(self) -> dict[str, int] | None:
        """Documents, turns and passages, or None before there is an index."""
        index = self._index
        if index is None:
            return None
        with index.reading() as reader:
            return dataclasses.asdict(reader.counts())


def warm_up(index: Index) -> None:
    """One question through each stage before the first request, so that it does not pay first-use costs."""
    try:
        search(index, "warm-up question", k=10)
    except Exception:  # a warm-up must never keep the service from starting
        log.exception("warm-up failed")


def get_index(request: Request) -> Index:
    return request.app.state.holder.get()


def get_writable_index(request: Request) -> Index:
    return request.app.state.holder.get(create=True)


def get_limits(request: Request) -> Limits:
    settings: Settings = request.app.state.settings
    return settings.limits()


IndexDep = Annotated[Index, Depends(get_index)]
WritableIndexDep = Annotated[Index, Depends(get_writable_index)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
