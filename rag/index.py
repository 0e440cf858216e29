"""Index: a collection (in whichever backend) with its model and speaker directory, as every command uses it."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from rag.embedding import Embedder, EmbedderOptions
from rag.errors import IndexMismatchError, ModelChangedError, NoIndexError, NotFoundError
from rag.models import DEFAULT_MODEL, NARRATOR, Person, PreparedDocument, SpeakerAlias
from rag.speaker_directory import Directory, build_directory
from rag.storage import CheckReport, Collection, Manifest, Reader, RepairReport
from rag.storage.embedded import EmbeddedCollection
from rag.storage.embedded.collection import EmbeddedOptions
from rag.storage.manifest import DEFAULT_OVERLAP_TOKENS, DEFAULT_SEGMENT_TOKENS
from rag.storage.postgres import DatabaseOptions

MODEL_CHANGES = 2  # a write embedded again this often when reindexes keep switching models under it


class Index:
    """Open with Index.open(); searches run concurrently, writes one at a time."""

    def __init__(
        self, collection: Collection, embedder: Embedder | None = None, embedder_options: EmbedderOptions | None = None
    ):
        self.collection = collection
        self.embedder_options = embedder_options or EmbedderOptions()
        self._embedder = embedder
        self._previous: Embedder | None = None  # the model before a reindex's switch, for readers still on it
        self._embedder_lock = threading.Lock()
        self._directory: tuple[int, Directory] | None = None
        self._directory_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        directory: str | Path | None = None,
        *,
        database: DatabaseOptions | None = None,
        model: str | None = None,
        create: bool = False,
        embedder: Embedder | None = None,
        segment_tokens: int | None = None,
        overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
        embedded: EmbeddedOptions | None = None,
        embedder_options: EmbedderOptions | None = None,
    ) -> Index:
        """Open the collection in `database` if given, else at `directory`; with create=True make an empty
        one when there is none.

        The backend follows: a database (rag.storage.postgres) when its options are given, else the
        embedded backend in the directory (rag.storage.embedded). `model` and `segment_tokens` None mean
        "what the collection was built with" (the defaults for a new one); naming others than the
        collection's is an IndexMismatchError. `embedded`: how an embedded collection runs (when it builds
        new bases, how it searches); `embedder_options`: how the model runs. Settings gives both.
        """
        if database is not None:
            from rag.storage import postgres

            def opening(new: Manifest | None) -> Collection:
                return postgres.open_collection(database, create=new)
        else:
            if directory is None:
                raise ValueError("Index.open needs a directory or a database")

            def opening(new: Manifest | None) -> Collection:
                return EmbeddedCollection.open(directory, create=new, options=embedded)

        try:
            collection = opening(None)
        except NoIndexError:
            if not create:
                raise
            # the model is loaded here only to make a new collection: an existing one loads it on first use
            embedder = embedder or Embedder(model or DEFAULT_MODEL, options=embedder_options)
            collection = opening(new_manifest(embedder, segment_tokens, overlap_tokens))
        where = collection.location
        try:
            collection.manifest.check_compatible(where, model=model, segment_tokens=segment_tokens)
            if embedder is not None:
                collection.manifest.check_compatible(where, model=embedder.name)
        except IndexMismatchError:
            collection.close()  # a database collection holds a pool of connections
            raise
        return cls(collection, embedder, embedder_options)

    @property
    def manifest(self) -> Manifest:
        return self.collection.manifest

    @property
    def embedder(self) -> Embedder:
        """The collection's model, loaded on first use (reading stats needs none); after a reindex's switch,
        the new model, loaded once."""
        return self._embedder_of(self.manifest.model)

    def embedder_for(self, reader: Reader) -> Embedder:
        """The model the reader's vectors were made with: a question is embedded by it, never by another."""
        return self._embedder_of(reader.manifest.model)

    def _embedder_of(self, model: str) -> Embedder:
        for embedder in (self._embedder, self._previous):
            if embedder is not None and embedder.name == model:
                return embedder
        with self._embedder_lock:
            for embedder in (self._embedder, self._previous):
                if embedder is not None and embedder.name == model:
                    return embedder
            loaded = Embedder(model, options=self.embedder_options)
            if self._embedder is None or model == self.manifest.model:
                self._previous, self._embedder = self._embedder, loaded
            else:  # a reader from before a switch this process never saw
                self._previous = loaded
            return loaded

    @property
    def model_loaded(self) -> bool:
        return self._embedder is not None

    @property
    def segment_tokens(self) -> int:
        return self.manifest.segment_tokens

    @property
    def overlap_tokens(self) -> int:
        return self.manifest.overlap_tokens

    def reading(self) -> Iterator[Reader]:
        """A consistent read of the collection (see rag.storage.interface)."""
        return self.collection.reading()

    # ------------------------------------------------------------------ writes

    def apply(self, add: Sequence[PreparedDocument] = (), delete: Sequence[str] = ()) -> None:
        """Add (replacing same ids) and delete documents; a reader sees each document whole or not at all.

        Documents embedded by a model the collection no longer has (a reindex switched meanwhile) are
        embedded again by the new one and written.
        """
        for _ in range(MODEL_CHANGES):
            try:
                self.collection.apply(add=add, delete=delete)
                return
            except ModelChangedError:
                with self.reading():
                    pass  # the collection notices its new model
                embedder = self.embedder
                add = [
                    dataclasses.replace(
                        doc, vectors=embedder.encode_passages([s.text for s in doc.segments]), model=embedder.name
                    )
                    for doc in add
                ]
        self.collection.apply(add=add, delete=delete)

    def delete(self, doc_id: str) -> None:
        if self.content_hash(doc_id) is None:
            raise NotFoundError(f"no document with id {doc_id!r}", field="id")
        self.apply(delete=[doc_id])

    def content_hash(self, doc_id: str) -> str | None:
        with self.reading() as reader:
            return reader.content_hash(doc_id)

    def rename_speaker(self, name: str, new_name: str) -> None:
        """Give a person (any of their names, or their canonical name) a new canonical name."""
        self.collection.set_canonical(self._members(name), new_name.strip())

    def merge_speakers(self, names: Sequence[str], into: str) -> None:
        """Make the people named one person, known by `into`'s canonical name."""
        target = self.speakers.canonical_of(next(iter(self._members(into))))
        self.collection.set_canonical({m for name in names for m in self._members(name)}, target)

    def _members(self, name: str) -> set[str]:
        members = self.speakers.resolve(name)
        if not members:
            raise NotFoundError(f"no speaker named {name!r}", field="speaker")
        return members

    # ------------------------------------------------------------------ reads

    @property
    def speakers(self) -> Directory:
        """The speaker directory: who is who among the speakers, as of now."""
        with self.reading() as reader:
            return self.directory_of(reader)

    def directory_of(self, reader: Reader) -> Directory:
        """The speaker directory as of a reader's state, built again only when a speaker name comes or goes.

        (The passage counts and shared documents it weighs are those of the last rebuild until then.)
        """
        version = reader.speakers_version
        cached = self._directory
        if cached is not None and cached[0] == version:
            return cached[1]
        with self._directory_lock:
            if self._directory is None or self._directory[0] != version:
                directory = build_directory(
                    dict(reader.speakers()), reader.speaker_overrides(), documents=reader.speaker_documents()
                )
                self._directory = (version, directory)
            return self._directory[1]

    def people(self) -> list[Person]:
        """Each person (canonical name) with their passages and the names they are written as, most first.

        Narration is no one's words and is not listed.
        """
        with self.reading() as reader:
            directory = self.directory_of(reader)
            written = reader.speakers()
        aliases: dict[str, list[SpeakerAlias]] = {}
        for name, count in written:
            if name != NARRATOR:
                aliases.setdefault(directory.canonical_of(name), []).append(SpeakerAlias(name, count))
        people = [Person(name, sum(a.passages for a in found), tuple(found)) for name, found in aliases.items()]
        return sorted(people, key=lambda person: (-person.passages, person.name))

    def stats(self) -> dict:
        with self.reading() as reader:
            counts = reader.counts()
            speakers = len(reader.speakers())
        return {
            "location": self.collection.location,
            "model": self.manifest.model,
            "dimension": self.manifest.dimension,
            "segment_tokens": self.segment_tokens,
            "overlap_tokens": self.overlap_tokens,
            "format_version": self.manifest.format_version,
            "documents": counts.documents,
            "turns": counts.turns,
            "passages": counts.passages,
            "segments": counts.segments,
            "speakers": speakers,
        }

    def close(self) -> None:
        self.collection.close()


