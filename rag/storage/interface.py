"""The collection's interface: what search, documents, context, integrity and the API ask of storage.

A collection holds documents, their turns, passages and segments (with one vector each) and the speaker
overrides. Two backends implement it: `embedded` (files in one directory: sqlite, FAISS, BM25 postings)
and `postgres` (one database, shared by any number of servers). Ranking lives above both (rag.search), so
both rank alike; a backend answers for candidates and rows, never for how they are combined.

Reads happen inside `Collection.reading()`, which yields a `Reader` over one consistent state: every
read through it sees the same documents. Writes are `apply()` (documents added, replaced, deleted: each
document one transaction, so a reader sees it whole or not at all) and `set_canonical()`.

Reindexing (another model for an existing collection) is staged beside what is searched, then switched to
at once: `begin_reindex(manifest)`, then `reindex_todo()` / `stage()` until nothing is left, then
`switch(catch_up)`. Before the switch every reader sees the old vectors and model, after it the new ones;
`Reader.manifest` says which, so that a question is embedded by the model its snapshot's vectors are of.
A backend that cannot reindex yet raises ReindexUnsupportedError from these methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import numpy as np

from rag.errors import ModelChangedError, RagError
from rag.models import Document, Filters, PreparedDocument, StoredSegment, Turn
from rag.storage.manifest import Manifest

Ranked = list[tuple[int, float]]  # (segment id, score), best first


class ReindexUnsupportedError(RagError):
    """This backend cannot reindex a collection (yet)."""


@dataclass(frozen=True)
class StagedDocument:
    """A document's vectors under the model a reindex is moving to, one row per segment in segment order.

    `content_hash` is the document's hash when its segments were read: if it changed since, the document is
    not staged (it is read again). `new_hash` is its hash under the new model, what an ingest of the same
    transcript computes, so that ingesting it again after the switch finds it unchanged.
    """

    doc_id: str
    content_hash: str
    vectors: np.ndarray
    new_hash: str

    def vectors_for(self, segments: int, dimension: int) -> np.ndarray:
        """Its vectors as float32, checked to be one per segment the document holds, of the new model's width."""
        vectors = np.asarray(self.vectors, dtype=np.float32)
        if vectors.shape != (segments, dimension):
            raise ValueError(f"{self.doc_id}: {vectors.shape} vectors for {segments} segments of dimension {dimension}")
        return vectors


@dataclass(frozen=True)
class Counts:
    """How much a collection holds."""

    documents: int = 0
    turns: int = 0
    passages: int = 0
    segments: int = 0


@dataclass
class CheckReport:
    """What a check found: facts about the collection, and every problem in words."""

    location: str
    facts: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class RepairReport:
    """What a repair did, and what a check still finds afterwards."""

    location: str
    actions: list[str] = field(default_factory=list)
    check: CheckReport | None = None

    @property
    def ok(self) -> bool:
        return self.check is not None and self.check.ok


