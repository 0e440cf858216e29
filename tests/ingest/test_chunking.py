"""Passages: windows of whole sentences inside one turn, sized by the model's own tokenizer."""

from __future__ import annotations

import itertools
import math

import pytest

from rag.chunking import chunk_transcript, segment_passages, sentence_spans, split_turn
from rag.models import Transcript, Turn
from rag.parsing import read_transcript
from rag.parsing.speakers import assign_roles
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


def test_every_passage_with_its_speaker_label_fits_the_budget_under_the_models_tokenizer(seed_passages, embedder):
    _, passages = seed_passages
    counts = embedder.count_tokens([f"{p.speaker}: {p.text}" for p in passages])
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


def _timed_passages(embedder, start: float, end: float):
    """The passages of one long turn that runs from `start` to `end` seconds."""
    text = " ".join(["This is one sentence of the answer."] * 40)
    turn = Turn("A", text, start=start, end=end)
    return chunk_transcript(Transcript("t", (turn,)), "d", count_tokens=embedder.count_tokens, max_tokens=40)


def test_times_of_a_timed_turn_are_spread_over_its_passages(embedder):
    passages = _timed_passages(embedder, 10.0, 50.0)
    assert passages[0].start == 10.0 and passages[-1].end == 50.0
    assert all(a.start <= b.start for a, b in itertools.pairwise(passages))


def test_times_near_the_largest_float_stay_finite(embedder):
    passages = _timed_passages(embedder, 0.0, 1.7e308)
    assert all(math.isfinite(p.start) and math.isfinite(p.end) for p in passages)
    assert passages[-1].end == 1.7e308


def test_sentence_spans_split_after_terminal_punctuation_only():
    text = 'Dr. Smith arrived. He said: "Go!" Then 3.5 percent.'
    pieces = [text[s:e] for s, e in sentence_spans(text)]
    assert pieces[-1] == "Then 3.5 percent."
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def _segments(embedder, turns, max_tokens=128):
    transcript = Transcript("t", tuple(assign_roles(list(turns))))
    passages = chunk_transcript(transcript, "d", count_tokens=embedder.count_tokens, max_tokens=max_tokens)
    return passages, segment_passages(passages, embedder.count_tokens, max_tokens)


def test_short_turns_of_a_conversation_share_a_segment(embedder):
    turns = [Turn("PhD A", "So the channel is fine."), Turn("Grad B", "Yeah."), Turn("PhD A", "Good, let us record.")]
    _, segments = _segments(embedder, turns)
    assert [(s.first, s.last) for s in segments] == [(0, 2)]
    assert segments[0].text == "PhD A: So the channel is fine.\nGrad B: Yeah.\nPhD A: Good, let us record."


LONG_ANSWER = (
    "We will rebuild it with drainage designed for a hundred-year flood, and sensors will report the water"
    " level to the control room every ten minutes, so that trains can be stopped before the ground gives way."
    " The work starts in March and the line stays open while it is done."
)


def test_an_interview_question_and_its_long_answer_are_never_in_one_segment(embedder):
    turns = [
        Turn("Anna", "Thank you all for coming."),
        Turn("Question", "What will the ministry do about the flooded embankment next winter?"),
        Turn("Anna", LONG_ANSWER),
        Turn("Ben", "And the timetable stays."),
    ]
    passages, segments = _segments(embedder, turns)
    groups = [{passages[i].turn_index for i in range(s.first, s.last + 1)} for s in segments]
    assert {1} in groups and {2} in groups


def test_a_quick_question_and_reply_in_a_conversation_share_a_segment(embedder):
    turns = [
        Turn("PhD A", "Which channel is the wireless one on, do you remember that?"),
        Turn("Grad B", "Channel two."),
    ]
    _, segments = _segments(embedder, turns)
    assert len(segments) == 1


def test_segments_cover_every_passage_once_in_order(seed_passages, embedder):
    _, passages = seed_passages
    segments = segment_passages(passages, embedder.count_tokens, 128)
    covered = [i for s in segments for i in range(s.first, s.last + 1)]
    assert covered == list(range(len(passages)))


def test_every_segment_with_its_labels_fits_the_model(embedder):
    transcript = read_transcript(SEED)
    passages = chunk_transcript(transcript, "seed", count_tokens=embedder.count_tokens, max_tokens=128)
    segments = segment_passages(passages, embedder.count_tokens, 128)
    assert max(embedder.count_tokens([s.text for s in segments])) <= 128
