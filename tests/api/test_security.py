"""API keys, body limits, CORS and safe headers, over a real HTTP server."""

from __future__ import annotations

import logging

import httpx
import pytest

from api.observability import JsonFormatter
from api.security import ApiKeys
from rag.config import Settings
from tests.conftest import LiveServer, assert_error

KEY = "s3cret-writer-key-0123456789"
OTHER_KEY = "another-writer-key-9876543210"
FILE_KEY = "key-from-the-file-abcdef"
BODY = {"id": "keyed", "title": "Keyed", "turns": [{"speaker": "A", "text": "Keys keep writers honest."}]}


@pytest.fixture(scope="module")
def keyed(tmp_path_factory, embedder):
    """Writes need a key (two in the setting, one more in a file); reads are open."""
    root = tmp_path_factory.mktemp("keyed")
    keys_file = root / "keys.txt"
    keys_file.write_text(f"# writers\n{FILE_KEY}\n\n")
    settings = Settings(
        index_dir=root / "index",
        api_keys=f"{KEY}, {OTHER_KEY}",
        api_keys_file=keys_file,
        max_body_bytes=5_000,
        cors_origins="https://app.example",
    )
    with LiveServer(settings, embedder=embedder) as server:
        yield server


@pytest.fixture(scope="module")
def locked(examples_place, examples_index):
    """Reads need a key too."""
    settings = examples_place.settings(api_keys=KEY, protect_reads=True)
    with LiveServer(settings, embedder=examples_index.embedder) as server:
        yield server


def send(server: LiveServer, method: str, path: str, headers: dict | None = None, **kwargs) -> httpx.Response:
    return httpx.request(method, server.url + path, headers=headers, timeout=60, **kwargs)


WRITES = [
    ("POST", "/documents", {"json": BODY}),
    ("PUT", "/documents/keyed", {"json": BODY}),
    ("DELETE", "/documents/keyed", {}),
]


# ---------------------------------------------------------------------- writes


@pytest.mark.parametrize(("method", "path", "kwargs"), WRITES)
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": "Basic " + KEY}, 401),
        ({"Authorization": "Bearer wrong-key"}, 403),
        ({"X-API-Key": "wrong-key"}, 403),
        ({"Authorization": f"Bearer {KEY}x"}, 403),
        ({"X-API-Key": KEY[:-1]}, 403),
    ],
)
def test_a_write_without_a_valid_key_is_refused(keyed, method, path, kwargs, headers, status):
    response = send(keyed, method, path, headers, **kwargs)
    assert_error(response, status, None)
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {KEY}"},
        {"authorization": f"bearer {OTHER_KEY}"},
        {"X-API-Key": KEY},
        {"X-API-Key": FILE_KEY},
    ],
)
def test_a_write_with_a_configured_key_is_allowed(keyed, headers):
    assert send(keyed, "PUT", "/documents/keyed", headers, json=BODY).status_code in (200, 201)
    assert send(keyed, "DELETE", "/documents/keyed", headers).status_code == 204


def test_reads_are_open_by_default_even_with_keys(keyed):
    send(keyed, "PUT", "/documents/open-read", {"X-API-Key": KEY}, json=BODY)
    assert send(keyed, "GET", "/documents").status_code == 200
    assert send(keyed, "GET", "/documents/open-read").status_code == 200
    assert send(keyed, "POST", "/search", json={"query": "keys"}).status_code == 200
    assert send(keyed, "POST", "/context", json={"question": "keys"}).status_code == 200


READ_ONLY_POSTS = {"/search", "/context"}  # POSTs that change nothing (api.security.read_only)


def test_every_endpoint_that_is_not_a_read_needs_a_key(keyed):
    """A write endpoint added later is protected without anyone remembering to protect it."""
    schema = send(keyed, "GET", "/openapi.json").json()
    unsafe = [
        (method.upper(), path.replace("{id}", "some-id"))
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() not in ("GET", "HEAD", "OPTIONS") and path not in READ_ONLY_POSTS
    ]
    assert len(unsafe) >= 3
    for method, path in unsafe:
        assert_error(send(keyed, method, path, json=BODY), 401, None)


