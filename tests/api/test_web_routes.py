"""The web pages' routes over HTTP: static shells with a strict CSP, outside the API's schema and its keys."""

from __future__ import annotations

import re

import httpx
import pytest

from api.routes.pages import WEB
from tests.api.test_operability import metric
from tests.conftest import SEED_ID, LiveServer

PAGES = ["/", "/transcripts", f"/transcripts/{SEED_ID}"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_html_sent_with_a_policy_that_runs_only_the_services_own_scripts(http, path):
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["object-src"] == "'none'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_transcript_page_is_a_shell_that_carries_none_of_the_transcript(http):
    """What the page shows comes from the JSON API, so nothing from the index is put into HTML by the server."""
    title = http.get(f"/documents/{SEED_ID}").json()["title"]
    page = http.get(f"/transcripts/{SEED_ID}").text
    assert title not in page and "Lavrov" not in page and SEED_ID not in page


def test_the_swagger_page_keeps_working_without_the_pages_policy(http):
    # Swagger UI runs an inline script; the pages' policy would break it
    response = http.get("/docs")
    assert response.status_code == 200 and "content-security-policy" not in response.headers


def test_pages_and_their_files_are_left_out_of_the_api_schema(http):
    paths = http.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path == "/" or path.startswith(("/transcripts", "/static"))]


def test_every_file_the_pages_load_is_served(http):
    shells = "".join(http.get(path).text for path in PAGES)
    assets = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', shells))
    scripts = {f"/static/js/{path.name}" for path in (WEB / "static" / "js").glob("*.js")}
    imported = {
        f"/static/js/{name}"
        for path in (WEB / "static" / "js").glob("*.js")
        for name in re.findall(r'from "\./([\w-]+\.js)"', path.read_text())
    }
    assert {"/static/css/app.css", "/static/js/search.js", "/static/js/transcript.js"} <= assets
    assert imported <= scripts
    for path in assets | imported:
        response = http.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-cache"


def test_a_missing_file_is_a_404_in_the_api_error_shape(http):
    response = http.get("/static/js/nowhere.js")
    assert response.status_code == 404 and response.json() == {"error": "Not Found", "field": None}


def test_requests_for_page_files_share_one_metric_label(http):
    before = metric(http, "http_requests_total", route="/static/{path:path}", status="200")
    http.get("/static/css/app.css")
    http.get("/static/js/api.js")
    assert metric(http, "http_requests_total", route="/static/{path:path}", status="200") == before + 2


def test_with_protected_reads_the_pages_open_without_a_key_and_the_data_does_not(examples_place, examples_index):
    settings = examples_place.settings(api_keys="page-key", protect_reads=True)
    with LiveServer(settings, embedder=examples_index.embedder) as server:
        for path in [*PAGES, "/static/js/search.js"]:
            assert httpx.get(server.url + path, timeout=30).status_code == 200, path
        assert httpx.get(f"{server.url}/documents/{SEED_ID}", timeout=30).status_code == 401
