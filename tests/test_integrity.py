"""`rag check` finds what is wrong with an index on disk; `rag repair` rebuilds what the store allows."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from rag.durable import write_json_atomic
from rag.integrity import check_index, loaded_problems, repair_index
from rag.store import PassageStore
from typer.testing import CliRunner

from rag.cli import app
from rag.index import MANIFEST, STORE, Index
from rag.ingest import ingest_paths
from rag.search import search
from tests.conftest import EXAMPLES, SEED, SEED_ID

runner = CliRunner()


@pytest.fixture(scope="module")
def built(tmp_path_factory, embedder):
    """Two documents indexed once; each test works on its own copy."""
    directory = tmp_path_factory.mktemp("integrity") / "index"
    index = Index.open(directory, create=True, embedder=embedder)
    ingest_paths(index, [SEED, EXAMPLES / "transport_briefing.txt"])
    index.store.close()
    return directory


@pytest.fixture
def directory(built, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(built, copy)
    return copy


def manifest_of(directory):
    return json.loads((directory / MANIFEST).read_text())


def files_of(directory):
    files = manifest_of(directory)["files"]
    return directory / files["vectors"], directory / files["lexical"]


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
    vectors, _ = files_of(directory)
    vectors.unlink()
    assert any(f"{vectors.name}, named by the manifest, is missing" in p for p in check_index(directory).problems)
    report = repair_index(directory)
    assert report.ok, report.check.problems
    assert any(a.startswith("rebuilt vectors-") for a in report.actions)


def test_a_damaged_bm25_directory_is_named_and_rebuilt_when_the_index_opens(directory, embedder):
    _, lexical = files_of(directory)
    (lexical / "ids.npy").write_bytes(b"not an array")
    assert any(f"{lexical.name} cannot be loaded" in p for p in check_index(directory).problems)
    index = Index.open(directory, embedder=embedder)
    assert loaded_problems(index) == []
    assert search(index, "military base", k=1, mode="lexical").hits
    assert check_index(directory).ok


def test_leftovers_of_an_interrupted_write_are_named_and_removed_when_the_index_opens(directory, embedder):
    generation = manifest_of(directory)["generation"]
    (directory / f".vectors-{generation + 1}.faiss.tmp").write_bytes(b"half")
    (directory / f".lexical-{generation + 1}.tmp").mkdir()
    (directory / f"vectors-{generation - 1}.faiss").write_bytes(b"old")
    (directory / ".manifest.json.tmp").write_text("{")
    problems = check_index(directory).problems
    assert len([p for p in problems if "is left over" in p]) == 4
    Index.open(directory, embedder=embedder)
    assert check_index(directory).ok
    assert sorted(p.name for p in directory.iterdir() if p.name.startswith((".", "vectors-", "lexical-"))) == [
        f"lexical-{generation}",
        f"vectors-{generation}.faiss",
    ]


def test_derived_files_behind_the_store_are_named_and_rebuilt_when_the_index_opens(directory, embedder):
    # the state a crash between a sqlite commit and the manifest leaves: the store one write ahead
    store = PassageStore(directory / STORE)
    with store.transaction() as db:
        store.delete_document(db, SEED_ID)
    store.close()
    assert any("the derived files are of generation" in p for p in check_index(directory).problems)
    index = Index.open(directory, embedder=embedder)
    assert loaded_problems(index) == []
    assert check_index(directory).ok
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
    assert any("segment vectors are not of dimension 768" in p for p in problems)


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
    assert "ok: manifest, model, store and derived files agree" in result.output


def test_rag_check_lists_each_problem_and_exits_1(directory):
    vectors, _ = files_of(directory)
    vectors.unlink()
    (directory / ".manifest.json.tmp").write_text("{")
    result = runner.invoke(app, ["check", "--index", str(directory)])
    assert result.exit_code == 1
    assert result.output.count("problem:") == 2
    assert "2 problems" in result.output


def test_rag_repair_says_what_it_did_and_leaves_a_sound_index(directory):
    shutil.rmtree(files_of(directory)[1])
    result = runner.invoke(app, ["repair", "--index", str(directory)])
    assert result.exit_code == 0, result.output
    assert "repaired: rebuilt vectors-" in result.output
    assert "ok: manifest, model, store and derived files agree" in result.output


def test_rag_check_of_a_folder_without_an_index_says_so(tmp_path):
    result = runner.invoke(app, ["check", "--index", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "no index at" in result.output
