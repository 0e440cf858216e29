"""Servers on one PostgreSQL collection: they see each other's writes, survive the database going away, and
never show its password."""

from __future__ import annotations

import logging
import time

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import Settings
from tests.conftest import SEED, LiveServer, assert_error
from tests.pgserver import ScratchServer

pytestmark = pytest.mark.postgres
PASSWORD = "s3cret-Pa55word"
KEY = "serving-key"
BRIEFING = {
    "title": "Lighthouse briefing",
    "date": "2026-04-01",
    "turns": [
        {"speaker": "Reporter", "text": "When will the lighthouse on the northern cape be relit?"},
        {"speaker": "Harbour Master", "text": "The northern cape lighthouse is relit on the first of May."},
    ],
}


def with_password(url: str) -> str:
    """The same database under a URL that holds a password (the test server trusts local connections)."""
    return url.replace("postgres:@", f"postgres:{PASSWORD}@", 1)


def found(client: httpx.Client, query: str) -> set[str]:
    response = client.post("/search", json={"query": query, "k": 10, "mode": "lexical"})
    assert response.status_code == 200, response.text
    return {r["document"]["id"] for r in response.json()["results"]}


def eventually(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def database_url(pg_server) -> str:
    return with_password(pg_server.new_database())


def test_a_document_written_through_one_server_is_found_and_then_gone_through_another_within_a_second(
    database_url, embedder
):
    settings = Settings(database_url=database_url, api_keys=KEY)
    with (
        LiveServer(settings, embedder=embedder) as one,
        LiveServer(settings, embedder=embedder) as other,
        httpx.Client(base_url=one.url, timeout=60, headers={"X-API-Key": KEY}) as writer,
        httpx.Client(base_url=other.url, timeout=60) as reader,
    ):
        assert writer.put("/documents/lighthouse", json=BRIEFING).status_code == 201
        assert eventually(lambda: "lighthouse" in found(reader, "lighthouse relit"), 1.0)
        assert writer.delete("/documents/lighthouse").status_code == 204
        assert eventually(lambda: "lighthouse" not in found(reader, "lighthouse relit"), 1.0)


def test_a_rename_through_one_server_is_seen_by_another_at_its_next_request(database_url, embedder):
    settings = Settings(database_url=database_url, api_keys=KEY)
    with LiveServer(settings, embedder=embedder) as one, LiveServer(settings, embedder=embedder) as other:
        headers = {"X-API-Key": KEY}
        assert httpx.put(f"{one.url}/documents/lighthouse", json=BRIEFING, headers=headers).status_code == 201
        assert httpx.get(f"{other.url}/speakers").status_code == 200  # the other server builds its directory
        body = {"rename": {"name": "Harbour Master", "to": "Ingrid Holm"}}
        assert httpx.patch(f"{one.url}/speakers", json=body, headers=headers).status_code == 200
        names = {p["name"] for p in httpx.get(f"{other.url}/speakers").json()}
        assert "Ingrid Holm" in names and "Harbour Master" not in names


# ---------------------------------------------------------------------- the database going away


@pytest.fixture
def own_server():
    """A server of its own, for tests that stop it."""
    server = ScratchServer(prefix="rag-pg-stop-")
    yield server
    server.close()


def test_a_database_gone_while_serving_is_a_503_naming_it_and_the_server_recovers_when_it_returns(
    own_server, embedder, caplog
):
    url = with_password(own_server.new_database())
    settings = Settings(database_url=url, api_keys=KEY, database_connect_timeout_s=2)
    with LiveServer(settings, embedder=embedder) as live, httpx.Client(base_url=live.url, timeout=60) as client:
        client.put("/documents/lighthouse", json=BRIEFING, headers={"X-API-Key": KEY}).raise_for_status()
        assert found(client, "lighthouse relit") == {"lighthouse"}
        own_server.stop()
        started = time.monotonic()
        body = assert_error(client.post("/search", json={"query": "lighthouse relit"}), 503, "database_url")
        assert time.monotonic() - started < settings.request_timeout_s
        assert "is unavailable" in body["error"] and "postgres:***@" in body["error"]
        assert client.get("/ready").status_code == 503
        assert client.get("/health").status_code == 200
        assert client.get("/metrics").status_code == 200  # the request counters matter most during an outage
        time.sleep(3 * settings.database_connect_timeout_s)  # longer than the pool retries a connection
        assert client.post("/search", json={"query": "lighthouse relit"}).status_code == 503
        own_server.start()
        back = time.monotonic()
        assert eventually(lambda: client.post("/search", json={"query": "lighthouse relit"}).status_code == 200, 30)
        assert time.monotonic() - back < 2 * settings.database_connect_timeout_s
        assert found(client, "lighthouse relit") == {"lighthouse"}
        assert client.get("/ready").status_code == 200
    assert PASSWORD not in caplog.text


def test_a_database_unreachable_at_start_is_a_503_until_it_is_there(own_server, embedder):
    url = with_password(own_server.new_database())
    own_server.stop()
    settings = Settings(database_url=url, database_connect_timeout_s=2)
    with LiveServer(settings, embedder=embedder) as live, httpx.Client(base_url=live.url, timeout=60) as client:
        body = assert_error(client.get("/ready"), 503, None)
        assert "postgres:***@" in body["error"] and PASSWORD not in body["error"]
        assert_error(client.post("/search", json={"query": "lighthouse"}), 503, "database_url")
        own_server.start()
        assert eventually(lambda: "no index" in client.get("/ready").text, 30)
        assert client.put("/documents/lighthouse", json=BRIEFING).status_code == 201
        assert client.get("/ready").status_code == 200


# ---------------------------------------------------------------------- the password


def test_the_password_is_masked_in_stats_health_and_settings(database_url, embedder):
    runner = CliRunner()
    ingest = runner.invoke(app, ["ingest", str(SEED), "--database-url", database_url])
    assert ingest.exit_code == 0, ingest.output
    stats = runner.invoke(app, ["stats", "--database-url", database_url])
    assert stats.exit_code == 0 and "postgres:***@" in stats.output and PASSWORD not in stats.output
    settings = Settings(database_url=database_url)
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.database())
    with LiveServer(settings, embedder=embedder) as live:
        health = httpx.get(f"{live.url}/health", timeout=30).json()
    assert health["index"].startswith("postgresql://postgres:***@") and health["documents"] == 1


def test_a_command_on_an_unreachable_database_names_it_masked_and_exits_1(own_server, caplog):
    url = with_password(own_server.new_database())
    own_server.stop()
    caplog.set_level(logging.INFO)
    result = CliRunner().invoke(app, ["search", "lighthouse", "--database-url", url])
    assert result.exit_code == 1
    assert "postgres:***@" in result.output and PASSWORD not in result.output + caplog.text


def test_a_read_only_database_as_a_replica_serves_searches_and_answers_writes_503(database_url, pg_server, embedder):
    settings = Settings(database_url=database_url)
    with LiveServer(settings, embedder=embedder) as live:
        assert httpx.put(f"{live.url}/documents/lighthouse", json=BRIEFING, timeout=60).status_code == 201
    name = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')  # as a replica refuses writes
    with LiveServer(settings, embedder=embedder) as live, httpx.Client(base_url=live.url, timeout=60) as client:
        assert found(client, "lighthouse relit") == {"lighthouse"}
        assert client.get("/ready").status_code == 200
        body = assert_error(client.delete("/documents/lighthouse"), 503, "database_url")
        assert "read-only" in body["error"] and "primary" in body["error"]