def test_the_schema_says_which_operations_need_a_key(keyed):
    paths = send(keyed, "GET", "/openapi.json").json()["paths"]
    assert "security" in paths["/documents"]["post"] and "security" in paths["/documents/{id}"]["delete"]
    assert "security" not in paths["/search"]["post"] and "security" not in paths["/documents"]["get"]
    assert "security" not in paths["/context"]["post"]


# ---------------------------------------------------------------------- protected reads


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/search", {"json": {"query": "ferry"}}),
        ("POST", "/context", {"json": {"question": "ferry"}}),
        ("GET", "/documents", {}),
        ("GET", "/documents/transport_briefing", {}),
        ("GET", "/speakers", {}),
    ],
)
def test_with_protected_reads_a_read_needs_a_key(locked, method, path, kwargs):
    assert_error(send(locked, method, path, **kwargs), 401, None)
    assert_error(send(locked, method, path, {"X-API-Key": "nope"}, **kwargs), 403, None)
    assert send(locked, method, path, {"Authorization": f"Bearer {KEY}"}, **kwargs).status_code == 200


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics"])
def test_probes_and_metrics_stay_open_when_reads_are_protected(locked, path):
    assert send(locked, "GET", path).status_code == 200


def test_protecting_reads_without_any_key_is_refused_at_start_up(tmp_path):
    from api.main import create_app
    from rag.errors import RagError

    with pytest.raises(RagError, match="RAG_PROTECT_READS needs keys"):
        create_app(Settings(index_dir=tmp_path, protect_reads=True))


# ---------------------------------------------------------------------- keys are secrets


def test_keys_never_appear_in_logs(keyed, caplog):
    caplog.set_level(logging.DEBUG)
    for headers in ({"Authorization": f"Bearer {KEY}"}, {"X-API-Key": OTHER_KEY}, {"X-API-Key": "wrong-" + KEY}):
        send(keyed, "PUT", "/documents/logged", headers, json=BODY)
        send(keyed, "GET", "/documents/logged", headers)
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert any('"route": "/documents/{id}"' in line for line in lines)
    for line in lines:
        assert KEY not in line and OTHER_KEY not in line


def test_keys_do_not_show_in_the_settings_or_the_key_set():
    settings = Settings(api_keys=f"{KEY},{OTHER_KEY}")
    assert KEY not in repr(settings) and KEY not in str(settings.model_dump())
    assert KEY not in repr(ApiKeys.from_settings(settings))


def test_without_keys_start_up_warns_that_writes_are_open(examples_place, examples_index, caplog):
    caplog.set_level(logging.WARNING, logger="api")
    with LiveServer(examples_place.settings(), embedder=examples_index.embedder):
        pass
    assert any("no API keys configured" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


# ---------------------------------------------------------------------- body size


def test_a_body_declared_larger_than_the_limit_is_a_413(keyed):
    response = send(keyed, "POST", "/search", json={"query": "x" * 6_000})
    assert_error(response, 413, "body")


def test_a_streamed_body_larger_than_the_limit_is_a_413(keyed):
    def chunks():
        yield b'{"query": "'
        for _ in range(10):
            yield b"y" * 1_000
        yield b'"}'

    response = send(keyed, "POST", "/search", {"content-type": "application/json"}, content=chunks())
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "body")


# ---------------------------------------------------------------------- CORS and headers


def test_cors_allows_the_configured_origin(keyed):
    response = send(keyed, "GET", "/documents", {"Origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    preflight = send(
        keyed,
        "OPTIONS",
        "/documents",
        {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_cors_does_not_allow_other_origins(keyed):
    response = send(keyed, "GET", "/documents", {"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_is_off_unless_configured(http):
    response = http.get("/documents", headers={"Origin": "https://app.example"})
    assert response.status_code == 200
    assert not any(name.startswith("access-control-") for name in response.headers)


def test_answers_tell_browsers_not_to_sniff_them_as_html(http):
    for response in (http.get("/health"), http.get("/nowhere"), http.post("/search", json={})):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-type"] == "application/json"
