"""Which reader a file gets: by extension, by content where the extension says little, or as told."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.errors import ParseError
from rag.ingest import find_transcripts
from rag.parsing import PARSERS, detect_format, parse_bytes, read_transcript
from tests.conftest import EXAMPLES, FORMATS

FIXTURES = {
    "interview_qa.txt": "text",
    "briefing_upper.txt": "text",
    "timecoded.txt": "text",
    "bold_labels.txt": "text",
    "panel.vtt": "vtt",
    "lecture.srt": "srt",
    "whisperx.json": "diarized",
    "ministry_page.html": "html",
}


def test_every_format_has_a_reader():
    assert set(FIXTURES.values()) | {"json"} == set(PARSERS)


@pytest.mark.parametrize(("name", "fmt"), FIXTURES.items())
def test_each_fixture_is_detected_by_its_extension(name, fmt):
    assert detect_format(name, (FORMATS / name).read_text(encoding="utf-8")) == fmt


@pytest.mark.parametrize("new_name", ["transcript.dat", "transcript"])
@pytest.mark.parametrize(("name", "fmt"), FIXTURES.items())
def test_each_fixture_renamed_without_a_known_extension_is_detected_by_content(tmp_path, name, fmt, new_name):
    copy = tmp_path / new_name
    shutil.copy(FORMATS / name, copy)
    assert detect_format(copy.name, copy.read_text(encoding="utf-8")) == fmt
    assert [t.speaker for t in read_transcript(copy).turns] == [
        t.speaker for t in read_transcript(FORMATS / name).turns
    ]


def test_our_json_and_recognizer_json_share_the_extension_and_are_told_apart_by_content():
    ours = (EXAMPLES / "energy_minister_interview.json").read_text(encoding="utf-8")
    assert detect_format("interview.json", ours) == "json"
    assert detect_format("call-in.json", '{"segments": [{"start": 0, "end": 1, "text": "hi"}]}') == "diarized"


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nHi.", "vtt"),
        ("\ufeffWEBVTT Kind: captions\n\n00:01.000 --> 00:02.000\nHi.", "vtt"),
        ("1\r\n00:00:01,000 --> 00:00:02,000\r\nHi.", "srt"),
        ("<!-- saved from url=(0014)about:internet -->\n<!DOCTYPE html>\n<html><body><p>Hi.</p></body></html>", "html"),
        ('<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body></body></html>', "html"),
    ],
)
def test_a_txt_file_holding_subtitles_or_a_web_page_is_read_as_what_it_holds(head, fmt):
    assert detect_format("saved.txt", head) == fmt


@pytest.mark.parametrize(
    "text",
    [
        "Title\n\nAnna Berg: Hello.",
        "17:31\n\nA title\n\nAnna Berg: At 10:30 --> no, 11.",
        "12 angry men\n\nAnna Berg: Hello.",
        "{not json at all",
    ],
)
def test_a_txt_file_of_ordinary_text_stays_text(text):
    assert detect_format("notes.txt", text) == "text"


def test_format_option_overrides_detection(tmp_path):
    copy = tmp_path / "captions.txt"
    copy.write_text("00:00:01.000 --> 00:00:03.000\n<v Ann Moe>Hello there.\n", encoding="utf-8")
    assert read_transcript(copy).turns[0].speaker != "Ann Moe"
    assert [(t.speaker, t.start, t.end) for t in read_transcript(copy, "vtt").turns] == [("Ann Moe", 1.0, 3.0)]


def test_an_unknown_format_is_a_parse_error_listing_the_known_ones():
    with pytest.raises(ParseError, match="text, json, diarized, vtt, srt, html"):
        parse_bytes(b"hello", "x.txt", "docx")


def test_a_folder_scan_picks_up_every_supported_extension():
    found, missing = find_transcripts([FORMATS])
    assert sorted(p.name for p in found) == sorted(FIXTURES) and not missing


runner = CliRunner()


def test_parse_json_shows_turn_times_from_a_timed_source():
    result = runner.invoke(app, ["parse", str(FORMATS / "panel.vtt"), "--json"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.output)["turns"][0]
    assert (first["speaker"], first["start"], first["end"]) == ("Moderator", 3.0, 13.4)


def test_parse_with_format_option_reads_the_file_as_told(tmp_path):
    copy = tmp_path / "lecture.log"
    shutil.copy(FORMATS / "lecture.srt", copy)
    result = runner.invoke(app, ["parse", str(copy), "--format", "srt", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["turns"][0]["start"] == 1.0


def test_parse_of_a_malformed_subtitle_file_is_one_line_naming_file_and_line(tmp_path):
    bad = tmp_path / "bad.srt"
    bad.write_text("1\n00:00:01,000 --> 00:00:0x,000\nHello.\n", encoding="utf-8")
    result = runner.invoke(app, ["parse", str(bad)])
    assert result.exit_code == 1
    squeezed = "".join(result.output.split())  # rich wraps long lines, even inside the path
    assert f"{bad}:2:malformedcuetiming" in squeezed


def test_every_format_named_has_a_reader():
    from rag.models import FORMATS
    from rag.parsing import PARSERS

    assert tuple(PARSERS) == FORMATS
