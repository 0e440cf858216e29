"""The building blocks of crash-safe writes: directories moved into place whole, and the write lock."""

from __future__ import annotations

import threading
import time

import numpy as np

from rag.errors import IndexBusyError
from rag.lexical import terms
from rag.storage.embedded.locking import lock_holder, writer_lock
from rag.storage.embedded.searchable import Base
from rag.storage.embedded.store import SegmentRows


def rows(ids: list[int], texts: list[str]) -> SegmentRows:
    vectors = np.random.default_rng(0).normal(size=(len(ids), 8)).astype(np.float32)
    return SegmentRows(np.array(ids, dtype=np.int64), vectors, [terms(t) for t in texts])


def test_building_a_base_over_an_existing_directory_replaces_it_whole(tmp_path):
    target = tmp_path / "base-7"
    Base.build(target, 7, rows([1, 2], ["harbour seals", "bus routes"]), 8)
    Base.build(target, 7, rows([5, 6, 9], ["gas storage", "hotel levy", "ferry timetable"]), 8)
    loaded = Base.load(target)
    assert loaded.ids.tolist() == [5, 6, 9]
    assert loaded.postings.lookup(terms("ferry")[0])[0].tolist() == [2]  # row 2 is segment 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base-7"]  # nothing left beside it


def test_the_write_lock_is_reentrant_within_a_thread(tmp_path):
    with writer_lock(tmp_path, holder="rag ingest"), writer_lock(tmp_path, wait=False):
        assert lock_holder(tmp_path).endswith("(rag ingest)")
    assert lock_holder(tmp_path) is None


def test_another_thread_waits_for_the_write_lock(tmp_path):
    order = []

    def second_writer() -> None:
        with writer_lock(tmp_path):
            order.append("second")

    with writer_lock(tmp_path):
        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.3)
        order.append("first")
    thread.join(timeout=10)
    assert order == ["first", "second"]


def test_a_bounded_wait_for_a_taken_lock_fails_naming_the_holder(tmp_path):
    failures = []

    def impatient() -> None:
        started = time.monotonic()
        try:
            with writer_lock(tmp_path, wait=0.3):
                pass
        except IndexBusyError as exc:
            failures.append((time.monotonic() - started, exc.message))

    with writer_lock(tmp_path, holder="rag ingest"):
        thread = threading.Thread(target=impatient)
        thread.start()
        thread.join(timeout=10)
    waited, message = failures[0]
    assert waited >= 0.3
    assert "is being written by process" in message and "(rag ingest)" in message


def test_no_wait_for_a_taken_lock_fails_at_once(tmp_path):
    errors = []

    def impatient() -> None:
        try:
            with writer_lock(tmp_path, wait=False):
                pass
        except IndexBusyError as exc:
            errors.append(exc)

    with writer_lock(tmp_path):
        thread = threading.Thread(target=impatient)
        thread.start()
        thread.join(timeout=10)
    assert len(errors) == 1
