"""`rag ingest` killed with SIGKILL at random points never leaves an index that is damaged or short of a document.

Each round changes the collection (the test deletes a few documents through the library and edits a
few files), starts `rag ingest --batch 1` on the folder (one write per document), and kills it at a
random moment: after a random number of its writes have committed, plus a random fraction of the
time one write takes, so that kills land in every phase of a write (embedding, the sqlite
transaction, building a new base, switching to it, the clean-up). The ingest runs with
RAG_REBUILD_AFTER=6, so that a new base is due every few documents. Then the index must open, pass
`rag check`'s consistency check, answer searches, and hold every document whole or not at all.

A document is *lost* when, after the kill and the reopening, it is absent or holds other content
than it should: it was present before the round and the round did not touch it; or a reader of the
store saw the round's new version committed before the kill; or the round was replacing it (a
replacement is one transaction, so the old or the new version must be there, never neither).

The children are forked from tests/forkserver.py, which imports torch and sentence-transformers
once: each child still runs the real command line and loads the model itself, but does not pay the
imports again, so twenty-odd kills fit in about a minute or two.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from rag.index import Index
from rag.ingest import document_id, prepare
from rag.parsing import read_transcript
from rag.search import search
from rag.storage.embedded import check as check_index
from rag.storage.embedded.collection import STORE
from rag.storage.embedded.integrity import loaded_problems
from tests.conftest import ROOT

DOCUMENTS = 24
KILLS = 20  # kills that must land while the ingest is running
MAX_ROUNDS = 40
DELETED_PER_ROUND = 3
EDITED_PER_ROUND = 3
REBUILD_AFTER = "6"  # segments: a new base every few documents, so that kills land while one is built
WORDS = ["harbour", "rail", "tariff", "grain", "school", "clinic", "bridge", "ferry", "housing", "water"]


class ForkServer:
    """tests/forkserver.py in a subprocess: runs `rag ...` in forked children that can be killed."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.forkserver"],
            cwd=ROOT,
            env={**os.environ, "RAG_REBUILD_AFTER": REBUILD_AFTER},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, request: dict) -> dict:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the fork server died"
        return json.loads(line)

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=30)


class StoreWatcher:
    """Reads the store of a running writer every few milliseconds: which document versions are committed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: dict[str, str] = {}  # doc id -> content hash last seen committed
        self.commits = 0  # generation changes seen
        self.commit_times: list[float] = []
        self.bases = 0  # switches to a new base seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> StoreWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            last, last_base = None, None
            while not self._stop.is_set():
                db.execute("BEGIN")
                state = dict(db.execute("SELECT key, value FROM state").fetchall())
                rows = db.execute("SELECT id, content_hash FROM documents").fetchall()
                db.execute("COMMIT")
                if last is not None and state["generation"] != last:
                    self.commits += 1
                    self.commit_times.append(time.monotonic())
                if last_base is not None and state["base"] != last_base:
                    self.bases += 1
                last, last_base = state["generation"], state["base"]
                self.seen.update(rows)
                time.sleep(0.003)
        finally:
            db.close()


def transcript(n: int, edition: int) -> dict:
    word = WORDS[n % len(WORDS)]
    return {
        "title": f"Briefing {n} on the {word} budget",
        "date": f"2026-01-{1 + n % 28:02d}",
        "turns": [
            {"speaker": "Question", "text": f"What happens to the {word} budget, code marker{n:03d}?"},
            {
                "speaker": f"Minister {n % 5}",
                "text": f"The {word} budget grows in edition {edition}. Spending on marker{n:03d} starts in spring.",
            },
        ],
    }


def write_file(folder: Path, n: int, edition: int) -> Path:
    path = folder / f"briefing-{n:03d}.json"
    path.write_text(json.dumps(transcript(n, edition)))
    return path


def store_state(directory: Path) -> dict[str, tuple[str, int, int, int]]:
    """Every document's content hash and its turn, passage and segment counts."""
    db = sqlite3.connect(directory / STORE)
    try:
        return {
            row[0]: tuple(row[1:])
            for row in db.execute(
                "SELECT d.id, d.content_hash,"
                " (SELECT COUNT(*) FROM turns t WHERE t.doc_id = d.id),"
                " (SELECT COUNT(*) FROM passages p WHERE p.doc_id = d.id),"
                " (SELECT COUNT(*) FROM segments s WHERE s.doc_id = d.id)"
                " FROM documents d"
            )
        }
    finally:
        db.close()


