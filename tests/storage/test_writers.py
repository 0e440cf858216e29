"""One writer at a time across processes, any number of readers; a running server sees the CLI's writes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rag.config import Settings
from rag.index import Index
from rag.storage.embedded.locking import lock_holder
from tests.conftest import ROOT, SEED, LiveServer

CLI = [sys.executable, "-m", "rag.cli"]
MARKER = "wallaby"  # a word no example uses


def rag(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


class LockHolder:
    """Another process holding the index's write lock, under a name, until told to let go."""

    def __init__(self, directory: Path, name: str = "rag ingest"):
        code = (
            "import sys; from pathlib import Path; from rag.storage.embedded.locking import writer_lock\n"
            f"with writer_lock(Path(sys.argv[1]), holder={name!r}):\n"
            "    print('held', flush=True); sys.stdin.readline()\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, str(directory)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __enter__(self) -> LockHolder:
        assert self.process.stdout and self.process.stdout.readline().strip() == "held"
        return self

    def release(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin
            self.process.stdin.close()
            self.process.wait(timeout=30)

    def __exit__(self, *exc) -> None:
        self.release()


@pytest.fixture
def seeded(indexed) -> Index:
    return indexed(SEED)


def transcript_file(folder: Path) -> Path:
    path = folder / "wildlife-briefing.txt"
    path.write_text(
        "Wildlife briefing\n\nQuestion: How many wallaby colonies are there?\n\n"
        f"Ranger Holt: We counted nine {MARKER} colonies on the island, three more than last year.\n"
    )
    return path


def test_rag_ingest_stops_with_the_other_writer_named_while_another_rag_ingest_runs(tmp_path):
    directory, folder = tmp_path / "index", tmp_path / "many"
    folder.mkdir()
    for copy in range(12):  # enough to embed for longer than a second command takes to start
        (folder / f"seed-{copy}.txt").write_text(SEED.read_text().replace("Lavrov", f"Lavrov{copy}"))
    first = subprocess.Popen(
        [*CLI, "ingest", str(folder), "--index", str(directory)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while lock_holder(directory) is None:
            assert first.poll() is None and time.monotonic() < deadline, "the first ingest never took the lock"
            time.sleep(0.02)
        second = rag("ingest", str(SEED), "--index", str(directory))
        assert first.poll() is None, "the first ingest ended before the second tried: the test proved nothing"
    finally:
        _, err = first.communicate(timeout=300)
    assert second.returncode == 1
    assert f"is being written by process {first.pid} (rag ingest)" in second.stderr
    assert "try again when it finishes, or pass --wait" in second.stderr
    assert first.returncode == 0, err


def test_rag_delete_with_wait_runs_once_the_other_writer_lets_go(seeded):
    with LockHolder(seeded.collection.directory) as holder:
        started = time.monotonic()
        waiting = subprocess.Popen(
            [*CLI, "delete", "000_8fcf709333f4d63f", "--wait", "--index", str(seeded.collection.directory)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)
        assert waiting.poll() is None, "it did not wait"
        holder.release()
        _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert time.monotonic() - started >= 1.5
    assert seeded.stats()["documents"] == 0


def test_rag_delete_without_wait_changes_nothing_while_another_process_writes(seeded):
    with LockHolder(seeded.collection.directory, name="rag serve") as holder:
        result = rag("delete", "000_8fcf709333f4d63f", "--index", str(seeded.collection.directory))
    assert result.returncode == 1
    assert f"being written by process {holder.process.pid} (rag serve)" in result.stderr
    assert seeded.stats()["documents"] == 1


def test_the_api_answers_409_to_writes_and_keeps_searching_while_another_process_writes(seeded, embedder):
    settings = Settings(index_dir=seeded.collection.directory, write_wait_s=0.3)
    with LiveServer(settings, embedder=embedder) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        with LockHolder(seeded.collection.directory) as holder:
            body = {"title": "Late note", "turns": [{"speaker": "Clerk", "text": "The meeting is closed."}]}
            refused = http.put("/documents/late-note", json=body)
            searched = http.post("/search", json={"query": "military base", "k": 1})
        assert refused.status_code == 409
        assert f"being written by process {holder.process.pid} (rag ingest)" in refused.json()["error"]
        assert searched.status_code == 200 and searched.json()["results"]
        assert http.get("/documents/late-note").status_code == 404
        assert http.put("/documents/late-note", json=body).status_code == 201  # the lock is free again


def test_a_running_server_finds_what_rag_ingest_adds_and_loses_what_rag_delete_removes(seeded, embedder, tmp_path):
    path = transcript_file(tmp_path)
    settings = Settings(index_dir=seeded.collection.directory)
    with LiveServer(settings, embedder=embedder) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        assert not _documents_found(http, MARKER)
        added = rag("ingest", str(path), "--index", str(seeded.collection.directory))
        assert added.returncode == 0, added.stderr
        assert _eventually(lambda: _documents_found(http, MARKER) == {"wildlife-briefing"})
        assert http.get("/documents/wildlife-briefing").status_code == 200

        removed = rag("delete", "wildlife-briefing", "--index", str(seeded.collection.directory))
        assert removed.returncode == 0, removed.stderr
        assert _eventually(lambda: not _documents_found(http, MARKER))
        assert http.get("/documents/wildlife-briefing").status_code == 404
        assert _documents_found(http, "military base") == {"000_8fcf709333f4d63f"}


def _documents_found(http: httpx.Client, query: str) -> set[str]:
    response = http.post("/search", json={"query": query, "k": 5, "mode": "lexical"})
    assert response.status_code == 200, response.text
    return {r["document"]["id"] for r in response.json()["results"]}


def _eventually(condition, seconds: float = 10) -> bool:
    """Another process's write is seen by the server's next search; a little slack for the CLI's exit."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_the_lock_file_names_nobody_once_its_holder_is_killed(tmp_path):
    directory = tmp_path / "index"
    directory.mkdir()
    holder = LockHolder(directory)
    with holder:
        assert lock_holder(directory) == f"{holder.process.pid} (rag ingest)"
        os.kill(holder.process.pid, 9)
        holder.process.wait(timeout=30)
        assert lock_holder(directory) is None
