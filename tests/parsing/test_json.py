"""Our JSON transcript format."""

from __future__ import annotations

import json

import pytest

from rag.errors import ParseError
from rag.parsing import parse_bytes, read_transcript, transcript_to_dict
from tests.conftest import EXAMPLES


def _parse(data: object):
    return parse_bytes(json.dumps(data).encode(), "t.json")


def test_json_turns_keep_speakers_text_and_times():
    transcript = read_transcript(EXAMPLES / "energy_minister_interview.json")
    assert transcript.date == "2026-10-21"
    first, second = transcript.turns[:2]
    assert (first.speaker, first.role, first.start, first.end) == ("Interviewer", "question", 0.0, 14.5)
    assert (second.speaker, second.role) == ("Anna Keller", "answer")


def test_json_round_trips_through_its_dict_form():
    transcript = read_transcript(EXAMPLES / "energy_minister_interview.json")
    again = _parse(transcript_to_dict(transcript))
    assert again.turns == transcript.turns
    assert (again.title, again.date) == (transcript.title, transcript.date)


def test_json_turn_without_speaker_goes_to_the_principal_speaker():
    transcript = _parse(
        {"title": "Remarks by Anna Berg", "turns": [{"text": "Welcome."}, {"speaker": "Anna Berg", "text": "Now."}]}
    )
    assert transcript.turns[0].speaker == "Anna Berg"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([], "object"),
        ({"title": "x"}, "'turns'"),
        ({"title": "x", "turns": [{"speaker": "A"}]}, "turns[0].text"),
        ({"title": "x", "turns": [{"speaker": 3, "text": "hi"}]}, "turns[0].speaker"),
        ({"title": "x", "date": "13/02/2025", "turns": [{"speaker": "A", "text": "hi"}]}, "'date'"),
        ({"title": "x", "turns": [{"speaker": "A", "text": "hi", "start": "soon"}]}, "turns[0].start"),
        ({"title": "x", "turns": [{"speaker": "A", "text": "hi", "start": 5, "end": 2}]}, "turns[0].end"),
    ],
)
def test_invalid_json_transcripts_are_parse_errors_naming_the_field(data, words):
    with pytest.raises(ParseError) as info:
        _parse(data)
    assert words in info.value.message
    assert info.value.message.startswith("t.json")


def test_malformed_json_is_a_parse_error_naming_the_line():
    with pytest.raises(ParseError) as info:
        parse_bytes(b'{"title": "x",\n "turns": [\n  {"speaker": "A", "text": }\n]}', "t.json")
    assert info.value.line == 3


def test_a_media_url_is_read_and_round_trips():
    data = {"title": "Briefing", "media_url": "https://media.example.org/b.mp3", "turns": [{"text": "Hello."}]}
    transcript = _parse(data)
    assert transcript.media_url == "https://media.example.org/b.mp3"
    assert _parse(transcript_to_dict(transcript)).media_url == transcript.media_url


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:audio/wav;base64,AAAA", "ftp://media.example.org/b.mp3", "https://", 42]
)
def test_a_media_url_that_is_not_an_http_url_is_a_parse_error(url):
    with pytest.raises(ParseError) as info:
        _parse({"title": "Briefing", "media_url": url, "turns": [{"text": "Hello."}]})
    assert "'media_url'" in info.value.message
