"""POST /context over a real uvicorn server: a chat model's context, with citations."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import SEED_ID, LiveServer, assert_error, stored_passages

SEED_QUESTION = "What did Lavrov say about the phone call between Putin and Trump?"
FOLLOW_UP = "and what did he say about migration?"
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def test_context_answers_with_numbered_quotes_and_citations(http):
    response = http.post("/context", json={"question": SEED_QUESTION})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"question", "query", "context", "citations", "tokens", "max_tokens"}
    first = body["citations"][0]
    assert (first["n"], first["speaker"], first["canonical_speaker"]) == (1, "Sergey Lavrov", "Sergey Lavrov")
    assert (first["document"]["id"], first["date"], first["label"]) == (
        SEED_ID,
        "2025-02-13",
        "Sergey Lavrov, Moscow, 13 February 2025",
    )
    assert body["context"] == "\n\n".join(f"[{c['n']}] {c['label']}:\n{c['quote']}" for c in body["citations"])
    assert 0 < body["tokens"] <= body["max_tokens"] == 1000


def test_context_citations_are_the_stored_words(http, examples_index):
    citations = http.post("/context", json={"question": SEED_QUESTION, "k": 5}).json()["citations"]
    for c in citations:
        stored = stored_passages(examples_index, c["document"]["id"])
        texts = [stored[pid].text for pid in c["passage_ids"]]
        assert c["passage_id"] == c["passage_ids"][0]
        if c["kind"] == "passage":
            assert [c["text"]] == texts
        else:
            with examples_index.reading() as reader:
                turn = reader.turns(c["document"]["id"])[c["turn_index"]].text
            assert c["text"] == turn[c["start_char"] : c["end_char"]]
            assert all(text in c["text"] for text in texts)


def test_context_within_a_small_budget_ends_at_a_sentence_end(http, embedder):
    body = http.post("/context", json={"question": SEED_QUESTION, "max_tokens": 80}).json()
    assert body["citations"] and body["tokens"] <= 80
    assert embedder.count_tokens([body["context"]])[0] <= 80
    assert SENTENCE_END.search(body["context"])


def test_context_resolves_a_follow_up_against_the_history(http):
    body = http.post("/context", json={"question": FOLLOW_UP, "history": [SEED_QUESTION], "k": 5}).json()
    assert body["query"] == "and what did Sergey Lavrov say about migration?"
    first = body["citations"][0]
    assert first["speaker"] == "Sergey Lavrov" and "migration" in first["text"]


def test_context_takes_the_search_filters(http):
    body = {"question": "ferry", "filters": {"speaker": "MS. HADDAD", "date_from": "2026-01-01"}}
    citations = http.post("/context", json=body).json()["citations"]
    assert citations and {c["speaker"] for c in citations} == {"MS. HADDAD"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "   "}, "question"),
        ({"question": 42}, "question"),
        ({"question": "x", "k": 0}, "k"),
        ({"question": "x", "k": 101}, "k"),
        ({"question": "x", "max_tokens": 5}, "max_tokens"),
        ({"question": "x", "max_tokens": "lots"}, "max_tokens"),
        ({"question": "x", "history": "What did Lavrov say?"}, "history"),
        ({"question": "x", "history": ["ok", 7]}, "history.1"),
        ({"question": "x", "history": ["?"] * 21}, "history"),
        ({"question": "x", "filters": {"date_from": "13/02/2025"}}, "filters.date_from"),
        ({"question": "x", "temperature": 0.2}, "temperature"),
    ],
)
def test_bad_context_input_is_a_422_naming_the_field(http, body, field):
    assert_error(http.post("/context", json=body), 422, field)


def test_context_question_and_history_are_held_to_the_configured_length(examples_place, embedder):
    settings = examples_place.settings(max_query_chars=50, max_k=10)
    with LiveServer(settings, embedder=embedder) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        assert_error(client.post("/context", json={"question": "x" * 51}), 422, "question")
        assert_error(client.post("/context", json={"question": "x", "history": ["ok", "y" * 51]}), 422, "history.1")
        assert_error(client.post("/context", json={"question": "x", "k": 11}), 422, "k")
        schema = client.get("/openapi.json").json()["components"]["schemas"]["ContextRequest"]["properties"]
        assert (schema["question"]["maxLength"], schema["history"]["items"]["maxLength"]) == (50, 50)


def test_context_malformed_json_is_a_400(http):
    response = http.post("/context", content=b'{"question": ', headers={"content-type": "application/json"})
    assert_error(response, 400, "body")
