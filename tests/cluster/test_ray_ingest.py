"""rag ingest --ray: the same collection as a local ingest, from a Ray Data pipeline on a local Ray cluster."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.cluster.ingest import Placement, ingest_paths_on_ray
from rag.embedding import Embedder
from rag.index import Index
from rag.ingest import ingest_paths
from rag.search import search
from rag.storage.embedded import check
from tests.cluster.conftest import index_content, kill_worker
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.ray

QUESTIONS = [
    "Why did the administration turn down the hotel tax?",
    "What did Lavrov say about the phone call between Putin and Trump?",
    "Will there be enough gas this winter?",
    "When will the new bus lanes open?",
    "What did the treasurer say about the budget?",
    "military base in Tajikistan",
]
runner = CliRunner()


@pytest.fixture(scope="session")
def ray_index(ray_cluster, new_place, embedder) -> Index:
    """The examples ingested on Ray, in the session's backend (an index directory, or a PostgreSQL database)."""
    index = new_place("ray-index").open(create=True, embedder=embedder)
    report = ingest_paths_on_ray(index, [EXAMPLES], placement=Placement.on(ray_cluster, None, 1))
    assert (report.documents, report.failures) == (4, [])
    return index


def test_an_ingest_on_ray_holds_what_a_local_ingest_holds(ray_index, local_index):
    on_ray, local = index_content(ray_index), index_content(local_index)
    assert on_ray["documents"] == local["documents"]
    assert on_ray["turns"] == local["turns"]
    assert on_ray["hashes"] == local["hashes"]
    assert on_ray["segments"].keys() == local["segments"].keys()
    for key, (passages, vector) in local["segments"].items():
        ray_passages, ray_vector = on_ray["segments"][key]
        assert ray_passages == passages
        assert np.allclose(ray_vector, vector, atol=1e-5)  # the same model at the same precision


@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_questions_get_the_same_answers_from_a_ray_ingested_index(ray_index, local_index, mode):
    for question in QUESTIONS:
        on_ray = search(ray_index, question, k=5, mode=mode).hits
        local = search(local_index, question, k=5, mode=mode).hits
        assert [(h.document.id, h.turn_index, h.start_char, h.text) for h in on_ray] == [
            (h.document.id, h.turn_index, h.start_char, h.text) for h in local
        ]
        assert [h.score for h in on_ray] == pytest.approx([h.score for h in local], abs=1e-5)


def test_the_actors_embed_at_the_drivers_precision(ray_cluster, tmp_path, local_directory):
    bf16 = Index.open(tmp_path / "bf16", create=True, embedder=Embedder(precision="bf16"))
    ingest_paths_on_ray(bf16, [EXAMPLES], placement=Placement.on(ray_cluster, None, 1))
    on_ray, fp32 = index_content(bf16)["segments"], index_content(Index.open(local_directory))["segments"]
    assert on_ray.keys() == fp32.keys()
    ray_vectors = np.stack([vector for _, vector in on_ray.values()])
    fp32_vectors = np.stack([fp32[key][1] for key in on_ray])
    assert np.abs(ray_vectors - fp32_vectors).max() > 1e-4  # not the fp32 vectors...
    assert (ray_vectors * fp32_vectors).sum(axis=1).min() >= 0.999  # ...but the same model's, in bf16


def test_rag_ingest_with_ray_reports_the_documents_and_the_file_it_skipped(ray_cluster, tmp_path):
    folder = tmp_path / "transcripts"
    folder.mkdir()
    (folder / "energy.json").write_bytes((EXAMPLES / "energy_minister_interview.json").read_bytes())
    (folder / "broken.json").write_text("{ not json")
    directory = tmp_path / "index"
    result = runner.invoke(app, ["ingest", str(folder), "--index", str(directory), "--ray", "local"])
    assert result.exit_code == 0, result.output
    output = result.output.replace("\n", "")  # rich wraps long lines at the terminal's width
    assert "Ray cluster local: 1 nodes, 2 CPUs, 0 GPUs" in output
    assert "indexed 1 documents" in output and "1 failed" in output
    assert "broken.json:1" in output, output
    again = runner.invoke(app, ["ingest", str(folder), "--index", str(directory), "--ray", "local"])
    assert "indexed 0 documents" in again.output and "1 unchanged" in again.output


def test_a_ray_worker_killed_mid_run_loses_and_duplicates_nothing(ray_cluster, many_transcripts, tmp_path, embedder):
    # an index directory: rag check looks at its files as well as its rows
    index = Index.open(tmp_path / "index", create=True, embedder=embedder)
    killed: list[int | None] = []

    def on_segments(n: int) -> None:
        if not killed:  # the first document is back: the others are being embedded
            killed.append(kill_worker("ChunkAndEmbed"))

    report = ingest_paths_on_ray(
        index,
        [many_transcripts],
        placement=Placement.on(ray_cluster, None, 1),
        on_segments=on_segments,
        documents_per_call=1,
        batch_segments=10,
    )
    assert killed and killed[0] is not None, "no embedding actor was found to kill"
    assert report.documents == 12 and not report.failures
    local = Index.open(tmp_path / "local", create=True, embedder=embedder)
    ingest_paths(local, [many_transcripts])
    assert index.stats() | {"location": ""} == local.stats() | {"location": ""}  # every document, once
    assert document_ids(index) == document_ids(local)
    assert check(index.collection.directory).ok


def document_ids(index: Index) -> list[str]:
    with index.reading() as reader:
        return [doc.id for doc in reader.documents()]
