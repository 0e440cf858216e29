"""Who said it, over HTTP: narration, spellings of one person, surnames several people share."""

from __future__ import annotations

import shutil

import httpx
import pytest

from rag.config import Settings
from rag.index import Index
from rag.ingest import ingest_paths
from tests.conftest import ATTRIBUTION, LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    """A server over the attribution fixtures; these tests only read."""
    directory = tmp_path_factory.mktemp("attribution-index")
    report = ingest_paths(Index.open(directory, create=True, embedder=embedder), [ATTRIBUTION])
    assert not report.failures
    with LiveServer(Settings(index_dir=directory), embedder=embedder) as live, httpx.Client(
        base_url=live.url, timeout=60
    ) as client:
        yield client


def _people(client) -> dict[str, dict]:
    return {p["name"]: p for p in client.get("/speakers").json()}


def test_every_spelling_of_a_frequent_speaker_is_an_alias_of_them(server):
    aliases = {a["name"] for a in _people(server)["Ivan Petrov"]["aliases"]}
    assert {
        "Ivan PETROV",
        "IvanPetrov",
        "Iwan Petrov",
        "Ivan Petrov (speaking German)",
        "Ivan Petrov (answering Anna Smirnova, Chair of the Regional Assembly)",
    } <= aliases


def test_a_different_person_with_the_same_surname_is_listed_apart(server):
    people = _people(server)
    assert {a["name"] for a in people["Oleg Petrov"]["aliases"]} == {"Oleg Petrov", "Minister of Education Oleg Petrov"}


def test_narration_is_no_one_in_the_speaker_list(server):
    assert "" not in _people(server)


def test_a_surname_filter_admits_everyone_it_may_mean_and_says_who(server):
    body = {"query": "school buses and roads in the north", "k": 10, "filters": {"speaker": "Petrov"}}
    response = server.post("/search", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["included_speakers"] == ["Ivan Petrov", "Oleg Petrov"]
    assert {r["canonical_speaker"] for r in result["results"]} == {"Ivan Petrov", "Oleg Petrov"}


def test_a_full_name_filter_admits_only_that_person(server):
    body = {"query": "school buses", "filters": {"speaker": "Oleg Petrov"}}
    result = server.post("/search", json=body).json()
    assert result["included_speakers"] == ["Oleg Petrov"]
    assert {r["canonical_speaker"] for r in result["results"]} == {"Oleg Petrov"}


def test_a_search_without_a_speaker_filter_includes_no_one_in_particular(server):
    assert server.post("/search", json={"query": "ferries"}).json()["included_speakers"] == []


def test_a_question_naming_a_shared_surname_finds_the_person_who_said_it(server):
    result = server.post("/search", json={"query": "What did Petrov say about the sanctions on the shipyards?"})
    first = result.json()["results"][0]
    assert (first["speaker"], first["canonical_speaker"]) == ("IvanPetrov", "Ivan Petrov")


def test_narration_is_found_and_shown_as_no_ones(server):
    result = server.post("/search", json={"query": "talks held in a restricted format, journalists accredited"})
    first = result.json()["results"][0]
    assert (first["speaker"], first["canonical_speaker"], first["role"]) == ("", "", "narration")
    assert first["text"].startswith("The talks were held in a restricted format")


def test_a_speaker_filter_never_admits_narration(server):
    body = {"query": "talks held in a restricted format", "k": 20, "filters": {"speaker": "Ivan Petrov"}}
    assert all(r["role"] != "narration" for r in server.post("/search", json=body).json()["results"])


def test_narration_is_cited_as_narration(server):
    body = {"question": "How many journalists were accredited to cover the visit?", "k": 1}
    citation = server.post("/context", json=body).json()["citations"][0]
    assert citation["label"].startswith("Narration, ") and citation["speaker"] == ""


def test_a_follow_up_resolves_a_person_named_by_surname_alone(server):
    body = {"question": "and what did he say about sanctions?", "history": ["What did Petrov say about the port?"]}
    assert server.post("/context", json=body).json()["query"] == "and what did Ivan Petrov say about sanctions?"


@pytest.fixture
def writable(tmp_path, embedder):
    directory = tmp_path / "index"
    source = tmp_path / "transcripts"
    source.mkdir()
    shutil.copy(ATTRIBUTION / "speaker_variants.txt", source)
    ingest_paths(Index.open(directory, create=True, embedder=embedder), [source])
    with LiveServer(Settings(index_dir=directory), embedder=embedder) as live, httpx.Client(
        base_url=live.url, timeout=60
    ) as client:
        yield client


def test_a_joined_misspelling_is_taken_out_by_renaming_it_and_put_back_by_merging(writable):
    renamed = writable.patch("/speakers", json={"rename": {"name": "Iwan Petrov", "to": "Iwan Petrov"}})
    assert renamed.status_code == 200, renamed.text
    assert "Iwan Petrov" in {p["name"] for p in renamed.json()}
    merged = writable.patch("/speakers", json={"merge": {"names": ["Iwan Petrov"], "into": "Ivan Petrov"}})
    people = {p["name"]: p for p in merged.json()}
    assert "Iwan Petrov" not in people
    assert "Iwan Petrov" in {a["name"] for a in people["Ivan Petrov"]["aliases"]}