def phase_of(directory: Path) -> str:
    """Where in a write the kill landed, as far as the files tell (read before the index is opened again)."""
    db = sqlite3.connect(directory / STORE)
    try:
        base = db.execute("SELECT value FROM state WHERE key = 'base'").fetchone()[0]
    finally:
        db.close()
    names = [p.name for p in directory.iterdir()]
    if any(name.startswith(".base-") and name.endswith(".tmp") for name in names):
        return "building a new base"
    newer = [n for n in names if n.startswith("base-") and int(n.removeprefix("base-")) > base]
    if newer:
        return "after building a new base, before switching to it"
    if len([n for n in names if n.startswith("base-")]) > 2:
        return "after switching to a new base, before the clean-up"
    return "between writes (parsing, embedding, a transaction not yet committed)"


@pytest.fixture
def forkserver():
    server = ForkServer()
    yield server
    server.close()


def test_rag_ingest_killed_at_random_points_loses_no_committed_document(tmp_path, embedder, forkserver):
    rng = random.Random(int(os.environ.get("RAG_KILL_SEED", "6")))
    folder, directory = tmp_path / "transcripts", tmp_path / "index"
    folder.mkdir()
    editions = dict.fromkeys(range(DOCUMENTS), 0)
    for n in editions:
        write_file(folder, n, 0)
    expected: dict[str, tuple[int, int, int]] = {}  # content hash -> turns, passages, segments
    current: dict[str, str] = {}  # doc id -> content hash of its file now

    def note_files(index: Index) -> None:
        for path in sorted(folder.iterdir()):
            prepared = prepare(index, read_transcript(path), document_id(path))
            expected[prepared.content_hash] = (
                len(prepared.transcript.turns),
                len(prepared.passages),
                len(prepared.segments),
            )
            current[prepared.doc.id] = prepared.content_hash

    figures = Counter()
    phases = Counter()
    lost: list[str] = []
    interval = 1.0  # seconds from one document's commit to the next (embedding and writing), learnt as it goes
    soon = 0.1  # seconds after a commit, when a base that has fallen due is being built
    index = Index.open(directory, create=True, embedder=embedder)
    rounds = 0
    while figures["kills"] < KILLS and rounds < MAX_ROUNDS:
        rounds += 1
        # the round's work: some documents deleted (a write by this process), some files edited
        present = sorted(store_state(directory))
        for doc_id in rng.sample(present, min(DELETED_PER_ROUND, len(present))):
            index.delete(doc_id)
        for n in rng.sample(sorted(editions), EDITED_PER_ROUND):
            editions[n] += 1
            write_file(folder, n, editions[n])
        note_files(index)
        before = {doc_id: state[0] for doc_id, state in store_state(directory).items()}
        touched = {doc_id for doc_id, digest in current.items() if before.get(doc_id) != digest}
        index.close()

        writes_before_kill = rng.randrange(len(touched))
        output = tmp_path / f"ingest-{rounds}.log"
        started = time.monotonic()
        with StoreWatcher(directory / STORE) as watcher:
            pid = forkserver.ask(
                {"run": ["ingest", str(folder), "--index", str(directory), "--batch", "1"], "output": str(output)}
            )["pid"]
            # a third of the kills land while a base is built, a third right after a commit (where one falls
            # due, and switching to it), a third anywhere in a document's turn
            aim = rng.randrange(3)
            if aim == 0:
                killed = _kill_while_building(pid, directory, rng.uniform(0, 0.02))
            else:
                window = soon if aim == 1 else interval
                killed = _kill_after(pid, watcher, writes_before_kill, rng.uniform(0, 1.3) * window)
            status = forkserver.ask({"reap": pid})["status"]
        if len(watcher.commit_times) > 1:
            interval = (watcher.commit_times[-1] - watcher.commit_times[0]) / (len(watcher.commit_times) - 1)
        figures["bases switched to"] += watcher.bases
        if killed and status == -signal.SIGKILL:
            figures["kills"] += 1
            phases[phase_of(directory)] += 1
        else:
            assert status == 0, output.read_text()
            figures["runs that finished first"] += 1

        # the index opens, agrees with itself, and passes the on-disk check once opened
        index = Index.open(directory, embedder=embedder)
        figures["indexes that loaded"] += 1
        assert loaded_problems(index.collection) == []
        report = check_index(directory)
        assert report.ok, report.problems
        state = store_state(directory)
        # every document whole: all its turns, passages and segments
        for doc_id, (digest, *counts) in state.items():
            assert tuple(counts) == expected[digest], f"{doc_id} is not whole after round {rounds}"
        # nothing lost: untouched documents as they were; a version seen committed is there; a
        # replacement leaves the old or the new version, never neither
        for doc_id in sorted(set(before) | touched):
            now = state.get(doc_id, (None,))[0]
            if doc_id not in touched:
                allowed = {before[doc_id]}
            elif watcher.seen.get(doc_id) == current[doc_id]:
                allowed = {current[doc_id]}
            else:
                allowed = {before.get(doc_id), current[doc_id]}  # before.get is None for one absent before
            if now not in allowed:
                lost.append(f"round {rounds}: {doc_id}")
        # and it answers: each document present is found by its own marker word
        for doc_id in sorted(state)[:3]:
            n = int(doc_id.rsplit("-", 1)[1])
            hits = search(index, f"marker{n:03d}", k=1, mode="lexical").hits
            assert hits and hits[0].document.id == doc_id
        assert {h.document.id for h in search(index, "budget spending", k=5).hits} <= set(state)
        figures["seconds"] += time.monotonic() - started

    # a last run to the end brings every file in, as it is now
    index.close()
    output = tmp_path / "ingest-final.log"
    pid = forkserver.ask({"run": ["ingest", str(folder), "--index", str(directory)], "output": str(output)})["pid"]
    assert forkserver.ask({"reap": pid})["status"] == 0, output.read_text()
    final = Index.open(directory, embedder=embedder)
    assert {d: s[0] for d, s in store_state(directory).items()} == current
    assert loaded_problems(final.collection) == [] and check_index(directory).ok

    summary = {
        "kills": figures["kills"],
        "indexes that loaded": figures["indexes that loaded"],
        "documents lost": len(lost),
        "rounds": rounds,
        "runs that finished before their kill": figures["runs that finished first"],
        "bases switched to": figures["bases switched to"],
        "kill phases": dict(phases),
    }
    print("\ncrash safety:", json.dumps(summary, indent=2))
    (tmp_path.parent / "crash-safety-figures.json").write_text(json.dumps(summary, indent=2))
    assert figures["kills"] >= 20, summary
    assert figures["indexes that loaded"] == rounds
    assert lost == [], lost
    assert figures["bases switched to"] > 0, summary
    assert any(phase.startswith(("building", "after building")) for phase in phases), summary


def _kill_after(pid: int, watcher: StoreWatcher, commits: int, delay: float) -> bool:
    """SIGKILL the child once `commits` writes have committed and `delay` more seconds passed.

    False when the child finished first.
    """
    deadline = time.monotonic() + 300
    while watcher.commits < commits and time.monotonic() < deadline:
        if _exited(pid):
            return False
        time.sleep(0.002)
    end = time.monotonic() + delay
    while time.monotonic() < end:
        if _exited(pid):
            return False
        time.sleep(0.002)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def _kill_while_building(pid: int, directory: Path, delay: float) -> bool:
    """SIGKILL the child `delay` seconds after a new base starts being written; False when it finished first."""
    deadline = time.monotonic() + 300
    while not any(directory.glob(".base-*.tmp")):
        if _exited(pid) or time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    time.sleep(delay)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def _exited(pid: int) -> bool:
    """Whether a child of the fork server has exited (it stays a zombie until reaped, so look at its state)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
