"""`rag mcp`: the MCP server as a real subprocess, driven by the MCP SDK's own client over stdio and HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import ROOT, SEED_ID, _free_port

SEED_QUESTION = "What did Lavrov say about the phone call between Putin and Trump?"


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def over_stdio(where: list[str], session: Callable[[Client], Awaitable[object]]) -> object:
    """Start `rag mcp` over the collection the options `where` name as a subprocess, run `session` against it
    with the SDK's client, stop it."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "rag.cli", "mcp", *where],
        cwd=str(ROOT),
        env=_environment(),
    )

    async def run() -> object:
        async with Client(params, read_timeout_seconds=120) as client:
            return await session(client)

    return anyio.run(run)


def test_the_server_offers_the_two_tools_with_described_arguments(examples_place):
    async def session(client: Client):
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in over_stdio(examples_place.cli_args(), session)}
    assert set(tools) == {"search_transcripts", "get_transcript"}
    search_args = tools["search_transcripts"].input_schema["properties"]
    assert set(search_args) == {"question", "speaker", "date_from", "date_to", "k"}
    assert all(arg.get("description") for arg in search_args.values())
    assert tools["search_transcripts"].input_schema["required"] == ["question"]
    assert tools["get_transcript"].input_schema["required"] == ["document_id"]


def test_search_transcripts_finds_attributed_passages_and_get_transcript_reads_their_document(examples_place):
    async def session(client: Client):
        found = await client.call_tool(
            "search_transcripts", {"question": SEED_QUESTION, "speaker": "Lavrov", "date_from": "2025-01-01", "k": 3}
        )
        document_id = found.structured_content["results"][0]["document"]["id"]
        return found, await client.call_tool("get_transcript", {"document_id": document_id})

    found, transcript = over_stdio(examples_place.cli_args(), session)
    assert not found.is_error, found.content
    first = found.structured_content["results"][0]
    assert (first["speaker"], first["citation"]) == ("Sergey Lavrov", "Sergey Lavrov, Moscow, 13 February 2025")
    assert "phone call between President Trump" in first["answers"]
    assert not transcript.is_error, transcript.content
    document = transcript.structured_content
    assert (document["id"], document["date"], document["place"]) == (SEED_ID, "2025-02-13", "Moscow")
    turn = document["turns"][first["turn_index"]]
    assert turn["speaker"] == "Sergey Lavrov" and first["text"].split("\n\n")[0] in turn["text"]


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("get_transcript", {"document_id": "no-such-document"}, "no document with id 'no-such-document'"),
        ("search_transcripts", {"question": "migration", "date_from": "13/02/2025"}, "date_from must be a date"),
        ("search_transcripts", {"question": "migration", "date_to": "2025-02-30"}, "date_to must be a date"),
        ("search_transcripts", {"question": "migration", "k": 0}, "greater than or equal to 1"),
        ("search_transcripts", {"question": "   "}, "question must not be empty"),
    ],
)
def test_bad_tool_arguments_are_tool_errors_and_the_server_keeps_serving(examples_place, tool, arguments, message):
    async def session(client: Client):
        bad = await client.call_tool(tool, arguments)
        after = await client.call_tool("get_transcript", {"document_id": SEED_ID})
        return bad, after

    bad, after = over_stdio(examples_place.cli_args(), session)
    assert bad.is_error
    assert message in bad.content[0].text
    assert not after.is_error


def test_a_missing_index_is_a_tool_error(tmp_path):
    async def session(client: Client):
        return await client.call_tool("get_transcript", {"document_id": SEED_ID})

    result = over_stdio(["--index", str(tmp_path / "nothing-here")], session)
    assert result.is_error and "no index at" in result.content[0].text


def test_the_server_speaks_streamable_http_when_asked(examples_place):
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "mcp",
            "--http",
            "--port",
            str(port),
            *examples_place.cli_args(),
        ],
        cwd=ROOT,
        env=_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, process)

        async def run():
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                return await client.call_tool("get_transcript", {"document_id": SEED_ID})

        result = anyio.run(run)
        assert not result.is_error, result.content
        assert result.structured_content["id"] == SEED_ID
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rag mcp --http exited: {process.stderr.read().decode()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("rag mcp --http did not start listening")


def test_the_library_never_imports_the_http_api():
    code = (
        "import sys, rag.cli, rag.mcp_server, rag.context, rag.followup;"
        "leaked = [m for m in sys.modules if m == 'api' or m.startswith('api.')];"
        "assert not leaked, leaked"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_environment(), check=True)
