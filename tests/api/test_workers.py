"""`rag serve --workers 2`: two worker processes answer as one process does and see each other's writes."""

from __future__ import annotations

import json
import time
from http.client import HTTPConnection

import psutil
import pytest

from rag.ingest import ingest_paths
from rag.search import search
from tests.conftest import EXAMPLES, ServedProcess

QUESTIONS = [
    "What did Lavrov say about the phone call between Putin and Trump?",
    "Why did the administration turn down the hotel tax?",
    "When do passengers get their money back for the rail closure?",
]


def _worker_of(server: ServedProcess, connection: HTTPConnection) -> int:
    """The worker process holding the server's end of a connection."""
    port = connection.sock.getsockname()[1]
    for worker in psutil.Process(server.process.pid).children():
        if any(c.raddr and c.raddr.port == port for c in worker.net_connections(kind="tcp")):
            return worker.pid
    raise AssertionError(f"no worker holds the connection from port {port}")


def _call(connection: HTTPConnection, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    raw = response.read()
    return response.status, json.loads(raw) if raw else {}


@pytest.fixture
def one_per_worker():
    """Opens keep-alive connections until each of a server's two workers holds one: [(pid, connection)]."""
    opened: list[HTTPConnection] = []

    def connect(server: ServedProcess) -> list[tuple[int, HTTPConnection]]:
        held: dict[int, HTTPConnection] = {}
        for _ in range(200):
            connection = HTTPConnection("127.0.0.1", server.port, timeout=60)
            opened.append(connection)
            assert _call(connection, "GET", "/health")[0] == 200
            held.setdefault(_worker_of(server, connection), connection)
            if len(held) == 2:
                return list(held.items())
        raise AssertionError("every connection went to one worker")

    yield connect
    for connection in opened:
        connection.close()


def test_each_worker_answers_what_one_process_answers(examples_place, examples_index, one_per_worker):
    with ServedProcess(examples_place.cli_args(), workers=2) as server:
        workers = one_per_worker(server)
        for question in QUESTIONS:
            want = [(h.passage_id, h.speaker) for h in search(examples_index, question, k=5).hits]
            for _, connection in workers:
                status, body = _call(connection, "POST", "/search", {"query": question, "k": 5})
                assert status == 200
                assert [(r["passage_id"], r["speaker"]) for r in body["results"]] == want, question


def _found(connection: HTTPConnection, document: str) -> bool:
    status, body = _call(connection, "POST", "/search", {"query": "Will the gondolas run on Sunday?", "k": 10})
    assert status == 200
    return any(r["document"]["id"] == document for r in body["results"])


def _within_a_second(check) -> bool:
    deadline = time.monotonic() + 1.0
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_write_through_one_worker_is_seen_by_the_other_within_a_second(place, embedder, one_per_worker):
    assert not ingest_paths(place.open(create=True, embedder=embedder), [EXAMPLES / "transport_briefing.txt"]).failures
    document = {
        "title": "Gondola briefing",
        "turns": [
            {"speaker": "Reporter", "text": "Will the gondolas run on Sunday?"},
            {"speaker": "Mia Stone", "text": "The gondolas will run on Sunday, on the summer timetable."},
        ],
    }
    with ServedProcess(place.cli_args(), workers=2) as server:
        (_, first), (_, second) = one_per_worker(server)
        assert not _found(second, "gondolas")

        assert _call(first, "PUT", "/documents/gondolas", document)[0] in (200, 201)
        assert _within_a_second(lambda: _found(second, "gondolas"))

        assert _call(second, "DELETE", "/documents/gondolas")[0] == 204
        assert _within_a_second(lambda: not _found(first, "gondolas"))