class Reader(ABC):
    """Reads of one consistent state of a collection; valid only inside `Collection.reading()`."""

    @property
    @abstractmethod
    def generation(self) -> int:
        """Goes up with every change to the documents."""

    @property
    @abstractmethod
    def manifest(self) -> Manifest:
        """What this state's vectors were made with: changes only when a reindex switches models."""

    @property
    @abstractmethod
    def speakers_version(self) -> int:
        """Changes whenever the speaker directory may have: a speaker name came or went, or was renamed or
        merged (not with every document, so that a write does not cost the next search a new directory)."""

    # ---------------------------------------------------------------- candidates

    @abstractmethod
    def dense(self, vector: np.ndarray, n: int, filters: Filters) -> Ranked:
        """The n segments whose vectors best match (inner product), among those the filters admit."""

    @abstractmethod
    def lexical(self, terms: Sequence[str], n: int, filters: Filters) -> Ranked:
        """The n segments of best BM25 score for these terms (positive scores only, ties by id)."""

    @abstractmethod
    def admits_any(self, filters: Filters) -> bool:
        """Whether any segment holds a passage the filters admit."""

    # ---------------------------------------------------------------- rows

    @abstractmethod
    def segments(self, ids: Sequence[int]) -> dict[int, StoredSegment]:
        """Segments with their passages and documents, by id; ids that do not exist are absent."""

    @abstractmethod
    def segment_documents(self, ids: Sequence[int]) -> dict[int, str]:
        """The document id of each segment id."""

    @abstractmethod
    def segment_ids_of(self, doc_id: str) -> list[int]:
        """A document's segment ids, in order."""

    @abstractmethod
    def answer_segments(
        self, turns: Sequence[tuple[str, int]], filters: Filters
    ) -> dict[tuple[str, int], list[int]]:
        """For question turns (doc_id, turn_index): the segments of the answer that follows, in order,
        of those holding a passage the filters admit."""

    @abstractmethod
    def admitted_passages(self, filters: Filters, segment_ids: Sequence[int]) -> set[int]:
        """Of these segments' passages, the ids of those the filters admit."""

    @abstractmethod
    def document(self, doc_id: str) -> Document | None: ...

    @abstractmethod
    def documents(
        self,
        *,
        ids: Sequence[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        speakers: Sequence[str] = (),
    ) -> list[Document]:
        """Documents by date then id; `speakers` keeps those where any of them has a turn."""

    @abstractmethod
    def count_documents(
        self, *, date_from: str | None = None, date_to: str | None = None, speakers: Sequence[str] = ()
    ) -> int:
        """How many documents `documents()` would list with these filters and no paging."""

    @abstractmethod
    def turns(self, doc_id: str) -> list[Turn]:
        """A document's turns in order."""

    @abstractmethod
    def content_hash(self, doc_id: str) -> str | None: ...

    @abstractmethod
    def speakers(self) -> list[tuple[str, int]]:
        """Every speaker as written with their passage count, most passages first."""

    @abstractmethod
    def speaker_documents(self) -> dict[str, set[str]]:
        """Each speaker as written with the ids of the documents they have a turn in."""

    @abstractmethod
    def speaker_overrides(self) -> dict[str, str]:
        """Names (as written, or canonical) mapped to the canonical name a user gave them."""

    @abstractmethod
    def counts(self) -> Counts: ...

    @abstractmethod
    def segment_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every segment's id (ascending) and vector: for exact-search checks and re-embedding."""


class Collection(ABC):
    """A collection of transcripts in one backend."""

    manifest: Manifest

    @property
    @abstractmethod
    def location(self) -> str:
        """Where it is, for people: a directory, or a database URL with its password masked."""

    @abstractmethod
    def reading(self) -> AbstractContextManager[Reader]:
        """A consistent read of the collection."""

    @abstractmethod
    def apply(self, add: Sequence[PreparedDocument] = (), delete: Sequence[str] = ()) -> None:
        """Add (replacing documents of the same id) and delete documents; each is one transaction.

        A document whose `model` is not the collection's (a reindex switched models since it was embedded)
        is not written: ModelChangedError, before anything is written.
        """

    # ------------------------------------------------------------------ reindexing

    def begin_reindex(self, manifest: Manifest) -> int:
        """Start staging vectors of `manifest`'s model (resuming a staging for the same model, dropping one
        for another); returns how many documents are staged already."""
        raise self._cannot_reindex()

    def reindex_todo(self, limit: int | None = None) -> list[str]:
        """Ids of documents whose vectors under the staged model are still to be staged."""
        raise self._cannot_reindex()

    def stage(self, documents: Sequence[StagedDocument]) -> int:
        """Keep these vectors beside the searched ones (not searched yet); returns how many documents were
        staged (one that changed since it was read is not)."""
        raise self._cannot_reindex()

    def switch(self, catch_up: Callable[[list[str]], Sequence[StagedDocument]]) -> Manifest:
        """Make the staged vectors and model the collection's, in one step readers see whole.

        Documents written since they were staged are staged first with `catch_up(ids)` (the last of them
        while writers wait); returns the collection's new manifest.
        """
        raise self._cannot_reindex()

    def abandon_reindex(self) -> None:
        """Drop whatever a reindex staged; the collection stays as it is."""
        raise self._cannot_reindex()

    def _cannot_reindex(self) -> ReindexUnsupportedError:
        backend = self.describe().get("backend", type(self).__name__)
        return ReindexUnsupportedError(
            f"rag reindex is not yet available on the {backend} backend: ingest the transcripts into a new"
            " collection with the new model instead",
            field="model",
        )

    @abstractmethod
    def set_canonical(self, names: Iterable[str], canonical: str) -> None:
        """Record that these speaker names (as written, or canonical) mean `canonical`."""

    @abstractmethod
    def exclusive(self, wait: bool) -> AbstractContextManager[None]:
        """Keep other writers out for a whole command (a bulk ingest); if another holds the collection, an
        IndexBusyError naming it, unless `wait`. Backends that take concurrent writers need not exclude."""

    @abstractmethod
    def set_write_wait(self, seconds: float | None) -> None:
        """How long a write waits for another writer before failing (None: as long as it takes)."""

    @abstractmethod
    def describe(self) -> dict[str, object]:
        """Facts about the backend for `rag stats` and the health endpoints (no secrets)."""

    @abstractmethod
    def close(self) -> None: ...


CATCH_UP_ROUNDS = 3  # rounds of staging what writers added, before the switch's last one that holds them off


def stage_written_since(collection: Collection, catch_up: Callable[[list[str]], Sequence[StagedDocument]]) -> None:
    """Before a switch: stage the documents written since they were staged, a few rounds while writers go on."""
    for _ in range(CATCH_UP_ROUNDS):
        todo = collection.reindex_todo()
        if not todo:
            return
        collection.stage(catch_up(todo))


def check_made_by(manifest: Manifest, add: Sequence[PreparedDocument]) -> None:
    """Documents embedded by another model than the collection's (or of another dimension) are refused."""
    for prepared in add:
        width = prepared.vectors.shape[1] if prepared.vectors.ndim == 2 else None
        if (prepared.model is not None and prepared.model != manifest.model) or width not in (None, manifest.dimension):
            raise ModelChangedError(
                f"{prepared.doc.id} was embedded by {prepared.model or 'another model'} (dimension {width}), the"
                f" collection's vectors are now of {manifest.model} (dimension {manifest.dimension}): embed it again",
                field="model",
            )
