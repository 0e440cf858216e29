"""Passages: windows of whole sentences inside one turn, sized by the model's own tokenizer."""

from __future__ import annotations

import itertools

import pytest

from rag.chunking import chunk_transcript, sentence_spans, split_turn
from rag.models import Transcript, Turn
from rag.parsing import read_transcript
from tests.conftest import SEED


@pytest.fixture(scope="module")
def seed_passages(embedder):
    transcript = read_transcript(SEED)
    return transcript, chunk_transcript(
        transcript, "seed", count_tokens=embedder.count_tokens, max_tokens=128, overlap_tokens=24
    )


def test_passage_offsets_point_at_its_text_in_the_turn(seed_passages):
    transcript, passages = seed_passages
    for p in passages:
        assert transcript.turns[p.turn_index].text[p.start_char : p.end_char] == p.text


def test_every_passage_fits_the_budget_under_the_models_tokenizer(seed_passages, embedder):
    _, passages = seed_passages
    counts = embedder.count_tokens([p.text for p in passages])
    assert max(counts) <= 128
    assert max(counts) + 2 <= embedder.model.max_seq_length  # nothing is truncated


def test_passages_never_cross_a_turn_and_cover_every_turn(seed_passages):
    transcript, passages = seed_passages
    for index, turn in enumerate(transcript.turns):
        own = [p for p in passages if p.turn_index == index]
        assert own, f"turn {index} has no passage"
        assert all(p.speaker == turn.speaker and p.role == turn.role for p in own)
        assert own[0].start_char == 0
        assert own[-1].end_char == len(turn.text)
        for before, after in itertools.pairwise(own):
            assert after.start_char <= before.end_char + 2  # no gap but the space between sentences


def test_long_turns_are_split_with_overlap_and_windows_end_at_sentence_ends(seed_passages):
    _transcript, passages = seed_passages
    opening = [p for p in passages if p.turn_index == 0]
    assert len(opening) > 3
    assert any(after.start_char < before.end_char for before, after in itertools.pairwise(opening))
    assert all(p.text.rstrip()[-1] in ".!?,:" for p in opening)


def test_an_answer_passage_carries_the_question_it_answers(seed_passages):
    transcript, passages = seed_passages
    answers = [p for p in passages if p.role == "answer"]
    assert answers and all(p.context == transcript.turns[p.turn_index - 1].text for p in answers)
    assert all(p.context is None for p in passages if p.role != "answer")


def test_short_paragraphs_of_one_turn_are_merged_into_one_passage(embedder):
    turn = Turn("Anna", "Yes.\n\nI agree.\n\nLet us vote.")
    passages = chunk_transcript(Transcript("t", (turn,)), "d", count_tokens=embedder.count_tokens, max_tokens=64)
    assert [p.text for p in passages] == ["Yes.\n\nI agree.\n\nLet us vote."]


def test_a_sentence_longer_than_the_budget_is_cut_between_words(embedder):
    text = " ".join(f"word{i}" for i in range(300))
    windows = split_turn(text, embedder.count_tokens, 50)
    assert len(windows) > 1
    assert all(n <= 50 for n in embedder.count_tokens([text[s:e] for s, e in windows]))
    assert " ".join(text[s:e] for s, e in windows) == text


def test_times_of_a_timed_turn_are_spread_over_its_passages(embedder):
    text = " ".join(["This is one sentence of the answer."] * 40)
    passages = chunk_transcript(
        Transcript("t", (Turn("A", text, start=10.0, end=50.0),)),
        "d",
        count_tokens=embedder.count_tokens,
        max_tokens=40,
    )
    assert passages[0].start == 10.0 and passages[-1].end == 50.0
    assert all(a.start <= b.start for a, b in itertools.pairwise(passages))


def test_sentence_spans_split_after_terminal_punctuation_only():
    text = 'Dr. Smith arrived. He said: "Go!" Then 3.5 percent.'
    pieces = [text[s:e] for s, e in sentence_spans(text)]
    assert pieces[-1] == "Then 3.5 percent."
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")
