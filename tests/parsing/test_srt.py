"""SubRip subtitles: numbered cues, speakers from prefixes, brackets and dialogue dashes."""

from __future__ import annotations

import pytest

from rag.errors import ParseError
from rag.parsing import parse_bytes, read_transcript
from tests.conftest import FORMATS


@pytest.fixture(scope="module")
def lecture():
    return read_transcript(FORMATS / "lecture.srt")


def test_srt_speakers_come_from_brackets_prefixes_and_dialogue_dashes(lecture):
    assert [t.speaker for t in lecture.turns] == [
        "Prof. Adeyemi",
        "Unknown",
        "MAYA",
        "Prof. Adeyemi",
        "STUDENT",
        "Prof. Adeyemi",
    ]


def test_srt_unlabelled_cues_continue_the_previous_speaker_in_one_turn(lecture):
    assert lecture.turns[0].text == (
        "Right, let's make a start. Today is about glaciers. Last week we saw how snow turns into firn, and firn "
        "into ice. Does anyone remember how long that takes?"
    )


def test_srt_cue_times_give_turn_start_and_end_in_seconds(lecture):
    assert [(t.start, t.end) for t in lecture.turns] == [
        (1.0, 12.5),
        (12.5, 15.0),
        (12.5, 15.0),
        (15.0, 19.75),
        (23.0, 27.4),
        (27.4, 31.0),
    ]


def test_srt_a_dash_without_a_name_is_someone_else_not_the_previous_speaker(lecture):
    assert (lecture.turns[1].speaker, lecture.turns[1].text) == ("Unknown", "Decades?")


def test_srt_markup_and_sound_descriptions_are_not_text(lecture):
    text = " ".join(t.text for t in lecture.turns)
    for furniture in ("<i>", "<font", "{\\an8}", "PROJECTOR", "[Prof"):
        assert furniture not in text


def test_srt_question_from_the_floor_is_answered(lecture):
    assert [t.role for t in lecture.turns][-2:] == ["question", "answer"]


def test_srt_title_is_the_file_name():
    assert read_transcript(FORMATS / "lecture.srt").title == "lecture"


def test_srt_text_continued_after_a_blank_line_stays_in_its_cue():
    data = (
        b"1\n00:00:01,000 --> 00:00:02,000\nANN: first part\n\nsecond part\n\n"
        b"2\n00:00:02,000 --> 00:00:03,000\nBOB: ok\n"
    )
    transcript = parse_bytes(data, "t.srt")
    assert [(t.speaker, t.text) for t in transcript.turns] == [("ANN", "first part second part"), ("BOB", "ok")]


@pytest.mark.parametrize(
    ("timing", "line"),
    [
        ("00:00:04,000 -> 00:00:06,000", 6),
        ("00:00:04;000 --> 00:00:06,000", 6),
        ("00:00:04,000 --> 00:00:03,000", 6),
        ("4 --> 6", 6),
    ],
)
def test_srt_malformed_timestamp_line_is_a_parse_error_naming_file_and_line(timing, line):
    data = f"1\n00:00:01,000 --> 00:00:04,000\nHello.\n\n2\n{timing}\nBroken.\n".encode()
    with pytest.raises(ParseError) as info:
        parse_bytes(data, "bad.srt")
    assert (info.value.path, info.value.line) == ("bad.srt", line)


def test_srt_text_before_the_first_cue_is_a_parse_error_naming_its_line():
    with pytest.raises(ParseError) as info:
        parse_bytes(b"Hello there\n\n1\n00:00:01,000 --> 00:00:04,000\nHello.\n", "bad.srt")
    assert info.value.line == 1


def test_srt_dashes_written_against_the_words_are_two_speakers_but_an_em_dash_continues():
    data = (
        "1\n00:00:01,000 --> 00:00:02,000\n-Are you coming?\n-Yes.\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\n—and then we left.\n"
    ).encode()
    assert [t.text for t in parse_bytes(data, "t.srt").turns] == ["Are you coming?", "Yes. —and then we left."]


def test_srt_broadcast_chevrons_mark_a_new_speaker_named_or_not():
    data = (
        b"1\n00:00:01,000 --> 00:00:03,000\n>> ANCHOR: Good evening.\n\n"
        b"2\n00:00:03,000 --> 00:00:05,000\n>> Thank you for having me.\n\n"
        b"3\n00:00:05,000 --> 00:00:07,000\n>> ANCHOR: Let us begin.\n"
    )
    transcript = parse_bytes(data, "news.srt")
    assert [(t.speaker, t.text) for t in transcript.turns] == [
        ("ANCHOR", "Good evening."),
        ("Unknown", "Thank you for having me."),
        ("ANCHOR", "Let us begin."),
    ]
