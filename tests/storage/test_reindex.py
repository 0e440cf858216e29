"""rag reindex: another model for an existing collection, switched to at once while searches go on (both backends)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading

import numpy as np
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from rag.chunking import index_text
from rag.cli import app
from rag.documents import put_document
from rag.embedding import Embedder
from rag.errors import IndexMismatchError
from rag.index import Index, check_collection
from rag.ingest import ingest_paths
from rag.models import Filters
from rag.parsing import read_transcript
from rag.reindex import reindex
from rag.search import search
from rag.storage.postgres import DatabaseOptions
from tests.conftest import EXAMPLES, SEED, Place
from tests.models import cls_pooled_model

QUESTIONS = [
    "Why did the administration turn down the hotel tax?",
    "What did Lavrov say about the phone call between Putin and Trump?",
    "Will there be enough gas this winter?",
    "When will the new bus lanes open?",
]


@pytest.fixture(scope="module")
def new_embedder() -> Embedder:
    return Embedder(cls_pooled_model())


@pytest.fixture(scope="module")
def built(new_place, embedder) -> Place:
    """The examples indexed once with the default model; each test reindexes a copy."""
    place = new_place("reindex-source")
    index = place.open(create=True, embedder=embedder)
    ingest_paths(index, [EXAMPLES])
    index.close()
    return place


@pytest.fixture
def place(built, tmp_path, request) -> Place:
    """A copy of `built` for one test."""
    directory = tmp_path / "index"
    if built.database is None:
        shutil.copytree(built.directory, directory)
        return Place(built.backend, directory)
    url = request.getfixturevalue("pg_server").new_database(copy_of=built.database.url.get_secret_value())
    return Place(built.backend, directory, dataclasses.replace(built.database, url=SecretStr(url)))


@pytest.fixture
def index(place, embedder):
    opened = place.open(embedder=embedder)
    yield opened
    opened.close()


@pytest.fixture
def fresh(new_place, new_embedder):
    """Makes the examples indexed from scratch with the new model, in the same backend."""

    def make() -> Index:
        made = new_place("reindex-fresh").open(create=True, embedder=new_embedder)
        ingest_paths(made, [EXAMPLES])
        return made

    return make


def problems(place: Place) -> list[str]:
    return check_collection(place.directory, database=place.database).problems


def dense_results(index: Index, question: str) -> list[tuple[str, int, float]]:
    hits = search(index, question, k=5, mode="dense").hits
    return [(hit.document.id, hit.turn_index, round(hit.score, 4)) for hit in hits]


def stored_vectors(index: Index) -> dict[str, np.ndarray]:
    """Each segment's vector by the text it was embedded from (segment ids are not the same across indexes)."""
    with index.reading() as reader:
        ids, vectors = reader.segment_vectors()
        segments = reader.segments(ids.tolist())
    return {
        index_text([(p.speaker, p.text) for _, p in segments[int(sid)].passages]): vector
        for sid, vector in zip(ids, vectors, strict=True)
    }


def test_after_a_reindex_the_vectors_are_the_new_models_and_the_manifest_names_it(place, index, new_embedder):
    report = reindex(index, new_embedder)
    assert (report.documents, report.previous, report.model) == (4, "all-MiniLM-L6-v2", new_embedder.name)
    reopened = place.open()  # what a new process reads
    assert (reopened.manifest.model, reopened.manifest.dimension) == (new_embedder.name, new_embedder.dimension)
    reopened.close()
    if place.database is None:
        manifest = json.loads((place.directory / "manifest.json").read_text())
        assert (manifest["model"], manifest["dimension"]) == (new_embedder.name, new_embedder.dimension)
    vectors = stored_vectors(index)
    expected = new_embedder.encode_passages(list(vectors))
    assert np.allclose(np.stack(list(vectors.values())), expected, atol=1e-5)
    assert problems(place) == []


def test_a_search_after_the_switch_is_answered_with_the_new_model(index, new_embedder, fresh):
    reindex(index, new_embedder)
    made = fresh()
    for question in QUESTIONS:
        assert dense_results(index, question) == dense_results(made, question)


def test_another_server_follows_the_switch_at_its_next_search(place, index, embedder, new_embedder, fresh):
    other = place.open(embedder=embedder)  # opened before the switch, on the old model
    question = QUESTIONS[1]
    before = dense_results(other, question)
    reindex(index, new_embedder)
    after = dense_results(other, question)
    assert after != before
    assert after == dense_results(fresh(), question)
    assert other.manifest.model == new_embedder.name
    other.close()


