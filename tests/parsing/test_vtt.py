"""WebVTT captions: voices, merged cues, times, and what is not speech."""

from __future__ import annotations

import pytest

from rag.errors import ParseError
from rag.parsing import parse_bytes, read_transcript
from tests.conftest import FORMATS


@pytest.fixture(scope="module")
def panel():
    return read_transcript(FORMATS / "panel.vtt")


def _vtt(body: str, name: str = "t.vtt"):
    return parse_bytes(f"WEBVTT\n\n{body}".encode(), name)


def test_vtt_voice_tags_and_name_prefixes_give_the_speakers_in_order(panel):
    assert [t.speaker for t in panel.turns] == ["Moderator", "Priya Raman", "Tom Hale", "Moderator", "Priya Raman"]


def test_vtt_cues_of_one_voice_are_merged_into_one_turn(panel):
    assert panel.turns[0].text == (
        "Good evening, and welcome to the library's panel on housing. With me are a city planner and a tenants' "
        "advocate. Priya, let me start with you: why are rents rising so fast here?"
    )


def test_vtt_merged_turns_run_from_the_first_cue_start_to_the_last_cue_end(panel):
    assert [(t.start, t.end) for t in panel.turns] == [
        (3.0, 13.4),
        (13.4, 21.5),
        (21.5, 29.3),
        (29.3, 31.0),
        (31.0, 36.0),
    ]


def test_vtt_unlabelled_cue_continues_the_previous_speaker(panel):
    assert panel.turns[2].text == (
        "That's the planners' story. Our members see something else: empty flats held as investments & short-term lets."
    )


def test_vtt_tags_timestamps_and_entities_inside_cues_are_stripped(panel):
    assert panel.turns[1].text.startswith("Because we have added jobs much faster than homes.")
    assert not any(ch in t.text for t in panel.turns for ch in "<>") and "&amp;" not in panel.turns[2].text


def test_vtt_notes_styles_settings_and_sound_descriptions_are_no_ones_words(panel):
    text = " ".join(t.text for t in panel.turns)
    for furniture in ("Captions corrected", "::cue", "APPLAUSE", "align:", "position:", "intro-1", "Kind:"):
        assert furniture not in text


def test_vtt_questions_handed_to_another_voice_are_answered(panel):
    assert [t.role for t in panel.turns] == ["question", "answer", "statement", "question", "answer"]


def test_vtt_header_text_is_the_title_and_gives_the_date(panel):
    assert panel.title == "Panel on housing the next generation, Lakeside, 12 February 2026"
    assert panel.date == "2026-02-12"


def test_vtt_without_header_title_is_titled_by_the_file_name():
    assert _vtt("00:01.000 --> 00:02.000\n<v Ann>Hi.", "talks/evening_talk.vtt").title == "evening_talk"


def test_vtt_cues_before_any_speaker_go_to_unknown_when_nobody_is_named():
    transcript = _vtt("00:01.000 --> 00:04.000\nWelcome.\n\n00:04.000 --> 00:06.000\nThank you.\n")
    assert [(t.speaker, t.text, t.start, t.end) for t in transcript.turns] == [
        ("Unknown", "Welcome. Thank you.", 1.0, 6.0)
    ]


def test_vtt_cues_before_any_speaker_go_to_the_person_the_title_names():
    transcript = _vtt(
        "00:01.000 --> 00:04.000\nWelcome.\n\n00:04.000 --> 00:06.000\n<v Bob Lee>Thanks.\n",
        "Remarks by Mayor Jane Ode.vtt",
    )
    assert [t.speaker for t in transcript.turns] == ["Jane Ode", "Bob Lee"]


def test_vtt_two_voices_in_one_cue_are_two_turns_with_the_cue_times():
    transcript = _vtt("00:00:06.000 --> 00:00:08.000\n<v Bob Lee>Hi.</v> <v Ann Moe>Hello.</v>\n")
    assert [(t.speaker, t.text, t.start, t.end) for t in transcript.turns] == [
        ("Bob Lee", "Hi.", 6.0, 8.0),
        ("Ann Moe", "Hello.", 6.0, 8.0),
    ]


def test_vtt_rolling_captions_are_not_repeated():
    # YouTube's automatic captions: each cue repeats the line before it, with a 10 ms cue in between
    body = (
        "00:00:00.000 --> 00:00:03.189 align:start position:0%\n \nhello<00:00:00.420><c> everyone</c>\n\n"
        "00:00:03.189 --> 00:00:03.199 align:start position:0%\nhello everyone\n \n\n"
        "00:00:03.199 --> 00:00:06.590 align:start position:0%\n"
        "hello everyone\nwelcome<00:00:03.560><c> to the show</c>\n\n"
        "00:00:06.590 --> 00:00:06.600 align:start position:0%\nwelcome to the show\n \n\n"
        "00:00:06.600 --> 00:00:09.000 align:start position:0%\nwelcome to the show\ntoday we talk about bees\n"
    )
    transcript = _vtt(body)
    assert [(t.text, t.start, t.end) for t in transcript.turns] == [
        ("hello everyone welcome to the show today we talk about bees", 0.0, 9.0)
    ]


def test_vtt_a_line_said_twice_in_a_row_is_kept_when_the_captions_do_not_roll():
    body = (
        "00:01.000 --> 00:02.000\n<v Ann Moe>No.\n\n00:02.000 --> 00:03.000\n<v Ann Moe>No.\n\n"
        "00:03.000 --> 00:04.000\nNever.\n"
    )
    assert _vtt(body).turns[0].text == "No. No. Never."


@pytest.mark.parametrize(
    ("timing", "line"),
    [
        ("00:00:04.000 --> 00:00:0x.000", 6),
        ("00:00:64.000 --> 00:01:04.000", 6),
        ("00:00:09.000 --> 00:00:05.000", 6),
        ("00:00:04.000 --> ", 6),
        ("00:00:04.000 -> 00:00:06.000", 6),
    ],
)
def test_vtt_malformed_timestamp_line_is_a_parse_error_naming_file_and_line(timing, line):
    with pytest.raises(ParseError) as info:
        parse_bytes(f"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nHello.\n\n{timing}\nBroken.\n".encode(), "bad.vtt")
    assert (info.value.path, info.value.line) == ("bad.vtt", line)
    assert info.value.message.startswith(f"bad.vtt:{line}: ")


def test_vtt_text_before_any_cue_timing_is_a_parse_error():
    with pytest.raises(ParseError) as info:
        parse_bytes(b"WEBVTT\n\nHello, this has no timing.\n", "bad.vtt")
    assert info.value.line == 3


def test_vtt_with_no_cues_is_a_parse_error():
    with pytest.raises(ParseError, match="no spoken text"):
        parse_bytes(b"WEBVTT\n\nNOTE nothing here\n", "empty.vtt")


def test_vtt_cue_run_into_the_header_without_a_blank_line_is_a_parse_error_not_lost():
    with pytest.raises(ParseError) as info:
        parse_bytes(b"WEBVTT\n00:01.000 --> 00:02.000\nHello.\n", "bad.vtt")
    assert info.value.line == 2
