"""--ray on the command line without a usable cluster: a one-line message and exit status 1, never a hang."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import EXAMPLES, rag_process


def rag(*args: str, hide_ray: bool = False) -> subprocess.CompletedProcess:
    """`rag ARGS` in a fresh process (Ray joins a cluster once per process); optionally as if Ray were absent."""
    return rag_process(*args, without=("ray",) if hide_ray else (), timeout=120)


def test_ray_without_the_ray_extra_says_which_extra_to_install(tmp_path):
    result = rag("ingest", str(EXAMPLES), "--index", str(tmp_path / "index"), "--ray", "local", hide_ray=True)
    assert result.returncode == 1
    assert "running on Ray needs the ray extra: pip install 'transcript-rag[ray]'" in result.stderr


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("127.0.0.1:9", "cannot join the Ray cluster at '127.0.0.1:9': nothing answers at 127.0.0.1:9"),
        ("not-an-address", "--ray 'not-an-address': give auto, local, or the head's host:port"),
    ],
)
def test_a_ray_cluster_that_cannot_be_joined_is_a_message(tmp_path, address, message):
    pytest.importorskip("ray")
    result = rag("ingest", str(EXAMPLES), "--index", str(tmp_path / "index"), "--ray", address)
    assert result.returncode == 1
    assert message in result.stderr


def test_replicas_on_ray_without_a_database_are_refused(tmp_path):
    result = rag("serve", "--index", str(tmp_path / "index"), "--ray", "local", "--replicas", "2")
    assert result.returncode == 1
    assert "rag serve --ray needs the collection in PostgreSQL (--database-url or RAG_DATABASE_URL)" in result.stderr
