"""Questions' vectors under concurrency: an LRU cache, and a micro-batcher that embeds questions together.

`Embedder.encode_query` is what the search path calls for a question's vector: it goes through a
`QueryEncoder`, the cache in front of the batcher; `MicroBatcher` is the general mechanism: calls from
many threads, each call's item joining the next batch, run by one of the callers.

Batching costs a lone caller nothing: when no batch is running a call is run at once, on the caller's
own thread, as a batch of one. While batches run, calls queue; the next batch takes all of them (up to
`max_batch`), so under load the batch size grows with the number of waiting callers and the cost per
question falls (for this model on one core: 5.4 ms alone, 3.5 ms in a batch of 16 of the same length).
A positive `max_wait_ms` makes the leader of a batch wait that long for company (more batching, more
latency at low load); the default is 0.

Its sizes are the embedder's options (rag.embedding.EmbedderOptions: `RAG_QUERY_CACHE_SIZE`, questions kept,
1024, 0 turns the cache off; `RAG_QUERY_BATCH`, largest batch, 32; `RAG_QUERY_BATCH_WAIT_MS`, 0;
`RAG_QUERY_BATCHES`, batches embedded at once, one per core). Real
questions differ in length, and a batch costs its size times its longest question, so the encoder splits
a batch into groups of similar length (rag.onnx_embed); on a mixed stream that saves ~12% of the
embedding CPU, so running a batch on each core matters more than making batches large.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")


class LRUCache(Generic[T, R]):
    """A thread-safe mapping that keeps the `maxsize` most recently used entries."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._data: OrderedDict[T, R] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: T) -> R | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: T, value: R) -> None:
        if self.maxsize <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class _Slot:
    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item):
        self.item = item
        self.result = None
        self.error: BaseException | None = None
        self.done = False


class MicroBatcher(Generic[T, R]):
    """`batcher(item)` from any thread returns `fn([... item ...])[i]` for its own item.

    `fn` takes a list of items and returns one result per item, in order. There is no worker thread:
    a caller that finds fewer than `max_concurrent` batches running becomes a leader and runs a batch of
    what is waiting on its own thread (so a lone caller pays no hand-over between threads); callers
    arriving meanwhile wait, and when a batch is done one of those still waiting leads the next batch
    with all of them. Settings that
    libraries keep per thread (FAISS's OpenMP count) must therefore be made inside `fn`. An exception in
    `fn` is raised in every caller of that batch.
    """

    def __init__(
        self,
        fn: Callable[[list[T]], Sequence[R]],
        *,
        max_batch: int = 32,
        max_wait_ms: float = 0.0,
        max_concurrent: int = 1,
        name: str = "micro-batcher",
    ):
        self.fn = fn
        self.max_batch = max(1, max_batch)
        self.max_concurrent = max(1, max_concurrent)
        self.max_wait = max(0.0, max_wait_ms) / 1000
        self.name = name
        self._pending: list[_Slot] = []
        self._cond = threading.Condition()
        self._running = 0
        self.batches = 0
        self.items = 0

    def __call__(self, item: T) -> R:
        slot = _Slot(item)
        with self._cond:
            self._pending.append(slot)
            while not slot.done:
                if self._running >= self.max_concurrent or slot not in self._pending:
                    self._cond.wait()  # a batch is running (or has taken this call): wait for it
                    continue
                self._running += 1
                batch = self._take()
                self._cond.release()
                try:
                    self._run(batch)
                finally:
                    self._cond.acquire()
                    self._running -= 1
                    self._cond.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _take(self) -> list[_Slot]:
        """Called with the lock held: the next batch, after waiting up to max_wait for company."""
        if self.max_wait and len(self._pending) < self.max_batch:
            deadline = time.monotonic() + self.max_wait
            while len(self._pending) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
        batch = self._pending[: self.max_batch]
        del self._pending[: self.max_batch]
        return batch

    def _run(self, batch: list[_Slot]) -> None:
        try:
            results = self.fn([s.item for s in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{self.name}: {len(results)} results for {len(batch)} items")
            for slot, result in zip(batch, results, strict=True):
                slot.result = result
        except BaseException as exc:  # every caller of the batch gets it
            for slot in batch:
                slot.error = exc
        finally:
            self.batches += 1
            self.items += len(batch)
            for slot in batch:
                slot.done = True


class QueryEncoder:
    """Question -> unit vector: LRU cache, then the micro-batcher around `encode_many(list[str])`."""

    def __init__(
        self,
        encode_many: Callable[[list[str]], np.ndarray],
        *,
        cache_size: int = 1024,
        max_batch: int = 32,
        max_wait_ms: float = 0.0,
        max_concurrent: int = 1,
    ):
        self.encode_many = encode_many
        self.cache: LRUCache[str, np.ndarray] = LRUCache(cache_size)
        self.batcher: MicroBatcher[str, np.ndarray] = MicroBatcher(
            self._encode_batch,
            max_batch=max_batch,
            max_wait_ms=max_wait_ms,
            max_concurrent=max_concurrent,
            name="query-embedding",
        )

    def _encode_batch(self, texts: list[str]) -> list[np.ndarray]:
        unique = list(dict.fromkeys(texts))  # the same question twice in a batch is embedded once
        vectors = self.encode_many(unique)
        by_text = {t: vectors[i] for i, t in enumerate(unique)}
        return [by_text[t] for t in texts]

    def __call__(self, text: str) -> np.ndarray:
        cached = self.cache.get(text)
        if cached is not None:
            return cached
        vector = np.array(self.batcher(text), dtype=np.float32)  # its own copy, not a view of the batch
        vector.flags.writeable = False  # shared through the cache: nobody may change it
        self.cache.put(text, vector)
        return vector