def test_searches_during_a_reindex_never_fail_and_each_sees_one_model_wholly(index, new_embedder, fresh):
    before = {q: dense_results(index, q) for q in QUESTIONS}
    after_index = fresh()
    after = {q: dense_results(after_index, q) for q in QUESTIONS}
    assert all(before[q] != after[q] for q in QUESTIONS)  # the two models rank or score differently
    seen: list[str] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def searching() -> None:
        last_round = False
        while not last_round:
            last_round = done.is_set()  # one whole round after the switch, at least
            for question in QUESTIONS:
                try:
                    found = dense_results(index, question)
                except BaseException as exc:  # a failed search is what this test is about
                    failures.append(exc)
                    return
                seen.append("old" if found == before[question] else "new" if found == after[question] else "mixed")

    threads = [threading.Thread(target=searching) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        reindex(index, new_embedder)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not failures
    assert "mixed" not in seen
    assert seen[0] == "old" and "new" in seen  # searches ran on both sides of the switch
    assert all(dense_results(index, q) == after[q] for q in QUESTIONS)


def test_a_reader_that_began_before_the_switch_keeps_the_old_model(index, new_embedder):
    question = QUESTIONS[0]
    before = dense_results(index, question)
    opened, switched, found = threading.Event(), threading.Event(), {}

    def reading_across_the_switch() -> None:
        with index.reading() as reader:  # its snapshot is from before the switch
            opened.set()
            switched.wait(timeout=120)
            embedder = index.embedder_for(reader)
            found["model"] = embedder.name
            found["top"] = reader.dense(embedder.encode_query(question), 1, Filters())

    thread = threading.Thread(target=reading_across_the_switch)
    thread.start()
    opened.wait(timeout=60)
    try:
        reindex(index, new_embedder)
    finally:
        switched.set()
        thread.join(timeout=120)
    assert found["model"] == "all-MiniLM-L6-v2"
    assert round(found["top"][0][1], 4) == before[0][2]
    assert index.embedder.name == new_embedder.name


def test_ingesting_the_same_files_after_a_reindex_changes_nothing(index, new_embedder):
    reindex(index, new_embedder)
    report = ingest_paths(index, [EXAMPLES])
    assert (report.documents, report.unchanged) == (0, 4)


def test_a_document_written_during_the_reindex_is_switched_with_the_rest(place, index, new_embedder, embedder):
    writer = place.open(embedder=embedder)  # another server, on the old model
    calls = []

    def embed(texts: list[str]) -> np.ndarray:
        if not calls:
            put_document(writer, "late", read_transcript(SEED))
        calls.append(len(texts))
        return new_embedder.encode_passages(texts)

    reindex(index, new_embedder, embed=embed)
    vectors = stored_vectors(index)
    assert np.allclose(np.stack(list(vectors.values())), new_embedder.encode_passages(list(vectors)), atol=1e-5)
    with index.reading() as reader:
        assert reader.content_hash("late") is not None
    writer.close()


def test_a_write_embedded_with_the_old_model_after_the_switch_is_embedded_again(place, index, new_embedder, embedder):
    stale = place.open(embedder=embedder)  # opened before the switch
    reindex(index, new_embedder)
    put_document(stale, "late", read_transcript(SEED))
    with stale.reading() as reader:
        ids = reader.segment_ids_of("late")
        segment = reader.segments(ids[:1])[ids[0]]
        vectors = dict(zip(*reader.segment_vectors(), strict=True))
    text = index_text([(p.speaker, p.text) for _, p in segment.passages])
    assert np.allclose(vectors[ids[0]], new_embedder.encode_passages([text])[0], atol=1e-5)
    stale.close()


def test_an_interrupted_reindex_resumes_where_it_stopped(index, new_embedder):
    rounds = []

    def failing(texts: list[str]) -> np.ndarray:
        if rounds:
            raise RuntimeError("the machine went away")
        rounds.append(len(texts))
        return new_embedder.encode_passages(texts)

    with pytest.raises(RuntimeError):
        reindex(index, new_embedder, embed=failing, round_documents=2)
    assert dense_results(index, QUESTIONS[0])  # still searchable, on the old model
    assert index.manifest.model == "all-MiniLM-L6-v2"
    report = reindex(index, new_embedder, round_documents=2)
    assert (report.resumed, report.documents) == (2, 2)
    assert index.manifest.model == new_embedder.name


runner = CliRunner()


def test_rag_reindex_prints_what_it_did_and_rag_check_agrees(place, index, new_embedder):
    result = runner.invoke(app, ["reindex", "--model", new_embedder.name, *place.cli_args()])
    assert result.exit_code == 0, result.output
    assert f"re-embedded 4 documents (45 segments) with {new_embedder.name}" in result.output
    result = runner.invoke(app, ["check", *place.cli_args()])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reindex", "--model", "all-MiniLM-L6-v2"], "embedded with all-MiniLM-L6-v2 already"),
        (["reindex", "--model", "/nowhere/model"], "cannot load model"),
        (["reindex"], "rag reindex needs --model NAME (or --abandon)"),
    ],
)
def test_rag_reindex_refuses_bad_input_with_a_message(place, index, args, message):
    result = runner.invoke(app, [*args, *place.cli_args()])
    assert result.exit_code != 0
    assert message in result.output


def test_rag_reindex_abandon_drops_what_a_stopped_reindex_staged(place, index, new_embedder):
    stopped = {"calls": 0}

    def failing_second_round(texts: list[str]) -> np.ndarray:
        stopped["calls"] += 1
        if stopped["calls"] > 1:
            raise RuntimeError("stopped")
        return new_embedder.encode_passages(texts)

    with pytest.raises(RuntimeError):
        reindex(index, new_embedder, embed=failing_second_round, round_documents=2)
    staged = check_collection(place.directory, database=place.database).facts["reindex_staged"]
    assert staged == {"model": new_embedder.name, "documents": 2}
    result = runner.invoke(app, ["reindex", "--abandon", *place.cli_args()])
    assert result.exit_code == 0, result.output
    assert "searches use all-MiniLM-L6-v2 as before" in result.output
    assert "reindex_staged" not in check_collection(place.directory, database=place.database).facts
    report = reindex(index, new_embedder)
    assert (report.resumed, report.documents) == (0, 4)  # nothing of the abandoned run is kept


@pytest.mark.postgres
def test_a_database_is_reindexed_only_to_a_model_of_its_dimension(pg_server, embedder):
    index = Index.open(database=DatabaseOptions(SecretStr(pg_server.new_database())), create=True, embedder=embedder)
    other = dataclasses.replace(index.manifest, model="a-larger-model", dimension=768)
    with pytest.raises(IndexMismatchError, match="only to a model of the same dimension"):
        index.collection.begin_reindex(other)
    index.close()
