"""The on-disk index: ingest, replace, delete, persistence and its manifest."""

from __future__ import annotations

import json
import shutil

import pytest

from rag.errors import IndexMismatchError, NoIndexError, NotFoundError
from rag.index import Index
from rag.ingest import document_id, ingest_paths
from rag.search import search
from rag.storage import Counts
from rag.storage.embedded import check as check_index
from rag.storage.embedded.collection import EmbeddedOptions
from rag.storage.manifest import FORMAT_VERSION
from tests.conftest import ROOT, SEED, SEED_ID, problems

FIXTURES = ROOT / "tests" / "fixtures"


def counts(index: Index) -> Counts:
    with index.reading() as reader:
        return reader.counts()


def test_ingest_reports_documents_turns_and_passages(empty_index, seed_copy):
    report = ingest_paths(empty_index, [seed_copy])
    assert (report.documents, report.turns) == (1, 7)
    held = counts(empty_index)
    assert report.passages == held.passages and report.segments == held.segments
    assert problems(empty_index) == []


def test_reingesting_the_same_file_adds_nothing(empty_index, seed_copy):
    ingest_paths(empty_index, [seed_copy])
    before = counts(empty_index)
    report = ingest_paths(empty_index, [seed_copy])
    assert (report.documents, report.unchanged) == (0, 1)
    assert counts(empty_index) == before


def test_a_changed_file_replaces_its_document_without_duplicates(empty_index, seed_copy):
    ingest_paths(empty_index, [seed_copy])
    text = seed_copy.read_text().replace("Ladies and gentlemen,", "Dear friends,")
    seed_copy.write_text(text)
    report = ingest_paths(empty_index, [seed_copy])
    assert report.documents == 1
    with empty_index.reading() as reader:
        assert [d.id for d in reader.documents()] == [SEED_ID]
    hits = search(empty_index, "dear friends", k=1, mode="lexical").hits
    assert hits[0].text.startswith("Dear friends,")
    assert not search(empty_index, "ladies gentlemen", k=3, mode="lexical").hits
    assert problems(empty_index) == []


def test_document_ids_are_the_file_stem(seed_copy):
    assert document_id(seed_copy) == SEED_ID
    assert document_id("/x/y/My Talk (2).txt") == "My-Talk-2"


def test_one_bad_file_is_reported_and_the_rest_are_indexed(empty_index, seed_copy):
    bad = seed_copy.parent / "broken.json"
    bad.write_text('{"title": "x", "turns": [')
    report = ingest_paths(empty_index, [seed_copy.parent])
    assert report.documents == 1
    assert len(report.failures) == 1 and "broken.json:1" in report.failures[0][1]


def test_the_index_persists_and_reopens_with_the_same_answers(tmp_path, embedder, seed_copy, indexed):
    index = indexed(seed_copy, name="ix")
    before = [h.passage_id for h in search(index, "military base", k=3).hits]
    reopened = Index.open(tmp_path / "ix", embedder=embedder)
    assert [h.passage_id for h in search(reopened, "military base", k=3).hits] == before
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert manifest["format_version"] == FORMAT_VERSION


def test_a_base_states_the_kind_of_vector_index(tmp_path, embedder, seed_copy, indexed):
    index = indexed(seed_copy, name="ix")
    index.collection.compact()
    base = next(index.collection.directory.glob("base-*"))
    # a small collection is searched exactly
    meta = json.loads((base / "meta.json").read_text())
    assert meta["vector_index"] == {"kind": "flat", "vectors": counts(index).segments}


def test_a_lost_base_is_searched_from_the_store_and_rebuilt(tmp_path, embedder, seed_copy, indexed):
    index = indexed(seed_copy, name="ix")
    index.collection.compact()
    before = [h.passage_id for h in search(index, "military base", k=3).hits]
    for path in (tmp_path / "ix").glob("base-*"):
        shutil.rmtree(path)
    reopened = Index.open(tmp_path / "ix", embedder=embedder, embedded=EmbeddedOptions(background=True))
    assert [h.passage_id for h in search(reopened, "military base", k=3).hits] == before
    assert problems(reopened) == []
    reopened.collection.wait_for_compaction()
    assert list((tmp_path / "ix").glob("base-*")), "a server builds the lost base again"


def test_opening_an_index_with_another_model_is_a_clear_error(place, embedder):
    place.open(create=True, embedder=embedder)
    with pytest.raises(IndexMismatchError, match="built with model 'all-MiniLM-L6-v2'"):
        place.open(model="some/other-model")


def test_opening_a_missing_index_says_how_to_build_one(place):
    with pytest.raises(NoIndexError, match="run rag ingest"):
        place.open()


def test_deleting_a_document_removes_its_passages_everywhere(empty_index, seed_copy):
    ingest_paths(empty_index, [seed_copy])
    empty_index.delete(SEED_ID)
    assert counts(empty_index) == Counts()
    assert problems(empty_index) == []
    assert search(empty_index, "military base").hits == []
    with pytest.raises(NotFoundError):
        empty_index.delete(SEED_ID)


def test_another_opening_of_the_index_sees_writes_at_its_next_search(place, embedder, seed_copy):
    writer = place.open(create=True, embedder=embedder)
    reader = place.open(embedder=embedder)  # as a second server would
    assert search(reader, "military base").hits == []
    ingest_paths(writer, [seed_copy])
    assert search(reader, "military base").hits
    writer.delete(SEED_ID)
    assert search(reader, "military base").hits == []
    assert problems(reader) == []


def test_seed_file_is_unchanged_by_tests():
    assert SEED.read_text().startswith("17:31")


def test_an_index_of_the_previous_format_is_brought_up_to_date_when_opened(tmp_path, embedder):
    """tests/fixtures/format2-index was written by the previous release (FAISS and bm25s files beside the store)."""
    directory = tmp_path / "old"
    shutil.copytree(FIXTURES / "format2-index", directory)
    index = Index.open(directory, embedder=embedder)
    assert index.manifest.format_version == FORMAT_VERSION
    hits = search(index, "When will the new ferry timetable start?", k=3).hits
    assert hits and hits[0].document.id == "transport_briefing"
    assert hits[0].document.media_url is None
    assert check_index(directory).ok
    assert not list(directory.glob("vectors-*")) and not list(directory.glob("lexical-*"))
