"""Session fixtures: the real model, small real indexes, a real HTTP server."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from rag.config import Settings
from rag.embedding import Embedder
from rag.index import Index
from rag.ingest import ingest_paths

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEED = EXAMPLES / "000_8fcf709333f4d63f.txt"
SEED_ID = "000_8fcf709333f4d63f"
FORMATS = ROOT / "tests" / "fixtures" / "formats"  # one hand-written transcript per format
ATTRIBUTION = ROOT / "tests" / "fixtures" / "attribution"  # one hand-written transcript per way to misattribute


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def examples_index(tmp_path_factory, embedder) -> Index:
    """The bundled examples, indexed once; tests must not write to it."""
    directory = tmp_path_factory.mktemp("examples-index")
    index = Index.open(directory, create=True, embedder=embedder)
    report = ingest_paths(index, [EXAMPLES])
    assert not report.failures
    return index


@pytest.fixture
def empty_index(tmp_path, embedder) -> Index:
    return Index.open(tmp_path / "index", create=True, embedder=embedder)


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    target = tmp_path / "transcripts" / SEED.name
    target.parent.mkdir()
    shutil.copy(SEED, target)
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A real uvicorn server on 127.0.0.1 in a background thread: the service, or any other ASGI `app`."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None, *, app=None):
        from api.main import create_app

        self.port = _free_port()
        self.app = app if app is not None else create_app(settings, embedder=embedder)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class ServedProcess:
    """`rag serve --workers N` as a real subprocess on 127.0.0.1 (ready once /ready answers 200)."""

    def __init__(self, directory: Path, workers: int, env: dict[str, str] | None = None):
        self.port = _free_port()
        command = ["serve", "--index", str(directory), "--port", str(self.port), "--workers", str(workers)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rag.cli", *command],
            cwd=ROOT,
            env={**os.environ, "RAG_LOG_LEVEL": "WARNING", **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServedProcess:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rag serve exited: {self.process.stderr.read()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/ready", timeout=5).status_code == 200:
                    return self
            time.sleep(0.2)
        raise RuntimeError("rag serve did not become ready")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.communicate(timeout=30)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--server-workers",
        type=int,
        default=0,
        help="serve the shared HTTP fixture from `rag serve --workers N` in a subprocess (0: in process)",
    )


@pytest.fixture(scope="session")
def live_server(examples_index, request):
    """The API over the examples index, served over real HTTP (see --server-workers)."""
    directory = examples_index.collection.directory
    workers = request.config.getoption("--server-workers")
    with ServedProcess(directory, workers) if workers else LiveServer(Settings(index_dir=directory)) as server:
        yield server


@pytest.fixture(scope="session")
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


def assert_error(response: httpx.Response, status: int, field: str | None) -> dict:
    """Every API error has one shape: {"error": message, "field": name}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "field"}, body
    assert isinstance(body["error"], str) and body["error"]
    assert body["field"] == field, body
    return body
