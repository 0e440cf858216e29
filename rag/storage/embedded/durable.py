"""Crash-safe file writes: write beside, fsync, rename into place."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(directory: Path) -> None:
    """fsync every file under a directory, then the directory itself."""
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb+") as handle:
                os.fsync(handle.fileno())
    fsync_dir(directory)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """After this returns the file holds `data`; a crash before leaves the old file untouched."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_json_atomic(path: Path, data: dict) -> None:
    write_bytes_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def install_dir(tmp: Path, target: Path) -> None:
    """Move a fully written (and fsynced) directory into place, replacing any directory there.

    A directory cannot be renamed over a non-empty one, so an old one is first moved aside under
    a hidden name that start-up clean-up removes if a crash comes before it is deleted here.
    """
    aside = target.with_name(f".{target.name}.old.tmp")
    if target.exists():
        shutil.rmtree(aside, ignore_errors=True)
        target.rename(aside)
    tmp.rename(target)
    fsync_dir(target.parent)
    shutil.rmtree(aside, ignore_errors=True)
