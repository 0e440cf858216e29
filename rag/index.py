"""Index: one directory holding the passage store, the FAISS vectors and the BM25 index in step."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.config import DEFAULT_MODEL
from rag.durable import write_json_atomic
from rag.embedding import Embedder
from rag.errors import IndexMismatchError, NoIndexError, NotFoundError
from rag.lexical import LexicalIndex
from rag.locking import IndexBusyError, ReadWriteLock, writer_lock
from rag.models import Document, Passage, Transcript
from rag.store import PassageStore
from rag.vectors import VectorIndex

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STORE = "passages.sqlite"
DEFAULT_PASSAGE_TOKENS = 128
DEFAULT_OVERLAP_TOKENS = 24


@dataclass(frozen=True)
class PreparedDocument:
    """A transcript chunked and embedded, ready to be written in one step."""

    doc: Document
    content_hash: str
    transcript: Transcript
    passages: list[Passage]
    vectors: np.ndarray


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
        self._checked_at = 0.0
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
        passage_tokens: int = DEFAULT_PASSAGE_TOKENS,
        overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
    ) -> Index:
        """Open the index in `directory`; with create=True make an empty one when there is none.

        `model` None means "the model the index was built with" (the default for a new index);
        naming another model than the index's is an IndexMismatchError.
        """
        directory = Path(directory)
        manifest_path = directory / MANIFEST
        if not manifest_path.exists():
            if not create:
                raise NoIndexError(str(directory))
            directory.mkdir(parents=True, exist_ok=True)
            embedder = embedder or Embedder(model or DEFAULT_MODEL)
            if passage_tokens > embedder.max_tokens:
                raise IndexMismatchError(
                    f"passages of {passage_tokens} tokens do not fit {embedder.name} (at most {embedder.max_tokens})",
                    field="passage_tokens",
                )
            with writer_lock(directory):
                if not manifest_path.exists():
                    write_json_atomic(manifest_path, _new_manifest(embedder, passage_tokens, overlap_tokens))
        manifest = _read_manifest(manifest_path)
        if model is not None and model != manifest["model"]:
            raise IndexMismatchError(
                f"the index at {directory} was built with model {manifest['model']!r}, not {model!r};"
                " use another --index directory or the same model",
                field="model",
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
    def passage_tokens(self) -> int:
        return int(self.manifest["passage_tokens"])

    @property
    def overlap_tokens(self) -> int:
        return int(self.manifest["overlap_tokens"])

    # ------------------------------------------------------------------ derived parts

    def _load_derived(self, persist: bool = False) -> None:
        """Load vectors and BM25 from their files, or rebuild them from the store if stale.

        A rebuild is written back when `persist` and no other process is writing.
        """
        generation = self.store.generation()
        files = self.manifest.get("files", {})
        vectors_path = self.directory / files.get("vectors", "-")
        lexical_path = self.directory / files.get("lexical", "-")
        stale = not (self.manifest.get("generation") == generation and vectors_path.is_file() and lexical_path.is_dir())
        if stale:
            vectors, lexical = self._rebuild_derived()
        else:
            vectors, lexical = VectorIndex.load(vectors_path), LexicalIndex.load(lexical_path)
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

    def _rebuild_derived(self) -> tuple[VectorIndex, LexicalIndex]:
        ids, matrix = self.store.vectors()
        dimension = int(self.manifest["dimension"])
        vectors = VectorIndex.build(dimension, ids, matrix.reshape(len(ids), dimension))
        lexical = LexicalIndex.build(*self.store.texts())
        return vectors, lexical

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

    def apply(self, add: list[PreparedDocument] = (), delete: list[str] = ()) -> list[int]:
        """Add (replacing same ids) and delete documents; searches see all of it or none of it.

        Each document is its own sqlite transaction, so a crash leaves every document either
        fully present or absent; the vector and BM25 files are rewritten afterwards and
        rebuilt from the store on the next open if the crash came first.
        Returns the ids of the passages removed.
        """
        with writer_lock(self.directory):
            self._sync_with_store()
            store = self.store
            current_ids, current_texts = store.texts()
            removed: list[int] = []
            for doc_id in [*delete, *(p.doc.id for p in add)]:
                removed.extend(store.passage_ids_of(doc_id))
            next_id = store.next_passage_id()
            new_ids: list[np.ndarray] = []
            for prepared in add:
                new_ids.append(np.arange(next_id, next_id + len(prepared.passages), dtype=np.int64))
                next_id += len(prepared.passages)
            keep = ~np.isin(current_ids, np.asarray(removed, dtype=np.int64))
            lexical_ids = np.concatenate([current_ids[keep], *new_ids]) if new_ids else current_ids[keep]
            lexical_texts = [t for t, k in zip(current_texts, keep, strict=True) if k]
            for prepared in add:
                lexical_texts.extend(p.text for p in prepared.passages)
            lexical = LexicalIndex.build(lexical_ids, lexical_texts)

            with self.lock.write():
                for doc_id in delete:
                    with store.transaction() as db:
                        store.delete_document(db, doc_id)
                for prepared, ids in zip(add, new_ids, strict=True):
                    with store.transaction() as db:
                        store.replace_document(
                            db,
                            prepared.doc,
                            prepared.content_hash,
                            prepared.transcript,
                            prepared.passages,
                            prepared.vectors,
                            ids,
                        )
                self.vectors.remove(removed)
                for prepared, ids in zip(add, new_ids, strict=True):
                    self.vectors.add(ids, prepared.vectors)
                self.lexical = lexical
                self.loaded_generation = store.generation()
            self._persist_derived()
        return removed

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
            updated_at=_now(),
        )
        write_json_atomic(self.directory / MANIFEST, manifest)
        self.manifest = manifest
        _remove_stale_files(self.directory, keep={vectors_name, lexical_name})

    # ------------------------------------------------------------------ reads

    def stats(self) -> dict:
        counts = self.store.counts()
        return {
            "directory": str(self.directory),
            "model": self.manifest["model"],
            "dimension": self.manifest["dimension"],
            "passage_tokens": self.passage_tokens,
            "overlap_tokens": self.overlap_tokens,
            "format_version": self.manifest["format_version"],
            **counts,
            "speakers": len(self.store.speakers()),
        }


def _new_manifest(embedder: Embedder, passage_tokens: int, overlap_tokens: int) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "dimension": embedder.dimension,
        "passage_tokens": passage_tokens,
        "overlap_tokens": overlap_tokens,
        "index_type": "flat-ip",
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


def _remove_stale_files(directory: Path, keep: set[str]) -> None:
    for path in directory.iterdir():
        name = path.name
        if name in keep or not name.startswith(("vectors-", "lexical-", ".vectors-", ".lexical-")):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
