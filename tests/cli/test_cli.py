"""The `rag` command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from api.schemas.documents import DocumentOut
from rag.cli import app
from tests.conftest import SEED, SEED_ID

runner = CliRunner()


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory, new_place):
    """An index built by `rag ingest` from a folder holding the seed and one broken file; the options that
    name it (--index DIR or --database-url URL)."""
    folder = tmp_path_factory.mktemp("transcripts")
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    (folder / "broken.json").write_text("{ not json")
    where = new_place("cli-index").cli_args()
    result = runner.invoke(app, ["ingest", str(folder), *where])
    return where, result


def test_ingest_summarises_and_reports_the_bad_file_it_skipped(cli_index):
    _, result = cli_index
    assert result.exit_code == 0, result.output
    assert "indexed 1 documents (7 turns," in result.output
    assert "1 failed" in result.output
    assert "broken.json:1" in result.output


def test_search_json_prints_the_api_object(cli_index):
    where, _ = cli_index
    result = runner.invoke(app, ["search", "military base in Tajikistan", "-k", "2", "--json", *where])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body) == {"query", "took_ms", "included_speakers", "results"}
    assert len(body["results"]) == 2
    assert body["results"][0]["document"]["id"] == SEED_ID


def test_search_by_speaker_prints_only_that_speaker(cli_index):
    where, _ = cli_index
    result = runner.invoke(app, ["search", "security", "--speaker", "Question", "--json", *where])
    assert {r["speaker"] for r in json.loads(result.output)["results"]} == {"Question"}


def test_parse_json_prints_title_date_and_turns():
    result = runner.invoke(app, ["parse", str(SEED), "--json"])
    body = json.loads(result.output)
    assert body["date"] == "2025-02-13"
    assert [t["speaker"] for t in body["turns"]][:3] == ["Sergey Lavrov", "Question", "Sergey Lavrov"]
    assert set(body["turns"][0]) == {"speaker", "role", "text"}


def test_stats_shows_counts(cli_index):
    where, _ = cli_index
    result = runner.invoke(app, ["stats", *where])
    assert result.exit_code == 0 and "passages" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "x", "--index", "{tmp}/none"], "no index at"),
        (["search", "x", "--from", "yesterday", "{where}"], "--from must be a date"),
        (["search", "x", "--mode", "psychic", "{where}"], "mode must be one of"),
        (["parse", "{tmp}/missing.txt"], "cannot read"),
        (["ingest", "{tmp}", "--segment-tokens", "64", "{where}"], "built with segments of 128 tokens"),
    ],
)
def test_bad_input_is_a_message_and_a_non_zero_exit(cli_index, tmp_path, args, message):
    where, _ = cli_index
    args = [part for a in args for part in (where if a == "{where}" else [a.format(tmp=tmp_path)])]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_new_index_takes_the_segment_size_it_is_given(tmp_path, new_place):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    small, default = new_place("small"), new_place("default")
    assert runner.invoke(app, ["ingest", str(folder), "--segment-tokens", "48", *small.cli_args()]).exit_code == 0
    assert runner.invoke(app, ["ingest", str(folder), *default.cli_args()]).exit_code == 0
    stats = [place.open().stats() for place in (small, default)]
    assert [s["segment_tokens"] for s in stats] == [48, 128]
    assert stats[0]["segments"] > stats[1]["segments"]


def test_check_finds_nothing_wrong_in_a_fresh_index(cli_index):
    where, _ = cli_index
    result = runner.invoke(app, ["check", *where])
    assert result.exit_code == 0, result.output
    assert "ok: " in result.output and "problem" not in result.output


def test_speakers_json_lists_people_and_a_rename_shows_in_it(place):
    where = place.cli_args()
    assert runner.invoke(app, ["ingest", str(SEED), *where]).exit_code == 0
    renamed = runner.invoke(app, ["speakers", "--rename", "Sergey Lavrov", "Sergei Lavrov", "--json", *where])
    assert renamed.exit_code == 0, renamed.output
    names = {person["name"] for person in json.loads(renamed.output)}
    assert "Sergei Lavrov" in names and "Sergey Lavrov" not in names


def test_documents_lists_the_indexed_documents(cli_index):
    where, _ = cli_index
    result = runner.invoke(app, ["documents", *where])
    assert result.exit_code == 0, result.output
    assert SEED_ID in result.output and "1 of 1 documents" in result.output


def test_documents_json_prints_the_api_list(cli_index):
    where, _ = cli_index
    result = runner.invoke(app, ["documents", "--json", "--from", "2025-01-01", *where])
    body = json.loads(result.output)
    assert [d["id"] for d in body] == [SEED_ID]
    assert set(body[0]) == set(DocumentOut.model_fields)  # the same shape as GET /documents
    later = runner.invoke(app, ["documents", "--json", "--from", "2026-01-01", *where])
    assert json.loads(later.output) == []


def test_delete_removes_a_document_and_a_second_delete_is_an_error(place):
    where = place.cli_args()
    runner.invoke(app, ["ingest", str(SEED), *where])
    result = runner.invoke(app, ["delete", SEED_ID, *where])
    assert (result.exit_code, result.output.strip()) == (0, f"deleted {SEED_ID}")
    listed = runner.invoke(app, ["documents", "--json", *where])
    assert json.loads(listed.output) == []
    again = runner.invoke(app, ["delete", SEED_ID, *where])
    assert again.exit_code == 1 and "no document with id" in again.output


def test_k_above_the_configured_limit_is_refused_as_the_api_refuses_it(cli_index):
    where, _ = cli_index
    result = runner.invoke(app, ["search", "military base", "-k", "11", *where], env={"RAG_MAX_K": "10"})
    assert result.exit_code == 1
    assert "-k must be at most 10 (RAG_MAX_K)" in result.output
