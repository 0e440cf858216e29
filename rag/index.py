"""Index: one directory holding the passage store, the FAISS vectors and the BM25 index in step."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.chunking import Segment, index_text
from rag.config import DEFAULT_MODEL
from rag.durable import write_json_atomic
from rag.embedding import Embedder
from rag.errors import IndexMismatchError, NoIndexError, NotFoundError
from rag.lexical import LexicalIndex
from rag.locking import IndexBusyError, ReadWriteLock, writer_lock
from rag.models import Document, Passage, Transcript
from rag.speaker_directory import Directory, build_directory
from rag.store import PassageStore
from rag.vectors import VectorIndex

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
STORE = "passages.sqlite"
DEFAULT_SEGMENT_TOKENS = 128
DEFAULT_OVERLAP_TOKENS = 24
DERIVED_PREFIXES = ("vectors-", "lexical-")  # derived files are named <prefix><generation>

log = logging.getLogger("rag.index")


@dataclass(frozen=True)
class PreparedDocument:
    """A transcript chunked, grouped into segments and embedded, ready to be written in one step."""

    doc: Document
    content_hash: str
    transcript: Transcript
    passages: list[Passage]
    segments: list[Segment]
    vectors: np.ndarray  # one row per segment


def write_prepared(
    store: PassageStore,
    db: sqlite3.Connection,
    prepared: PreparedDocument,
    passage_ids: Sequence[int],
    segment_ids: Sequence[int],
) -> None:
    """Put a prepared document into the store under the passage and segment ids given (no derived files)."""
    store.replace_document(
        db,
        prepared.doc,
        prepared.content_hash,
        prepared.transcript,
        prepared.passages,
        passage_ids,
        [(s.first, s.last) for s in prepared.segments],
        segment_ids,
        prepared.vectors,
    )


class Index:
    """Open with Index.open(); searches run concurrently, writes one at a time."""

    def __init__(self, directory: Path, manifest: dict, embedder: Embedder | None = None):
        self.directory = directory
        self.manifest = manifest
        self.store = PassageStore(directory / STORE)
        self._embedder = embedder
        self.lock = ReadWriteLock()
        self.vectors: VectorIndex
        self.lexical: LexicalIndex
        self.loaded_generation = -1
        self._directory: tuple[tuple[int, int], Directory] | None = None
        self._checked_at = 0.0
        # how long a write waits for another process's (True: as long as it takes); the API sets a
        # bound so that a request is answered 409 rather than held while `rag ingest` runs
        self.write_wait: bool | float = True
        self.clean_leftovers()
        self._load_derived(persist=True)

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        directory: str | Path,
        *,
        model: str | None = None,
        create: bool = False,
        embedder: Embedder | None = None,
        segment_tokens: int | None = None,
        overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
    ) -> Index:
        """Open the index in `directory`; with create=True make an empty one when there is none.

        `model` and `segment_tokens` None mean "what the index was built with" (the defaults for a new
        index); naming others than the index's is an IndexMismatchError.
        """
        directory = Path(directory)
        manifest_path = directory / MANIFEST
        if not manifest_path.exists():
            if not create:
                raise NoIndexError(str(directory))
            directory.mkdir(parents=True, exist_ok=True)
            embedder = embedder or Embedder(model or DEFAULT_MODEL)
            segment_tokens = segment_tokens or DEFAULT_SEGMENT_TOKENS
            if segment_tokens > embedder.max_tokens:
                raise IndexMismatchError(
                    f"passages of {segment_tokens} tokens do not fit {embedder.name} (at most {embedder.max_tokens})",
                    field="segment_tokens",
                )
            with writer_lock(directory):
                if not manifest_path.exists():
                    write_json_atomic(manifest_path, _new_manifest(embedder, segment_tokens, overlap_tokens))
        manifest = _read_manifest(manifest_path)
        if model is not None and model != manifest["model"]:
            raise IndexMismatchError(
                f"the index at {directory} was built with model {manifest['model']!r}, not {model!r};"
                " use another --index directory or the same model",
                field="model",
            )
        if segment_tokens is not None and segment_tokens != int(manifest["segment_tokens"]):
            raise IndexMismatchError(
                f"the index at {directory} was built with segments of {manifest['segment_tokens']} tokens,"
                f" not {segment_tokens}; use another --index directory",
                field="segment_tokens",
            )
        if embedder is not None and embedder.name != manifest["model"]:
            raise IndexMismatchError(
                f"the index at {directory} was built with model {manifest['model']!r}, not {embedder.name!r}",
                field="model",
            )
        return cls(directory, manifest, embedder)

    @property
    def embedder(self) -> Embedder:
        """The index's model, loaded on first use (reading stats needs none)."""
        if self._embedder is None:
            self._embedder = Embedder(self.manifest["model"])
        return self._embedder

    @property
    def model_loaded(self) -> bool:
        return self._embedder is not None

    @property
    def segment_tokens(self) -> int:
        return int(self.manifest["segment_tokens"])

    @property
    def overlap_tokens(self) -> int:
        return int(self.manifest["overlap_tokens"])

    # ------------------------------------------------------------------ derived parts

    def _load_derived(self, persist: bool = False) -> None:
        """Load vectors and BM25 from their files, or rebuild them from the store if stale or damaged.

        A rebuild is written back when `persist` and no other process is writing.
        """
        with self.store.snapshot():
            # the generation and a rebuild read in one sqlite snapshot: a write committed by
            # another process meanwhile can neither tear the rebuild nor be mislabelled as in it
            generation = self.store.generation()
            loaded = self._load_files(generation)
            stale = loaded is None
            vectors, lexical = loaded or self._rebuild_derived()
        with self.lock.write():
            # two refreshes may race, or a write in this process may land while this one rebuilt:
            # never go back to an older state than the one already loaded
            if generation < self.loaded_generation:
                return
            self.vectors, self.lexical = vectors, lexical
            self.loaded_generation = generation
        if stale and persist and generation > 0:
            try:
                with writer_lock(self.directory, wait=False):
                    if self.store.generation() == generation:
                        self._persist_derived()
            except IndexBusyError:
                pass  # the writer will persist its own state

    def _load_files(self, generation: int) -> tuple[VectorIndex, LexicalIndex] | None:
        """The derived files the manifest names, if they are of this generation and load whole."""
        files = self.manifest.get("files") or {}
        names = [files.get("vectors"), files.get("lexical")]
        if self.manifest.get("generation") != generation or not all(names):
            return None
        paths = [self.directory / str(name) for name in names]
        try:
            vectors, lexical = VectorIndex.load(paths[0]), LexicalIndex.load(paths[1])
        except Exception as exc:
            # missing (a writer removed them after this process read the manifest) or damaged:
            # the store has everything they hold
            missing = [p.name for p in paths if not p.exists()]
            reason = f"{', '.join(missing)} missing" if missing else (str(exc).strip().splitlines() or ["?"])[-1]
            log.warning("rebuilding the derived files of %s from the store: %s", self.directory, reason)
            return None
        segments = self.store.counts()["segments"]
        if not (len(vectors) == len(lexical) == segments and vectors.dimension == int(self.manifest["dimension"])):
            log.warning("rebuilding the derived files of %s: they do not match the store", self.directory)
            return None
        return vectors, lexical

    def _rebuild_derived(self) -> tuple[VectorIndex, LexicalIndex]:
        ids, matrix = self.store.vectors()
        dimension = int(self.manifest["dimension"])
        vectors = VectorIndex.build(dimension, ids, matrix.reshape(len(ids), dimension))
        lexical = LexicalIndex.build(*self._segment_texts())
        return vectors, lexical

    def rebuild_derived(self) -> int:
        """Rebuild the vectors and BM25 index from the store and write them; returns the segment count."""
        with writer_lock(self.directory):
            with self.store.snapshot():
                generation = self.store.generation()
                vectors, lexical = self._rebuild_derived()
            with self.lock.write():
                self.vectors, self.lexical = vectors, lexical
                self.loaded_generation = generation
            self._persist_derived()
        return len(vectors)

    def clean_leftovers(self) -> list[str]:
        """Remove what interrupted writes left (temporary files, derived files the manifest does not name).

        Only when no other process is writing: a running writer's temporary files are its work.
        """
        try:
            with writer_lock(self.directory, wait=False):
                # read again under the lock: a writer may have switched the manifest since it was read
                manifest = _read_manifest(self.directory / MANIFEST)
                return remove_leftovers(self.directory, manifest)
        except IndexBusyError:
            return []

    def refresh(self, every: float = 1.0) -> None:
        """Pick up writes made by another process (checked at most every `every` seconds)."""
        now = time.monotonic()
        if now - self._checked_at < every:
            return
        self._checked_at = now
        # under the read lock: a write of this process commits and loads its state under the
        # write lock, so only another process's writes can look stale here
        with self.lock.read():
            stale = self.store.generation() != self.loaded_generation
        if stale:
            self.manifest = _read_manifest(self.directory / MANIFEST)
            self._load_derived()

    # ------------------------------------------------------------------ writes

    def content_hash(self, doc_id: str) -> str | None:
        return self.store.content_hash(doc_id)

    def apply(self, add: Sequence[PreparedDocument] = (), delete: Sequence[str] = ()) -> None:
        """Add (replacing same ids) and delete documents; searches see all of it or none of it.

        Each document is its own sqlite transaction, so a crash leaves every document either
        fully present or absent; the vector and BM25 files are rewritten afterwards and
        rebuilt from the store on the next open if the crash came first.
        """
        with writer_lock(self.directory, wait=self.write_wait):
            self._sync_with_store()
            store = self.store
            removed = [sid for doc_id in [*delete, *(p.doc.id for p in add)] for sid in store.segment_ids_of(doc_id)]
            next_passage, next_segment = store.next_ids()
            passage_ids, segment_ids = [], []
            for prepared in add:
                passage_ids.append(range(next_passage, next_passage + len(prepared.passages)))
                segment_ids.append(np.arange(next_segment, next_segment + len(prepared.segments), dtype=np.int64))
                next_passage += len(prepared.passages)
                next_segment += len(prepared.segments)
            # the BM25 index of the state after this write, built before searches are held up
            current_ids, current_texts = self._segment_texts()
            keep = ~np.isin(current_ids, np.asarray(removed, dtype=np.int64))
            lexical = LexicalIndex.build(
                np.concatenate([current_ids[keep], *segment_ids]),
                [t for t, k in zip(current_texts, keep, strict=True) if k]
                + [seg.text for prepared in add for seg in prepared.segments],
            )
            with self.lock.write():
                for doc_id in delete:
                    with store.transaction() as db:
                        store.delete_document(db, doc_id)
                for prepared, pids, sids in zip(add, passage_ids, segment_ids, strict=True):
                    with store.transaction() as db:
                        write_prepared(store, db, prepared, pids, sids)
                self.vectors.remove(removed)
                for prepared, sids in zip(add, segment_ids, strict=True):
                    self.vectors.add(sids, prepared.vectors)
                self.lexical = lexical
                self.loaded_generation = store.generation()
            self._persist_derived()

    def _segment_texts(self) -> tuple[np.ndarray, list[str]]:
        """Every segment's id and index text, in id order, from the store."""
        ids, texts = [], []
        for segment_id, parts in self.store.segment_passages():
            ids.append(segment_id)
            texts.append(index_text(parts))
        return np.asarray(ids, dtype=np.int64), texts

    def delete(self, doc_id: str) -> None:
        if self.store.document(doc_id) is None:
            raise NotFoundError(f"no document with id {doc_id!r}", field="id")
        self.apply(delete=[doc_id])

    def _sync_with_store(self) -> None:
        """Before writing, make sure another process's writes are loaded."""
        if self.store.generation() != self.loaded_generation:
            self.manifest = _read_manifest(self.directory / MANIFEST)
            self._load_derived()

    def _persist_derived(self) -> None:
        generation = self.loaded_generation
        vectors_name, lexical_name = f"vectors-{generation}.faiss", f"lexical-{generation}"
        self.vectors.save(self.directory / vectors_name)
        self.lexical.save(self.directory / lexical_name)
        counts = self.store.counts()
        manifest = dict(
            self.manifest,
            generation=generation,
            files={"vectors": vectors_name, "lexical": lexical_name},
            documents=counts["documents"],
            passages=counts["passages"],
            segments=counts["segments"],
            vector_index=self.vectors.describe(),
            updated_at=_now(),
        )
        write_json_atomic(self.directory / MANIFEST, manifest)
        self.manifest = manifest
        remove_leftovers(self.directory, manifest)

    def rename_speaker(self, name: str, new_name: str) -> None:
        """Give a person (any of their names, or their canonical name) a new canonical name."""
        members = self._members(name)
        with writer_lock(self.directory, wait=self.write_wait), self.store.transaction() as db:
            self.store.set_canonical(db, members, new_name.strip())

    def merge_speakers(self, names: Sequence[str], into: str) -> None:
        """Make the people named one person, known by `into`'s canonical name."""
        target = self.speakers.canonical_of(next(iter(self._members(into))))
        members = {m for name in names for m in self._members(name)}
        with writer_lock(self.directory, wait=self.write_wait), self.store.transaction() as db:
            self.store.set_canonical(db, members, target)

    def _members(self, name: str) -> set[str]:
        members = self.speakers.resolve(name)
        if not members:
            raise NotFoundError(f"no speaker named {name!r}", field="speaker")
        return members

    # ------------------------------------------------------------------ reads

    @property
    def speakers(self) -> Directory:
        """The speaker directory: who is who among the speakers, as of now."""
        version = self.store.speakers_version()
        if self._directory is None or self._directory[0] != version:
            names = dict(self.store.speakers())
            overrides = self.store.speaker_overrides()
            directory = build_directory(names, overrides, documents=self.store.speaker_documents())
            self._directory = (version, directory)
        return self._directory[1]

    def stats(self) -> dict:
        counts = self.store.counts()
        return {
            "directory": str(self.directory),
            "model": self.manifest["model"],
            "dimension": self.manifest["dimension"],
            "segment_tokens": self.segment_tokens,
            "overlap_tokens": self.overlap_tokens,
            "format_version": self.manifest["format_version"],
            **counts,
            "speakers": len(self.store.speakers()),
        }


def _new_manifest(embedder: Embedder, segment_tokens: int, overlap_tokens: int) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "dimension": embedder.dimension,
        "segment_tokens": segment_tokens,
        "overlap_tokens": overlap_tokens,
        "generation": -1,
        "files": {},
        "documents": 0,
        "passages": 0,
        "created_at": _now(),
    }


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexMismatchError(f"unreadable manifest {path}: {exc}") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index at {path.parent} has format version {manifest.get('format_version')},"
            f" this program reads {FORMAT_VERSION}: rebuild it with rag ingest"
        )
    return manifest


def leftover_files(directory: Path, manifest: dict) -> list[Path]:
    """Files no reader needs: temporary ones of an interrupted write, derived ones of other generations."""
    keep = set(manifest.get("files", {}).values())
    out = []
    for path in sorted(directory.iterdir()):
        name = path.name
        if name.endswith(".tmp") or (name.startswith(DERIVED_PREFIXES) and name not in keep):
            out.append(path)
    return out


def remove_leftovers(directory: Path, manifest: dict) -> list[str]:
    """Remove `leftover_files`; returns their names. Call only under the index's write lock."""
    removed = []
    for path in leftover_files(directory, manifest):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
