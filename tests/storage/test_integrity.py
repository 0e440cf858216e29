"""`rag check` finds what is wrong with an index on disk; `rag repair` rebuilds what the store allows."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.index import Index
from rag.ingest import ingest_paths
from rag.search import search
from rag.storage.embedded import check as check_index
from rag.storage.embedded import repair as repair_index
from rag.storage.embedded.collection import MANIFEST, STORE, EmbeddedOptions
from rag.storage.embedded.durable import write_json_atomic
from rag.storage.embedded.integrity import loaded_problems
from tests.conftest import EXAMPLES, SEED, SEED_ID

runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder):
    """Two documents indexed once; each test works on its own copy."""
    directory = tmp_path_factory.mktemp("integrity") / "index"
    index = Index.open(directory, create=True, embedder=embedder)
    ingest_paths(index, [SEED, EXAMPLES / "transport_briefing.txt"])
    index.collection.compact()
    index.close()
    return directory


@pytest.fixture
def directory(built, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(built, copy)
    return copy


def manifest_of(directory):
    return json.loads((directory / MANIFEST).read_text())


def base_of(directory):
    (base,) = directory.glob("base-*")
    return base


def edit_store(directory, *statements):
    """Change the store behind the index's back, as a damaged disk or a hand edit would."""
    db = sqlite3.connect(directory / STORE)
    db.execute("PRAGMA foreign_keys=OFF")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def test_a_sound_index_passes_with_its_counts(directory):
    report = check_index(directory)
    assert report.ok, report.problems
    assert report.facts["documents"] == 2
    assert report.facts["model"] == "all-MiniLM-L6-v2" and report.facts["dimension"] == 384


def test_a_missing_vector_file_is_named_and_repair_rebuilds_it(directory):
    base = base_of(directory)
    (base / "vectors.faiss").unlink()
    assert any(f"{base.name} cannot be loaded" in p for p in check_index(directory).problems)
    report = repair_index(directory)
    assert report.ok, report.check.problems
    assert any(a.startswith("rebuilt base-") for a in report.actions)


def test_damaged_postings_are_named_and_a_server_searches_the_store_and_rebuilds_them(directory, embedder):
    base = base_of(directory)
    (base / "rows.npy").write_bytes(b"not an array")
    assert any(f"{base.name} cannot be loaded" in p for p in check_index(directory).problems)
    index = Index.open(directory, embedder=embedder, embedded=EmbeddedOptions(background=True))
    assert search(index, "military base", k=1, mode="lexical").hits
    assert loaded_problems(index.collection) == []
    index.collection.wait_for_compaction()
    assert check_index(directory).ok


def test_leftovers_of_interrupted_writes_are_named_and_removed_when_the_index_opens(directory, embedder):
    current = base_of(directory).name
    generation = int(current.removeprefix("base-"))
    (directory / f".base-{generation + 1}.tmp").mkdir()
    (directory / f"base-{generation + 1}").mkdir()  # built, not switched to: the store names the current one
    (directory / f"vectors-{generation - 1}.faiss").write_bytes(b"of the old format")
    (directory / ".manifest.json.tmp").write_text("{")
    problems = check_index(directory).problems
    assert len([p for p in problems if "is left over" in p]) == 4
    Index.open(directory, embedder=embedder)
    assert check_index(directory).ok
    assert sorted(p.name for p in directory.iterdir() if p.name.startswith((".", "vectors-", "base-"))) == [current]


def test_a_base_behind_the_store_is_sound_and_its_deleted_segments_are_not_found(directory, embedder):
    index = Index.open(directory, embedder=embedder)
    index.delete(SEED_ID)  # a write after the base: the base still holds the seed's segments
    assert check_index(directory).ok
    assert loaded_problems(index.collection) == []
    assert {h.document.id for h in search(index, "military base Tajikistan", k=5).hits} == {"transport_briefing"}


def test_a_document_whose_passages_lost_their_segment_is_named_and_repair_removes_it(directory):
    edit_store(directory, f"DELETE FROM segments WHERE id = (SELECT MIN(id) FROM segments WHERE doc_id = '{SEED_ID}')")
    report = check_index(directory)
    assert any("passages whose segment does not exist" in p for p in report.problems)
    repaired = repair_index(directory)
    assert f"removed 1 documents that were not whole (ingest them again): {SEED_ID}" in repaired.actions
    assert repaired.ok, repaired.check.problems
    assert repaired.check.facts["documents"] == 1


def test_a_manifest_dimension_other_than_the_vectors_is_named(directory):
    manifest = manifest_of(directory)
    write_json_atomic(directory / MANIFEST, dict(manifest, dimension=768))
    problems = check_index(directory).problems
    assert any("makes vectors of dimension 384, the manifest says 768" in p for p in problems)
    assert any("segment vectors not of dimension 768" in p for p in problems)


def test_a_lost_manifest_is_written_again_by_repair_given_the_model(directory):
    (directory / MANIFEST).unlink()
    assert any(f"{MANIFEST} is missing" in p for p in check_index(directory).problems)
    without = repair_index(directory)
    assert not without.ok and "no --model was given" in without.actions[0]
    report = repair_index(directory, model="all-MiniLM-L6-v2")
    assert report.ok, report.check.problems
    assert manifest_of(directory)["dimension"] == 384


def test_rag_check_exits_0_on_a_sound_index(directory):
    result = runner.invoke(app, ["check", "--index", str(directory)])
    assert result.exit_code == 0, result.output
    assert "ok: manifest, model, store and base files agree" in result.output


def test_rag_check_lists_each_problem_and_exits_1(directory):
    (base_of(directory) / "vectors.faiss").unlink()
    (directory / ".manifest.json.tmp").write_text("{")
    result = runner.invoke(app, ["check", "--index", str(directory)])
    assert result.exit_code == 1
    assert result.output.count("problem:") == 2
    assert "2 problems" in result.output


def test_rag_repair_says_what_it_did_and_leaves_a_sound_index(directory):
    shutil.rmtree(base_of(directory))
    result = runner.invoke(app, ["repair", "--index", str(directory)])
    assert result.exit_code == 0, result.output
    assert "repaired: rebuilt base-" in result.output
    assert "ok: manifest, model, store and base files agree" in result.output


def test_rag_check_of_a_folder_without_an_index_says_so(tmp_path):
    result = runner.invoke(app, ["check", "--index", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "no index at" in result.output
