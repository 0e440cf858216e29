"""The Ray tests' cluster: a local Ray of 2 CPUs started once per session, in this process.

Ray is imported here only when a test asks for the cluster, so that collecting these tests (which the default
run deselects) needs no ray extra.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from rag.index import Index
from rag.ingest import ingest_paths
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.ray


@pytest.fixture(scope="session")
def ray_cluster():
    """A Ray of 2 CPUs on this machine; rag.cluster.connect joins it rather than starting another."""
    ray = pytest.importorskip("ray")
    from rag.cluster import connect

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        yield connect("local")
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def local_index(new_place, embedder) -> Index:
    """The examples ingested here, without Ray, in the session's backend: what a Ray ingest must equal."""
    index = new_place("local-index").open(create=True, embedder=embedder)
    assert not ingest_paths(index, [EXAMPLES]).failures
    return index


@pytest.fixture(scope="session")
def local_directory(tmp_path_factory, embedder) -> Path:
    """The examples ingested here into an index directory (tests copy it before they change it)."""
    directory = tmp_path_factory.mktemp("local-directory") / "index"
    index = Index.open(directory, create=True, embedder=embedder)
    assert not ingest_paths(index, [EXAMPLES]).failures
    index.close()
    return directory


@pytest.fixture
def many_transcripts(tmp_path) -> Path:
    """Three copies of each example under other names: twelve documents, enough to kill a worker among."""
    folder = tmp_path / "transcripts"
    folder.mkdir()
    for copy in range(3):
        for source in sorted(EXAMPLES.iterdir()):
            if source.suffix in (".txt", ".json"):
                shutil.copy(source, folder / f"{source.stem}-{copy}{source.suffix}")
    return folder


def index_content(index: Index) -> dict:
    """What a collection holds, independent of the order documents were written in (ids of rows differ)."""
    with index.reading() as reader:
        documents = reader.documents()
        ids, vectors = reader.segment_vectors()
        segments = reader.segments(ids.tolist())
        turns = {doc.id: reader.turns(doc.id) for doc in documents}
        hashes = {doc.id: reader.content_hash(doc.id) for doc in documents}
    by_segment = {}
    for sid, vector in zip(ids.tolist(), vectors, strict=True):
        segment = segments[sid]
        key = (segment.document.id, tuple((p.turn_index, p.start_char, p.end_char) for _, p in segment.passages))
        by_segment[key] = ([p for _, p in segment.passages], vector)
    return {"documents": documents, "turns": turns, "hashes": hashes, "segments": by_segment}


def descendants(pid: int) -> list[int]:
    """Processes started (directly or not) by `pid`: those of the Ray this test process started."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_worker(name: str) -> int | None:
    """SIGKILL one Ray worker of this test's Ray whose process title names `name`; its pid, or None."""
    for pid in descendants(os.getpid()):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("ray::") and name in title:
            os.kill(pid, signal.SIGKILL)
            return pid
    return None
