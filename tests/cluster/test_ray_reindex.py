"""rag reindex --ray: the new model's vectors made on the cluster, switched to at once while searches go on."""

from __future__ import annotations

import json
import shutil
import threading

import numpy as np
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from rag.cli import app
from rag.cluster.ingest import Placement
from rag.cluster.reindex import EmbedOnRay
from rag.embedding import Embedder
from rag.index import Index, check_collection
from rag.ingest import ingest_paths
from rag.reindex import reindex
from rag.storage.embedded import check
from rag.storage.postgres import DatabaseOptions
from tests.conftest import EXAMPLES
from tests.models import cls_pooled_model
from tests.storage.test_reindex import QUESTIONS, dense_results, stored_vectors

pytestmark = pytest.mark.ray
runner = CliRunner()


@pytest.fixture(scope="module")
def new_embedder() -> Embedder:
    return Embedder(cls_pooled_model())


@pytest.fixture
def index(local_directory, tmp_path, embedder):
    directory = tmp_path / "index"
    shutil.copytree(local_directory, directory)
    opened = Index.open(directory, embedder=embedder)
    yield opened
    opened.close()


def test_a_reindex_on_ray_switches_at_once_while_questions_are_answered(ray_cluster, index, new_embedder):
    before = {q: dense_results(index, q) for q in QUESTIONS}
    seen: list[tuple[str, list]] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def searching() -> None:
        while not done.is_set():
            for question in QUESTIONS:
                try:
                    seen.append((question, dense_results(index, question)))
                except BaseException as exc:  # a failed search is what this test is about
                    failures.append(exc)
                    return

    threads = [threading.Thread(target=searching) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        embed = EmbedOnRay(new_embedder, Placement.on(ray_cluster, None, 1))
        report = reindex(index, new_embedder, embed=embed)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=120)
    after = {q: dense_results(index, q) for q in QUESTIONS}
    assert not failures
    outcomes = ["old" if found == before[q] else "new" if found == after[q] else "mixed" for q, found in seen]
    assert report.documents == 4 and outcomes[0] == "old" and "mixed" not in outcomes
    manifest = json.loads((index.collection.directory / "manifest.json").read_text())
    assert manifest["model"] == new_embedder.name
    vectors = stored_vectors(index)  # made on the cluster: the model's own vectors, as made here
    assert np.allclose(np.stack(list(vectors.values())), new_embedder.encode_passages(list(vectors)), atol=1e-5)
    assert check(index.collection.directory).ok


def test_rag_reindex_with_ray_names_the_cluster_and_the_new_model(ray_cluster, index, new_embedder):
    directory = str(index.collection.directory)
    result = runner.invoke(app, ["reindex", "--model", new_embedder.name, "--index", directory, "--ray", "local"])
    assert result.exit_code == 0, result.output
    output = result.output.replace("\n", "")
    assert "Ray cluster local: 1 nodes, 2 CPUs" in output
    assert f"re-embedded 4 documents (45 segments) with {new_embedder.name}" in output


@pytest.mark.postgres
def test_a_database_collection_is_reindexed_on_ray_and_every_server_follows(
    ray_cluster, pg_server, embedder, new_embedder
):
    database = DatabaseOptions(SecretStr(pg_server.new_database()))
    index = Index.open(database=database, create=True, embedder=embedder)
    ingest_paths(index, [EXAMPLES])
    other = Index.open(database=database, embedder=embedder)  # another server, opened before the switch
    report = reindex(index, new_embedder, embed=EmbedOnRay(new_embedder, Placement.on(ray_cluster, None, 1)))
    assert report.documents == 4
    assert dense_results(other, QUESTIONS[0]) == dense_results(index, QUESTIONS[0])
    assert other.manifest.model == new_embedder.name
    vectors = stored_vectors(other)
    assert np.allclose(np.stack(list(vectors.values())), new_embedder.encode_passages(list(vectors)), atol=1e-5)
    assert check_collection(database=database).ok
    other.close()
    index.close()
