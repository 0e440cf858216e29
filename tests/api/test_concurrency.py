"""Searches keep being answered, and correctly, while documents are added and deleted over HTTP."""

from __future__ import annotations

import threading
import time

import httpx

from rag.ingest import ingest_paths
from tests.conftest import EXAMPLES, SEED, LiveServer

KEY = "concurrency-key"
MARKER = "quokka"  # a word no example uses: only the documents written here match it
ROUNDS = 6
SEARCHERS = 3
DEADLINE_S = 120


def ephemeral(n: int) -> dict:
    return {
        "title": f"Wildlife briefing {n}",
        "date": "2026-01-01",
        "turns": [
            {"speaker": "Question", "text": f"How many {MARKER} colonies are on the island this year?"},
            {"speaker": f"Ranger {n}", "text": f"We counted {n + 3} {MARKER} colonies, more than last year."},
        ],
    }


def test_searches_never_fail_nor_return_a_document_after_its_delete_returned(place, embedder):
    index = place.open(create=True, embedder=embedder)
    ingest_paths(index, [SEED, EXAMPLES / "transport_briefing.txt"])
    settings = place.settings(api_keys=KEY)
    failures: list[str] = []
    seen: list[tuple[float, set[str]]] = []  # when a search was sent, and the documents it returned
    stop = threading.Event()
    deadline = time.monotonic() + DEADLINE_S

    with LiveServer(settings, embedder=embedder) as server:

        def search_in_a_loop(mode: str) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                while not stop.is_set() and time.monotonic() < deadline:
                    sent = time.monotonic()
                    try:
                        response = client.post("/search", json={"query": f"{MARKER} colonies", "k": 10, "mode": mode})
                    except httpx.HTTPError as exc:
                        failures.append(f"{mode}: {exc!r}")
                        continue
                    if response.status_code != 200:
                        failures.append(f"{mode}: {response.status_code} {response.text}")
                        continue
                    seen.append((sent, {r["document"]["id"] for r in response.json()["results"]}))

        searchers = [
            threading.Thread(target=search_in_a_loop, args=(mode,), daemon=True)
            for mode in ("hybrid", "dense", "lexical")[:SEARCHERS]
        ]
        for thread in searchers:
            thread.start()

        deleted_at: dict[str, float] = {}
        with httpx.Client(base_url=server.url, timeout=60, headers={"X-API-Key": KEY}) as writer:
            for n in range(ROUNDS):
                doc_id = f"ephemeral-{n}"
                assert writer.put(f"/documents/{doc_id}", json=ephemeral(n)).status_code == 201
                found = writer.post("/search", json={"query": f"{MARKER} colonies", "k": 10, "mode": "lexical"})
                assert doc_id in {r["document"]["id"] for r in found.json()["results"]}
                assert writer.delete(f"/documents/{doc_id}").status_code == 204
                deleted_at[doc_id] = time.monotonic()
        stop.set()
        for thread in searchers:
            thread.join(timeout=60)

    assert not failures, failures[:5]
    assert len(seen) >= ROUNDS * SEARCHERS
    for sent, documents in seen:
        late = {doc_id for doc_id, when in deleted_at.items() if sent > when and doc_id in documents}
        assert not late, f"a search sent after {late} was deleted still returned it"
    assert any(documents & set(deleted_at) for _, documents in seen), "the searches never saw a written document"
