"""Locks on files of a collection directory: one writing process at a time, one building a base."""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import IndexBusyError

LOCK_FILE = "write.lock"


@contextmanager
def writer_lock(directory: Path, *, wait: bool | float = True, holder: str | None = None) -> Iterator[None]:
    """Hold the index's lock file: one writing process at a time, any number of readers.

    `wait` True waits as long as it takes, False fails at once, a number waits that many seconds;
    failing is an IndexBusyError naming the holder. The lock is re-entrant within a thread (the
    CLI holds it for a whole ingest, whose batches take it again); other threads of the process
    wait like other processes do, since flock locks belong to each open file.
    """
    key = str(Path(directory).resolve())
    held: dict[str, int] = _held.__dict__.setdefault("counts", {})
    if held.get(key):
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    path = directory / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, directory, wait)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} ({holder or _command()})".encode(), 0)
        held[key] = 1
        try:
            yield
        finally:
            held.pop(key, None)
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def try_lock(path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on `path` if nobody else does; yields whether it is held."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def hold_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path`, waiting for whoever holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def lock_holder(directory: Path) -> str | None:
    """Who holds the index's write lock ("pid command"), or None when nobody does."""
    path = directory / LOCK_FILE
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


_held = threading.local()  # per thread: index directories whose lock this thread holds, and how often
_POLL_S = 0.05


def _acquire(fd: int, directory: Path, wait: bool | float) -> None:
    if wait is True:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + float(wait)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                raise IndexBusyError(
                    f"the index at {directory} is being written by process {holder}; try again when it finishes",
                    field="index",
                ) from None
            time.sleep(_POLL_S)


def _command() -> str:
    """What this process is, for the message another writer gets: `rag ingest`, `rag serve`..."""
    args = [os.path.basename(sys.argv[0]) if sys.argv else "python", *sys.argv[1:2]]
    if args[0] in ("cli.py", "__main__.py", "-m", "-c", ""):
        args[0] = "rag"
    return " ".join(a for a in args if a)[:80]
