"""The on-disk index: ingest, replace, delete, persistence and its manifest."""

from __future__ import annotations

import json
import shutil

import pytest

from rag.errors import IndexMismatchError, NoIndexError, NotFoundError
from rag.index import FORMAT_VERSION, Index
from rag.ingest import document_id, ingest_paths
from rag.search import search
from tests.conftest import SEED, SEED_ID


def test_ingest_reports_documents_turns_and_passages(empty_index, seed_copy):
    report = ingest_paths(empty_index, [seed_copy])
    assert (report.documents, report.turns) == (1, 7)
    counts = empty_index.store.counts()
    assert report.passages == counts["passages"] and report.segments == counts["segments"]
    assert len(empty_index.vectors) == len(empty_index.lexical) == report.segments


def test_reingesting_the_same_file_adds_nothing(empty_index, seed_copy):
    ingest_paths(empty_index, [seed_copy])
    before = empty_index.store.counts()
    report = ingest_paths(empty_index, [seed_copy])
    assert (report.documents, report.unchanged) == (0, 1)
    assert empty_index.store.counts() == before
    assert len(empty_index.vectors) == before["segments"]


def test_a_changed_file_replaces_its_document_without_duplicates(empty_index, seed_copy):
    ingest_paths(empty_index, [seed_copy])
    text = seed_copy.read_text().replace("Ladies and gentlemen,", "Dear friends,")
    seed_copy.write_text(text)
    report = ingest_paths(empty_index, [seed_copy])
    assert report.documents == 1
    assert [d.id for d in empty_index.store.documents()] == [SEED_ID]
    hits = search(empty_index, "dear friends", k=1, mode="lexical").hits
    assert hits[0].text.startswith("Dear friends,")
    assert not search(empty_index, "ladies gentlemen", k=3, mode="lexical").hits
    assert len(empty_index.vectors) == empty_index.store.counts()["segments"]


def test_document_ids_are_the_file_stem(seed_copy):
    assert document_id(seed_copy) == SEED_ID
    assert document_id("/x/y/My Talk (2).txt") == "My-Talk-2"


def test_one_bad_file_is_reported_and_the_rest_are_indexed(empty_index, seed_copy):
    bad = seed_copy.parent / "broken.json"
    bad.write_text('{"title": "x", "turns": [')
    report = ingest_paths(empty_index, [seed_copy.parent])
    assert report.documents == 1
    assert len(report.failures) == 1 and "broken.json:1" in report.failures[0][1]


def test_the_index_persists_and_reopens_with_the_same_answers(tmp_path, embedder, seed_copy):
    index = Index.open(tmp_path / "ix", create=True, embedder=embedder)
    ingest_paths(index, [seed_copy])
    before = [h.passage_id for h in search(index, "military base", k=3).hits]
    reopened = Index.open(tmp_path / "ix", embedder=embedder)
    assert [h.passage_id for h in search(reopened, "military base", k=3).hits] == before
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert manifest["passages"] == index.store.counts()["passages"]
    assert manifest["segments"] == len(index.vectors) == len(index.lexical)
    assert manifest["format_version"] == FORMAT_VERSION


def test_the_manifest_states_the_kind_of_vector_index(empty_index, seed_copy):
    ingest_paths(empty_index, [seed_copy])
    manifest = json.loads((empty_index.directory / "manifest.json").read_text())
    # a small collection is searched exactly
    assert manifest["vector_index"] == {"kind": "flat", "vectors": len(empty_index.vectors)}


def test_lost_vector_files_are_rebuilt_from_the_store(tmp_path, embedder, seed_copy):
    index = Index.open(tmp_path / "ix", create=True, embedder=embedder)
    ingest_paths(index, [seed_copy])
    for path in (tmp_path / "ix").glob("vectors-*"):
        path.unlink()
    for path in (tmp_path / "ix").glob("lexical-*"):
        shutil.rmtree(path)
    reopened = Index.open(tmp_path / "ix", embedder=embedder)
    assert len(reopened.vectors) == len(reopened.lexical) == index.store.counts()["segments"]


def test_opening_an_index_with_another_model_is_a_clear_error(tmp_path, embedder):
    Index.open(tmp_path / "ix", create=True, embedder=embedder)
    with pytest.raises(IndexMismatchError, match="built with model 'all-MiniLM-L6-v2'"):
        Index.open(tmp_path / "ix", model="some/other-model")


def test_opening_a_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(NoIndexError, match="run rag ingest"):
        Index.open(tmp_path / "nothing")


def test_deleting_a_document_removes_its_passages_everywhere(empty_index, seed_copy):
    ingest_paths(empty_index, [seed_copy])
    empty_index.delete(SEED_ID)
    assert empty_index.store.counts() == {"documents": 0, "turns": 0, "passages": 0, "segments": 0}
    assert len(empty_index.vectors) == len(empty_index.lexical) == 0
    with pytest.raises(NotFoundError):
        empty_index.delete(SEED_ID)


def test_a_second_process_sees_writes_after_refresh(tmp_path, embedder, seed_copy):
    writer = Index.open(tmp_path / "ix", create=True, embedder=embedder)
    reader = Index.open(tmp_path / "ix", embedder=embedder)
    ingest_paths(writer, [seed_copy])
    reader.refresh(every=0)
    assert len(reader.vectors) == writer.store.counts()["segments"] > 0


def test_seed_file_is_unchanged_by_tests():
    assert SEED.read_text().startswith("17:31")


def test_an_index_stored_before_media_urls_existed_opens_and_reads(tmp_path):
    """Schema version 1 had no media_url column: opening it adds one, and its documents read as before."""
    import sqlite3

    from rag.store import _MIGRATIONS, SCHEMA_VERSION, PassageStore

    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as db:
        for statement in _MIGRATIONS[1].split(";"):
            db.execute(statement)
        db.execute("INSERT INTO documents (id, title, content_hash) VALUES ('old', 'Old briefing', 'h')")
        db.execute("PRAGMA user_version = 1")
    store = PassageStore(path)
    assert store.document("old").media_url is None
    assert store._connect().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
