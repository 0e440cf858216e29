"""rag serve on Ray Serve: replicas of the same API over one PostgreSQL collection answer, and a write through
one is found by the next search, whichever replica answers it."""

from __future__ import annotations

import contextlib
import socket
import time

import httpx
import pytest

from rag.config import Settings
from rag.index import Index
from rag.ingest import ingest_paths
from tests.conftest import EXAMPLES, SEED

pytestmark = [pytest.mark.ray, pytest.mark.postgres]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(ray_cluster, pg_server, embedder):
    """Two replicas behind Ray Serve's proxy on 127.0.0.1, over the examples in a PostgreSQL database."""
    from ray import serve

    from rag.cluster.serve import APP_NAME, Replicas, deployment

    url = pg_server.new_database()
    settings = Settings(database_url=url)
    index = Index.open(database=settings.database(), create=True, embedder=embedder)
    assert not ingest_paths(index, [EXAMPLES]).failures
    index.close()
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(deployment(settings, Replicas(2)), name=APP_NAME, route_prefix="/")
    address = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{address}/ready", timeout=10).status_code == 200:
                break
        time.sleep(0.5)
    try:
        yield address, serve
    finally:
        serve.shutdown()


def test_two_replicas_answer_the_same_api(served):
    url, serve = served
    from rag.cluster.serve import APP_NAME

    states = serve.status().applications[APP_NAME].deployments["api"].replica_states
    assert states.get("RUNNING") == 2
    with httpx.Client(base_url=url, timeout=60) as client:
        answers = [client.post("/search", json={"query": "hotel tax", "k": 1}) for _ in range(10)]
    assert {a.status_code for a in answers} == {200}
    assert {a.json()["results"][0]["document"]["id"] for a in answers} == {"harbour_council_budget_hearing"}


def test_a_document_added_through_the_api_is_found_by_the_next_search(served):
    url, _ = served
    with httpx.Client(base_url=url, timeout=60) as client:
        added = client.post("/documents", files={"file": ("late.txt", SEED.read_bytes(), "text/plain")})
        assert added.status_code == 201, added.text
        for _ in range(6):  # whichever replica answers: each reads the collection as it is now
            found = client.post("/search", json={"query": "military base in Tajikistan", "k": 10})
            assert "late" in {hit["document"]["id"] for hit in found.json()["results"]}
