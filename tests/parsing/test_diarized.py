"""Diarized speech-recognition JSON (WhisperX / pyannote shape)."""

from __future__ import annotations

import json

import pytest

from rag.errors import ParseError
from rag.parsing import parse_bytes, read_transcript
from tests.conftest import FORMATS


@pytest.fixture(scope="module")
def radio():
    return read_transcript(FORMATS / "whisperx.json")


def _segments(segments: list, **extra):
    return parse_bytes(json.dumps({"segments": segments, **extra}).encode(), "call-in.json")


def test_diarized_consecutive_segments_of_one_speaker_are_one_turn(radio):
    assert [t.speaker for t in radio.turns] == ["Unknown", "SPEAKER_00", "SPEAKER_01", "SPEAKER_00", "SPEAKER_01"]
    assert radio.turns[1].text == (
        "I'm joined today by the head of the county's flood team. "
        "Thanks for coming in. How bad was last week's flooding?"
    )


def test_diarized_turn_runs_from_first_segment_start_to_last_segment_end(radio):
    assert [(t.start, t.end) for t in radio.turns] == [(0.0, 2.1), (2.1, 9.0), (9.3, 18.2), (18.6, 21.0), (21.0, 26.5)]


def test_diarized_segment_without_speaker_continues_the_previous_speaker(radio):
    assert radio.turns[2].text.endswith("ground floor. Most of them on Quay Street and the lower end of Mill Road.")


def test_diarized_first_segment_without_speaker_is_unknown(radio):
    assert (radio.turns[0].speaker, radio.turns[0].text) == (
        "Unknown",
        "Good morning, you're listening to Riverside Community Radio.",
    )


def test_diarized_questions_and_answers_follow_the_speakers(radio):
    assert [t.role for t in radio.turns] == ["statement", "question", "answer", "question", "answer"]


def test_diarized_title_is_the_file_name_without_a_title_key(radio):
    assert radio.title == "whisperx"


def test_diarized_title_key_is_the_title_and_gives_the_date():
    transcript = _segments([{"start": 0, "end": 1, "text": " Hi.", "speaker": "S0"}], title="Call-in, 5 May 2026")
    assert (transcript.title, transcript.date) == ("Call-in, 5 May 2026", "2026-05-05")


def test_whisper_output_without_any_speaker_is_read_as_unknown():
    data = {"text": " Hi there.", "segments": [{"id": 0, "start": 0.0, "end": 1.5, "text": " Hi there."}]}
    transcript = parse_bytes(json.dumps(data).encode(), "whisper.json")
    assert [(t.speaker, t.text, t.start, t.end) for t in transcript.turns] == [("Unknown", "Hi there.", 0.0, 1.5)]


@pytest.mark.parametrize(
    ("segment", "words", "line"),
    [
        ('{"start": "soon", "end": 2, "text": "yo"}', "segments[1].start", 3),
        ('{"start": 3,\n  "end": 2,\n  "text": "yo"}', "segments[1].end", 4),
        ('{"start": -1, "end": 2, "text": "yo"}', "segments[1].start", 3),
        ('{"start": 1, "end": 2, "speaker": "S1"}', "segments[1].text", 3),
        ('{"start": 1, "end": 2, "text": "yo", "speaker": 7}', "segments[1].speaker", 3),
        ('"just words"', "segments[1]", 3),
        ('{"start": 1, "end": 2, "text": "yo" "speaker": "S1"}', "invalid JSON", 3),
    ],
)
def test_diarized_broken_segment_is_a_parse_error_naming_file_line_and_field(segment, words, line):
    text = '{"segments": [\n {"start": 0, "end": 1, "text": "hi", "speaker": "S0"},\n ' + segment + "\n]}"
    with pytest.raises(ParseError) as info:
        parse_bytes(text.encode(), "call-in.json")
    assert (info.value.path, info.value.line) == ("call-in.json", line)
    assert words in info.value.message


@pytest.mark.parametrize("data", [{"segments": []}, {"segments": [{"start": 0, "end": 1, "text": "  "}]}])
def test_diarized_json_without_speech_is_a_parse_error(data):
    with pytest.raises(ParseError):
        parse_bytes(json.dumps(data).encode(), "empty.json", "diarized")


def test_forcing_diarized_on_json_without_segments_is_a_parse_error():
    with pytest.raises(ParseError, match="'segments'"):
        parse_bytes(b'{"title": "x", "turns": []}', "ours.json", "diarized")


@pytest.mark.parametrize("data", [b"[" * 100_000, b'{"segments": [' + b"1" * 5000 + b"]}'"])
def test_json_too_deep_or_with_too_long_a_number_is_a_parse_error(data):
    with pytest.raises(ParseError):
        parse_bytes(data, "deep.json")