def new_manifest(embedder: Embedder, segment_tokens: int | None, overlap_tokens: int) -> Manifest:
    """The manifest of a new collection made with this model and these segment sizes."""
    segment_tokens = segment_tokens or DEFAULT_SEGMENT_TOKENS
    if segment_tokens > embedder.max_tokens:
        raise IndexMismatchError(
            f"passages of {segment_tokens} tokens do not fit {embedder.name} (at most {embedder.max_tokens})",
            field="segment_tokens",
        )
    return Manifest(
        model=embedder.name,
        dimension=embedder.dimension,
        segment_tokens=segment_tokens,
        overlap_tokens=overlap_tokens,
    )


def check_collection(directory: str | Path | None = None, *, database: DatabaseOptions | None = None) -> CheckReport:
    """What `rag check` verifies, in the collection's backend: the database if given, else the directory."""
    if database is not None:
        from rag.storage import postgres

        return postgres.check(database)
    from rag.storage.embedded import check

    return check(directory)


def repair_collection(
    directory: str | Path | None = None, *, database: DatabaseOptions | None = None, model: str | None = None
) -> RepairReport:
    """What `rag repair` rebuilds, in the collection's backend: the database if given, else the directory."""
    if database is not None:
        from rag.storage import postgres

        return postgres.repair(database, model=model)
    from rag.storage.embedded import repair

    return repair(directory, model=model)
