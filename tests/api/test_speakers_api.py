"""Speaker names over HTTP: canonical names in results, filters by any name, renames and merges."""

from __future__ import annotations

import httpx
import pytest

from rag.index import Index
from rag.ingest import ingest_paths
from rag.models import Filters
from rag.search import search
from tests.conftest import EXAMPLES, LiveServer, assert_error


@pytest.fixture(scope="module")
def writable(new_place, embedder):
    """A server over its own copy of the examples index, which these tests may change."""
    place = new_place("speakers-index")
    index = place.open(create=True, embedder=embedder)
    ingest_paths(index, [EXAMPLES])
    with LiveServer(place.settings(), embedder=embedder) as server:
        yield server, index


def _generation(index: Index) -> int:
    with index.reading() as reader:
        return reader.generation


def test_a_surname_filter_finds_the_person(examples_index):
    hits = search(examples_index, "military base", k=3, filters=Filters(speakers=("Lavrov",))).hits
    assert hits and {h.speaker for h in hits} == {"Sergey Lavrov"}


def test_a_question_naming_a_speaker_puts_their_words_first(examples_index):
    hits = search(examples_index, "What did Haddad say about the ferry?", k=5).hits
    assert hits[0].speaker == "MS. HADDAD"
    assert len({h.speaker for h in hits}) > 1  # favoured, not filtered


def test_results_carry_the_canonical_speaker(examples_index):
    hit = search(examples_index, "refund for the rail closure", k=1).hits[0]
    assert (hit.speaker, hit.canonical_speaker) == ("MS. LINDQVIST", "LINDQVIST")


def test_speakers_lists_people_with_their_spellings(writable):
    server, _ = writable
    people = {p["name"]: p for p in httpx.get(f"{server.url}/speakers").json()}
    assert {a["name"] for a in people["Question"]["aliases"]} == {"Question", "QUESTION"}
    assert people["Question"]["passages"] == sum(a["passages"] for a in people["Question"]["aliases"])


def test_rename_changes_results_and_filters_without_touching_the_vectors(writable):
    server, index = writable
    before = _generation(index)  # moves on with every change to documents, their vectors included
    response = httpx.patch(
        f"{server.url}/speakers", json={"rename": {"name": "MS. LINDQVIST", "to": "Karin Lindqvist"}}
    )
    assert response.status_code == 200, response.text
    body = {"query": "refund for the rail closure", "k": 3, "filters": {"speaker": ["Karin Lindqvist"]}}
    results = httpx.post(f"{server.url}/search", json=body).json()["results"]
    assert results and {(r["speaker"], r["canonical_speaker"]) for r in results} == {
        ("MS. LINDQVIST", "Karin Lindqvist")
    }
    assert _generation(index) == before


def test_merge_makes_two_names_one_person(writable):
    server, _ = writable
    response = httpx.patch(f"{server.url}/speakers", json={"merge": {"names": ["Interviewer"], "into": "Anna Keller"}})
    assert response.status_code == 200, response.text
    keller = next(p for p in response.json() if p["name"] == "Anna Keller")
    assert {a["name"] for a in keller["aliases"]} == {"Anna Keller", "Interviewer"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"rename": {"name": "Nobody At All", "to": "X"}}, 404, "speaker"),
        ({}, 422, "body"),
        ({"rename": {"name": "Anna Keller", "to": "  "}}, 422, "rename.to"),
    ],
)
def test_bad_speaker_changes_are_4xx_naming_the_field(writable, body, status, field):
    server, _ = writable
    assert_error(httpx.patch(f"{server.url}/speakers", json=body), status, field)
