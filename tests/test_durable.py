"""The building blocks of crash-safe writes: directories moved into place whole, and the write lock."""

from __future__ import annotations

import threading
import time

import numpy as np
from rag.locking import IndexBusyError, lock_holder, writer_lock

from rag.lexical import LexicalIndex


def test_saving_bm25_over_an_existing_directory_replaces_it_whole(tmp_path):
    target = tmp_path / "lexical-7"
    LexicalIndex.build(np.array([1, 2]), ["harbour seals", "bus routes"]).save(target)
    LexicalIndex.build(np.array([5, 6, 9]), ["gas storage", "hotel levy", "ferry timetable"]).save(target)
    loaded = LexicalIndex.load(target)
    assert loaded.ids.tolist() == [5, 6, 9]
    assert loaded.search("ferry", k=1)[1].tolist() == [9]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lexical-7"]  # nothing left beside it


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
