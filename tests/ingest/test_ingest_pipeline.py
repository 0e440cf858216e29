"""The pipelined ingest (reading and chunking, embedding and writing at once) writes what one-at-a-time does."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from rag.documents import get_document, list_documents
from rag.embedding import Embedder
from rag.index import Index
from rag.ingest import add_transcripts, document_id, embed_all, find_transcripts, ingest_paths, prepare
from rag.parsing import read_transcript
from rag.search import search
from tests.conftest import EXAMPLES, FORMATS

QUESTIONS = [
    "Why did the administration turn down the hotel tax?",
    "Will there be enough gas this winter?",
    "When do passengers get their money back for the rail closure?",
    "What is the plan for the harbour seals?",
    "Who spoke about the budget?",
]


def _content(index: Index) -> dict:
    """Everything a reader sees: documents and their turns, segments' passages and vectors, and answers."""
    documents, total = list_documents(index, limit=1000)
    with index.reading() as reader:
        ids, vectors = reader.segment_vectors()
        segments = reader.segments(ids)
    return {
        "documents": [(d, get_document(index, d.id).turns) for d in documents],
        "total": total,
        "segments": [[p for _, p in segments[int(i)].passages] for i in ids],
        "ids": ids,
        "vectors": vectors,
        "answers": {
            (q, mode): [(h.document.id, h.passage_id, h.text, h.score) for h in search(index, q, k=10, mode=mode).hits]
            for q in QUESTIONS
            for mode in ("hybrid", "dense")
        },
    }


def _same_ranking(got: list[tuple], want: list[tuple], tolerance: float) -> bool:
    """The same hits in the same order, scores within `tolerance`; hits whose scores tie within it may swap."""
    if len(got) != len(want) or any(abs(g[-1] - w[-1]) > tolerance for g, w in zip(got, want, strict=True)):
        return False
    for g, w in zip(got, want, strict=True):
        tied = [x[:-1] for x in want if abs(x[-1] - w[-1]) <= 2 * tolerance]
        if g[:-1] != w[:-1] and g[:-1] not in tied:
            return False
    return True


def _same_up_to_the_cut(got: list[tuple], want: list[tuple], tolerance: float) -> bool:
    """The same hits, except ones that score within `tolerance` of the last hit of their list (at the cut)."""
    if len(got) != len(want):
        return False
    got_keys, want_keys = {g[:-1] for g in got}, {w[:-1] for w in want}
    only_got = [g for g in got if g[:-1] not in want_keys]
    only_want = [w for w in want if w[:-1] not in got_keys]
    return all(g[-1] - got[-1][-1] <= tolerance for g in only_got) and all(
        w[-1] - want[-1][-1] <= tolerance for w in only_want
    )


@pytest.fixture
def folder(tmp_path) -> Path:
    """The examples and one transcript of each format: eleven documents of all sizes."""
    target = tmp_path / "transcripts"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("*.md"))
    shutil.copytree(FORMATS, target / "formats")
    return target


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_pipelined_ingest_writes_what_one_document_at_a_time_writes(tmp_path, folder, precision):
    embedder = Embedder(precision=precision)
    files, _ = find_transcripts([folder])
    assert len(files) >= 8
    # the path without any overlap: each document prepared, embedded and written before the next
    reference = Index.open(tmp_path / "reference", create=True, embedder=embedder)
    for path in files:
        prepared = prepare(reference, read_transcript(path), document_id(path))
        embed_all(reference, [prepared])
        reference.apply(add=[prepared])
    # small batches, so that many are embedded while the one before is written
    pipelined = Index.open(tmp_path / "pipelined", create=True, embedder=embedder)
    report = ingest_paths(pipelined, [folder], batch_segments=16)
    assert (report.documents, report.failures) == (len(files), [])

    want, got = _content(reference), _content(pipelined)
    assert got["documents"] == want["documents"]
    assert got["segments"] == want["segments"]
    assert np.array_equal(got["ids"], want["ids"])
    # a segment's batch companions (so its padding) differ between the two, which moves its vector by
    # rounding: ~1e-7 in fp32, up to ~1e-5 in bf16 (a question's score by up to ~5e-4)
    assert (got["vectors"] * want["vectors"]).sum(axis=1).min() >= 0.9999
    if precision == "fp32":
        assert {k: [h[:-1] for h in v] for k, v in got["answers"].items()} == {
            k: [h[:-1] for h in v] for k, v in want["answers"].items()
        }
    for (question, mode), hits in want["answers"].items():
        if mode == "dense":
            assert _same_ranking(got["answers"][question, mode], hits, tolerance=1e-3), question
        else:  # fused by rank: two dense hits swapped within a tie move both their fused scores by up to
            # 1/11 - 1/12 (< 0.008), which can trade the last hit for the next one
            assert _same_up_to_the_cut(got["answers"][question, mode], hits, tolerance=0.01), question


def test_a_second_file_with_the_same_id_replaces_the_first(tmp_path, embedder):
    """Across batches too: the later file is compared with, and replaces, what the earlier one wrote."""
    first, second = tmp_path / "a" / "briefing.txt", tmp_path / "b" / "briefing.txt"
    first.parent.mkdir(), second.parent.mkdir()
    first.write_text("Briefing\n\nAnna Keller: The ferry to the island runs twice a day from May.\n")
    second.write_text("Briefing\n\nAnna Keller: The ferry to the island runs every hour from June.\n")
    index = Index.open(tmp_path / "index", create=True, embedder=embedder)
    report = ingest_paths(index, [tmp_path / "a", tmp_path / "b"], batch_segments=1)
    assert (report.documents, report.unchanged) == (2, 0)
    assert [t.text for t in get_document(index, "briefing").turns] == [
        "The ferry to the island runs every hour from June."
    ]
    assert index.stats()["segments"] == 1
    assert ingest_paths(index, [tmp_path / "b"]).unchanged == 1


def test_an_error_while_reading_is_raised_and_leaves_no_thread(tmp_path, embedder):
    seed = sorted(EXAMPLES.glob("*.txt"))

    def items():
        for path in seed:
            yield document_id(path), read_transcript(path)
        raise OSError("the disk went away")

    index = Index.open(tmp_path / "index", create=True, embedder=embedder)
    with pytest.raises(OSError, match="the disk went away"):
        add_transcripts(index, items(), batch_segments=8)
    ours = ("rag-ingest", "rag-load-model", "rag-embed")  # the ingest's threads (a server's may run meanwhile)
    assert not [t.name for t in threading.enumerate() if t.name.startswith(ours)]
    # what was written is whole: every stored document has all its passages and segments
    by_id = {document_id(path): path for path in seed}
    for document in list_documents(index)[0]:
        prepared = prepare(index, read_transcript(by_id[document.id]), document.id)
        assert document.passages == len(prepared.passages)
        with index.reading() as reader:
            assert len(reader.segment_ids_of(document.id)) == len(prepared.segments)
