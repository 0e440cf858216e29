"""The files of an embedded collection's directory: their names, reading manifest.json, and what is left over."""

from __future__ import annotations

import json
from pathlib import Path

from rag.errors import IndexMismatchError
from rag.storage.embedded import store as st
from rag.storage.embedded.durable import write_json_atomic
from rag.storage.embedded.locking import writer_lock
from rag.storage.embedded.searchable import BASE_PREFIX
from rag.storage.manifest import FORMAT_VERSION, Manifest

MANIFEST = "manifest.json"
STORE = "passages.sqlite"
COMPACT_LOCK = "compact.lock"


def read_manifest(directory: Path) -> Manifest:
    """The directory's manifest; one of format 2 (before the store kept terms) is brought up to date."""
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexMismatchError(f"unreadable manifest {path}: {exc}") from None
    if isinstance(data, dict) and data.get("format_version") == 2 and (directory / STORE).exists():
        # the store migrates itself when opened; its old FAISS and BM25 files become leftovers
        data = {key: data.get(key) for key in ("model", "dimension", "segment_tokens", "overlap_tokens", "created_at")}
        data["format_version"] = FORMAT_VERSION
        with writer_lock(directory):
            st.Store(directory / STORE).close()
            write_json_atomic(path, data)
    return Manifest.from_dict(data, str(directory))


def leftover_files(directory: Path, current_base: int) -> list[Path]:
    """Files no reader needs: temporary ones, bases older than the one before the current, old-format files."""
    bases = sorted(
        (int(p.name.removeprefix(BASE_PREFIX)), p)
        for p in directory.glob(f"{BASE_PREFIX}*")
        if p.name.removeprefix(BASE_PREFIX).isdigit()
    )
    older = [p for generation, p in bases if generation < current_base]
    keep = {p for generation, p in bases if generation == current_base} | set(older[-1:])
    out = []
    for path in sorted(directory.iterdir()):
        name = path.name
        stale_base = name.startswith(BASE_PREFIX) and path not in keep
        old_format = name.startswith(("vectors-", "lexical-"))  # the files of format 2
        if name.endswith(".tmp") or stale_base or old_format:
            out.append(path)
    return out
