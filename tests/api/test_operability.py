"""Readiness, metrics, request ids, JSON logs and the request timeout, over a real HTTP server."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.observability import JsonFormatter
from rag.config import Settings
from rag.index import Index
from tests.conftest import LiveServer, ServedProcess, assert_error


def metric(http: httpx.Client, name: str, **labels: str) -> float:
    """The value of one sample in /metrics (0 when it has not been recorded yet)."""
    for family in text_string_to_metric_families(http.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


# ---------------------------------------------------------------------- readiness


def test_ready_is_503_until_an_index_exists_then_200(place, embedder):
    with LiveServer(place.settings(), embedder=embedder) as server:
        body = assert_error(httpx.get(f"{server.url}/ready", timeout=30), 503, None)
        assert "no index" in body["error"]
        assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200
        place.open(create=True, embedder=embedder)
        response = httpx.get(f"{server.url}/ready", timeout=30)
        assert response.status_code == 200
        assert response.json() == {"status": "ready", "documents": 0, "passages": 0, "model": "all-MiniLM-L6-v2"}


def test_ready_is_200_on_a_loaded_index(http):
    body = http.get("/ready").json()
    assert body["status"] == "ready" and body["documents"] >= 4


# ---------------------------------------------------------------------- metrics


def test_metrics_count_requests_by_route_template_and_status(http):
    labels = {"method": "GET", "route": "/documents/{id}", "status": "404"}
    before = metric(http, "http_requests_total", **labels)
    http.get("/documents/not-there")
    http.get("/documents/nor-this")
    assert metric(http, "http_requests_total", **labels) == before + 2
    assert metric(http, "http_request_duration_seconds_count", **labels) == before + 2


def test_metrics_report_the_index_size_and_the_model_load_time(http, examples_index):
    counts = examples_index.stats()
    assert metric(http, "rag_index_documents") == counts["documents"]
    assert metric(http, "rag_index_passages") == counts["passages"]
    assert metric(http, "rag_model_load_seconds") > 0


def test_unknown_paths_share_one_metric_label(http):
    http.get("/random/path/123")
    http.get("/another/456")
    families = http.get("/metrics").text
    assert "/random/path/123" not in families
    assert metric(http, "http_requests_total", route="unmatched", status="404") >= 2


def test_metrics_count_the_requests_of_every_worker(examples_place, examples_index):
    labels = {"method": "GET", "route": "/health", "status": "200"}
    # a new connection for each request: any worker may take it, and any may answer the scrape
    with (
        ServedProcess(examples_place.cli_args(), workers=2) as server,
        httpx.Client(base_url=server.url, headers={"Connection": "close"}) as fresh,
    ):
        before = metric(fresh, "http_requests_total", **labels)
        for _ in range(12):
            fresh.get("/health")
        assert metric(fresh, "http_requests_total", **labels) == before + 12


def test_metrics_are_prometheus_text(http):
    response = http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")


# ---------------------------------------------------------------------- request ids and logs


def test_a_client_request_id_is_echoed(http):
    response = http.get("/health", headers={"X-Request-ID": "trace-42.a:b"})
    assert response.headers["x-request-id"] == "trace-42.a:b"


@pytest.mark.parametrize("given", [None, "", "has spaces", "x" * 200, "new\\nline"])
def test_a_missing_or_unusable_request_id_is_replaced_by_a_generated_one(http, given):
    headers = {"X-Request-ID": given} if given is not None else {}
    response = http.get("/health", headers=headers)
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_errors_carry_the_request_id_too(http):
    response = http.post("/search", json={"query": ""}, headers={"X-Request-ID": "failing-1"})
    assert (response.status_code, response.headers["x-request-id"]) == (422, "failing-1")


def test_each_request_is_one_json_log_line_with_its_id_route_status_and_duration(
    examples_place, examples_index, caplog
):
    caplog.set_level(logging.INFO, logger="api.access")
    settings = examples_place.settings()
    with LiveServer(settings, embedder=examples_index.embedder) as server:  # in this process: its log is seen
        httpx.get(f"{server.url}/documents/transport_briefing", headers={"X-Request-ID": "log-line-check"})
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "api.access"]
    entries = [json.loads(line) for line in lines if "log-line-check" in line]
    assert len(entries) == 1
    entry = entries[0]
    assert "\n" not in lines[0]
    assert entry["request_id"] == "log-line-check"
    assert (entry["level"], entry["method"], entry["route"], entry["status"]) == (
        "INFO",
        "GET",
        "/documents/{id}",
        200,
    )
    assert entry["duration_ms"] >= 0 and entry["time"].endswith("+00:00")


# ---------------------------------------------------------------------- crashes


def test_a_crash_is_a_500_in_the_error_shape_logged_with_its_request_id(tmp_path, embedder, caplog):
    """A damaged index file: the service still starts, says it is not ready, and answers 500s it logs."""
    Index.open(tmp_path / "damaged", create=True, embedder=embedder).close()
    for name in ("passages.sqlite-wal", "passages.sqlite-shm"):
        (tmp_path / "damaged" / name).unlink(missing_ok=True)
    (tmp_path / "damaged" / "passages.sqlite").write_bytes(b"this is not a database " * 200)
    caplog.set_level(logging.INFO, logger="api")
    with LiveServer(Settings(index_dir=tmp_path / "damaged"), embedder=embedder) as server:
        response = httpx.get(f"{server.url}/documents", headers={"X-Request-ID": "crash-1"}, timeout=30)
        body = assert_error(response, 500, None)
        assert "crash-1" in body["error"] and "not a database" not in body["error"]
        assert response.headers["x-request-id"] == "crash-1"
        assert_error(httpx.get(f"{server.url}/ready", timeout=30), 503, None)
        assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200
    crash = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.levelname == "ERROR"]
    logged = [entry for entry in crash if entry.get("request_id") == "crash-1"]
    assert logged and "not a database" in logged[0]["exception"]


# ---------------------------------------------------------------------- timeout


def test_a_search_slower_than_the_timeout_is_a_503(examples_place, examples_index):
    settings = examples_place.settings(request_timeout_s=0.000_001)
    with LiveServer(settings, embedder=examples_index.embedder) as server:
        response = httpx.post(f"{server.url}/search", json={"query": "ferry timetable"}, timeout=30)
        body = assert_error(response, 503, None)
        assert "took longer than" in body["error"]
        assert httpx.get(f"{server.url}/documents", timeout=30).status_code == 200
