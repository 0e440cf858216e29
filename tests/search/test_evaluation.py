"""Retrieval metrics: relevance by shared word 8-grams, ranks, speakers."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.evaluation import CorpusTurns, score
from tests.conftest import EXAMPLES

TURNS = [
    ("Anna", "the ferry timetable must not be cut to balance the budget whatever the source of the money"),
    ("Ben", "we propose to draw on the reserve fund for one year and renegotiate the maintenance contract"),
    ("Anna", "yeah"),
    ("Cleo", "the hotel levy would add three percent to the price of a night in the city"),
]
CORPUS = CorpusTurns.build([("m1", TURNS)])
QUERY = {
    "qid": "q1",
    "meeting": "m1",
    "query": "what about the ferry",
    "relevant_turns": [0, 1],
    "relevant_text": [TURNS[0][1], TURNS[1][1]],
}


def _score(results):
    return score([QUERY], {"q1": results}, CORPUS)


def test_a_passage_mostly_inside_the_relevant_turns_is_a_hit_at_its_rank():
    metrics = _score([{"text": TURNS[3][1], "speaker": "Cleo"}, {"text": TURNS[1][1], "speaker": "Ben"}])
    assert (metrics["Hit@1"], metrics["Hit@5"], metrics["MRR@10"]) == (0.0, 1.0, 0.5)


def test_a_passage_spanning_two_consecutive_relevant_turns_with_labels_is_relevant():
    text = f"Anna: {TURNS[0][1]}\n\nBen: {TURNS[1][1]}"
    assert _score([{"text": text, "speaker": "Anna"}])["Hit@1"] == 1.0


def test_a_repeated_passage_earns_nothing_the_second_time():
    once = _score([{"text": TURNS[0][1], "speaker": "Anna"}])["nDCG@10"]
    twice = _score([{"text": TURNS[0][1], "speaker": "Anna"}, {"text": TURNS[0][1], "speaker": "Anna"}])["nDCG@10"]
    assert twice == once


def test_a_short_passage_that_occurs_elsewhere_is_not_relevant():
    assert _score([{"text": "yeah", "speaker": "Anna"}])["Hit@1"] == 0.0


def test_speaker_accuracy_counts_the_speaker_of_the_best_matching_turn():
    metrics = _score([{"text": TURNS[0][1], "speaker": "Anna"}, {"text": TURNS[1][1], "speaker": "Anna"}])
    assert metrics["SpeakerAcc@5"] == pytest.approx(0.5)


def test_a_question_without_results_scores_zero():
    assert score([QUERY], {}, CORPUS)["MRR@10"] == 0.0


def test_rag_eval_indexes_the_transcripts_and_prints_the_metrics(tmp_path):
    queries = tmp_path / "q.jsonl"
    rows = [
        {
            "qid": "levy",
            "meeting": "harbour_council_budget_hearing",
            "query": "Why did the administration refuse the tourist levy?",
            "relevant_text": ["The administration refused the levy for two reasons."],
        }
    ]
    queries.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "results.jsonl"
    result = CliRunner().invoke(
        app,
        ["eval", str(queries), "--transcripts", str(EXAMPLES), "--index", str(tmp_path / "ix"), "--results", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "Hit@5" in result.output and "SpeakerAcc@5" in result.output
    written = json.loads(out.read_text())
    assert written["qid"] == "levy" and written["results"][0]["speaker"] == "TREASURER BELLAMY"
