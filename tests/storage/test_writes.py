"""Writes to a collection change what the document changes: the result equals a fresh build, readers never fail."""

from __future__ import annotations

import random
import threading

import pytest

from rag.index import Index
from rag.ingest import add_transcripts
from rag.models import Transcript, Turn
from rag.search import search
from rag.storage.embedded.collection import EmbeddedOptions
from rag.storage.embedded.integrity import loaded_problems

TOPICS = ["harbour dredging", "rail freight", "school meals", "clinic staffing", "bridge repairs", "ferry fares",
          "housing grants", "water tariffs", "grain exports", "bus lanes"]  # fmt: skip
QUESTIONS = ["What was said about ferry fares?", "rail freight volumes", "Who spoke about clinic staffing?",
             "grants for housing", "dredging the harbour"]  # fmt: skip


def briefing(n: int, edition: int = 0) -> Transcript:
    """A two-turn briefing; words of its own, as many as its number, so that no two tie on BM25 by length,
    since equal scores are ranked by segment id, which differs between two histories."""
    topic = TOPICS[n % len(TOPICS)]
    return Transcript(
        title=f"Briefing {n}",
        date=f"2026-02-{1 + n % 28:02d}",
        turns=(
            Turn(
                "Question",
                f"What will happen with {topic} this year, in edition {edition} of the plan?"
                + "".join(f" Ref{n}x{i}." for i in range(n)),
                "question",
            ),
            Turn(
                f"Minister {n % 4}",
                f"On {topic}, we will spend more in district {n}. The plan, edition {edition}, starts in spring"
                f" and covers {TOPICS[(n + 3) % len(TOPICS)]} as well." + "".join(f" Annex{n}x{i}." for i in range(n)),
                "answer",
            ),
        ),
    )


def answers(index: Index) -> list[list[tuple[str, str]]]:
    """For each question, the hits as (document, text), in order."""
    return [[(h.document.id, h.text) for h in search(index, q, k=8).hits] for q in QUESTIONS]


def test_interleaved_adds_and_deletes_give_the_collection_a_fresh_build_gives(tmp_path, embedder):
    rng = random.Random(3)
    index = Index.open(tmp_path / "changed", create=True, embedder=embedder, embedded=EmbeddedOptions(rebuild_after=10))
    present: dict[str, Transcript] = {}
    for step in range(60):
        n = rng.randrange(25)
        doc_id = f"briefing-{n}"
        if doc_id in present and rng.random() < 0.4:
            index.delete(doc_id)
            del present[doc_id]
        else:
            present.pop(doc_id, None)  # a replaced document moves to the end: its segments get new ids
            present[doc_id] = briefing(n, edition=step)
            add_transcripts(index, [(doc_id, present[doc_id])])
    assert list((tmp_path / "changed").glob("base-*")), "bases were built along the way"
    fresh = Index.open(tmp_path / "fresh", create=True, embedder=embedder)
    # in the order they were last written, so that ids (which settle equal scores) are in the same order
    add_transcripts(fresh, list(present.items()))
    assert index.stats() | {"location": ""} == fresh.stats() | {"location": ""}
    assert answers(index) == answers(fresh)
    assert loaded_problems(index.collection) == []


def test_a_write_leaves_the_base_files_as_they_are(tmp_path, embedder):
    index = Index.open(tmp_path / "ix", create=True, embedder=embedder)
    add_transcripts(index, [(f"briefing-{n}", briefing(n)) for n in range(10)])
    index.collection.compact()
    (base,) = (tmp_path / "ix").glob("base-*")
    before = {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in base.iterdir()}
    add_transcripts(index, [("briefing-11", briefing(11))])
    index.delete("briefing-3")
    assert {p.name: (p.stat().st_mtime_ns, p.stat().st_size) for p in base.iterdir()} == before
    assert search(index, "district 11", k=3, mode="lexical").hits[0].document.id == "briefing-11"
    assert "briefing-3" not in {h.document.id for h in search(index, "district 3", k=10).hits}


def test_another_opening_follows_writes_and_new_bases(tmp_path, embedder):
    writer = Index.open(tmp_path / "ix", create=True, embedder=embedder, embedded=EmbeddedOptions(rebuild_after=4))
    reader = Index.open(tmp_path / "ix", embedder=embedder)
    for n in range(12):
        add_transcripts(writer, [(f"briefing-{n}", briefing(n))])
        found = {h.document.id for h in search(reader, f"district {n}", k=20, mode="lexical").hits}
        assert f"briefing-{n}" in found
        assert loaded_problems(reader.collection) == []
    writer.delete("briefing-5")
    assert "briefing-5" not in {h.document.id for h in search(reader, "district 5", k=20).hits}


@pytest.mark.parametrize("background", [False, True], ids=["bases built by the writer", "bases built in a thread"])
def test_searches_running_during_writes_and_new_bases_never_fail(tmp_path, embedder, background):
    options = EmbeddedOptions(background=background, rebuild_after=3)
    index = Index.open(tmp_path / "ix", create=True, embedder=embedder, embedded=options)
    add_transcripts(index, [(f"briefing-{n}", briefing(n)) for n in range(5)])
    errors: list[BaseException] = []
    stop = threading.Event()

    def searching() -> None:
        while not stop.is_set():
            try:
                for question in QUESTIONS:
                    for hit in search(index, question, k=5).hits:
                        assert hit.text and hit.document.id.startswith("briefing-")
            except BaseException as exc:
                errors.append(exc)
                return

    readers = [threading.Thread(target=searching) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        for step in range(30):
            add_transcripts(index, [(f"briefing-{5 + step}", briefing(5 + step))])
            if step % 3 == 2:
                index.delete(f"briefing-{step}")
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=60)
    index.collection.wait_for_compaction()
    assert errors == []
    assert loaded_problems(index.collection) == []
