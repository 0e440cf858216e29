"""The HTTP API, through a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest

from rag.config import Settings
from tests.conftest import SEED_ID, LiveServer, assert_error

SEED_QUESTION = "What did Lavrov say about the phone call between Putin and Trump?"


def test_search_answers_with_attributed_passages(http):
    response = http.post("/search", json={"query": SEED_QUESTION, "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == SEED_QUESTION and body["took_ms"] > 0
    first = body["results"][0]
    assert (first["rank"], first["speaker"], first["role"]) == (1, "Sergey Lavrov", "answer")
    assert first["document"] == {
        "id": SEED_ID,
        "title": first["document"]["title"],
        "date": "2025-02-13",
        "place": "Moscow",
        "source": first["document"]["source"],
        "media_url": None,
    }
    assert "phone call between President Trump" in first["context"]
    assert set(first) >= {"score", "text", "turn_index", "start_char", "end_char", "highlight"}


def test_page_two_holds_exactly_the_results_ranked_eleven_to_twenty(http):
    def page(k: int, offset: int) -> list[tuple[int, int]]:
        body = {"query": "taxes, budgets and prices", "k": k, "offset": offset}
        return [(r["rank"], r["passage_id"]) for r in http.post("/search", json=body).json()["results"]]

    first_twenty = page(20, 0)
    assert len(first_twenty) == 20
    assert page(10, 10) == first_twenty[10:]


def test_the_answer_to_a_matching_question_comes_first_not_the_question(http):
    results = http.post("/search", json={"query": SEED_QUESTION, "k": 5}).json()["results"]
    assert results[0]["role"] == "answer"
    assert all(r["role"] != "question" for r in results[:3])


def test_search_filters_by_speaker_document_and_dates(http):
    body = {
        "query": "questions about security",
        "k": 10,
        "filters": {
            "speaker": ["Question"],
            "document_id": SEED_ID,
            "date_from": "2025-01-01",
            "date_to": "2025-12-31",
        },
    }
    results = http.post("/search", json=body).json()["results"]
    assert len(results) == 3
    assert {(r["speaker"], r["document"]["id"]) for r in results} == {("Question", SEED_ID)}


def test_a_single_speaker_may_be_given_as_a_string(http):
    body = {"query": "ferry", "filters": {"speaker": "MS. HADDAD"}}
    assert {r["speaker"] for r in http.post("/search", json=body).json()["results"]} == {"MS. HADDAD"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": ""}, "query"),
        ({"query": "   "}, "query"),
        ({"query": 42}, "query"),
        ({}, "query"),
        ({"query": "x", "k": 0}, "k"),
        ({"query": "x", "k": 101}, "k"),
        ({"query": "x", "k": "many"}, "k"),
        ({"query": "x", "mode": "psychic"}, "mode"),
        ({"query": "x", "filters": {"date_from": "13/02/2025"}}, "filters.date_from"),
        ({"query": "x", "filters": {"date_to": "2025-02-30"}}, "filters.date_to"),
        ({"query": "x", "filters": {"speaker": [1, 2]}}, "filters.speaker.0"),
        ({"query": "x", "filters": {"speaker": ["Anna\u0000"]}}, "filters.speaker.0"),
        ({"query": "x", "filters": {"document_id": "doc\u0000"}}, "filters.document_id"),
        ({"query": "x", "filters": {"colour": "red"}}, "filters.colour"),
        ({"query": "x", "offset": -1}, "offset"),
    ],
)
def test_bad_search_input_is_a_422_naming_the_field(http, body, field):
    assert_error(http.post("/search", json=body), 422, field)


def test_a_question_longer_than_the_configured_limit_is_a_422(http):
    assert_error(http.post("/search", json={"query": "why " * 600}), 422, "query")


def test_malformed_json_is_a_400(http):
    response = http.post("/search", content=b'{"query": ', headers={"content-type": "application/json"})
    assert_error(response, 400, "body")


def test_a_body_that_is_not_an_object_is_a_422(http):
    assert_error(http.post("/search", json=["query"]), 422, "body")


def test_an_unknown_route_is_a_404_in_the_same_shape(http):
    assert_error(http.get("/nowhere"), 404, None)


def test_speakers_lists_names_with_passage_counts(http):
    speakers = {s["name"]: s["passages"] for s in http.get("/speakers").json()}
    assert speakers["Sergey Lavrov"] > speakers["Question"] >= 3


def test_documents_lists_ids_titles_dates_and_counts(http):
    documents = {d["id"]: d for d in http.get("/documents").json()}
    seed = documents[SEED_ID]
    assert (seed["date"], seed["turns"]) == ("2025-02-13", 7)
    assert seed["passages"] > 7


def test_health_reports_the_index(http):
    body = http.get("/health").json()
    assert body["status"] == "ok" and body["documents"] >= 4 and body["model"] == "all-MiniLM-L6-v2"


def test_openapi_schema_is_served(http):
    assert "/search" in http.get("/openapi.json").json()["paths"]
    assert http.get("/docs").status_code == 200


def test_without_an_index_search_is_a_503_saying_how_to_build_one(tmp_path):
    with LiveServer(Settings(index_dir=tmp_path / "none")) as server:
        response = httpx.post(f"{server.url}/search", json={"query": "x"}, timeout=30)
        body = assert_error(response, 503, None)
        assert body["error"] == f"no index at {tmp_path / 'none'}: run rag ingest"
        assert httpx.get(f"{server.url}/health", timeout=30).json()["documents"] is None


@pytest.mark.parametrize("k", [True, 2.5])
def test_k_must_be_a_json_integer(http, k):
    assert_error(http.post("/search", json={"query": "ferries", "k": k}), 422, "k")
