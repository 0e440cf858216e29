"""Saved web pages of transcripts: the article's text, without the page around it."""

from __future__ import annotations

import pytest

from rag.errors import ParseError
from rag.parsing import parse_bytes, read_transcript
from tests.conftest import FORMATS


@pytest.fixture(scope="module")
def page():
    return read_transcript(FORMATS / "ministry_page.html")


def _html(body: str, title: str = "Hearing transcript"):
    page = (
        f"<!DOCTYPE html><html><head><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )
    return parse_bytes(page.encode(), "page.html")


def test_html_transcript_turns_are_read_from_the_article_text(page):
    assert [t.speaker for t in page.turns] == [
        "Minister Halvorsen",
        "Question",
        "Minister Halvorsen",
        "Question",
        "Minister Halvorsen",
        "State Secretary Olsen",
        "Question",
        "Minister Halvorsen",
    ]


def test_html_page_chrome_is_not_part_of_any_turn(page):
    text = "\n".join(t.text for t in page.turns)
    for chrome in (
        "cookies",
        "Skip to main content",
        "Search the ministry website",
        "About the ministry",
        "Press briefings",
        "Share",
        "Facebook",
        "Print",
        "Related news",
        "Last updated",
        "Privacy policy",
        "Postal address",
        "All rights reserved",
        "Follow us",
        "dataLayer",
    ):
        assert chrome not in text


def test_html_paragraph_breaks_are_kept_within_a_turn(page):
    assert page.turns[2].text.endswith(
        "than a cut now.\n\nIf the autumn survey shows a better picture, the quota can be "
        "raised again in the middle of the year. That has been done before, in 2019."
    )


def test_html_opening_statement_goes_to_the_minister_the_headline_names(page):
    assert page.turns[0].speaker == "Minister Halvorsen"
    assert page.turns[0].text.startswith("Good morning, and thank you for coming at short notice.")


def test_html_italic_standfirst_above_the_transcript_is_no_ones_words(page):
    assert not any("Transcript of the press briefing" in t.text for t in page.turns)


def test_html_headline_is_the_title_and_the_stated_date_is_the_date(page):
    assert page.title == "Press briefing by Minister Ingrid Halvorsen on the coastal fishing quota"
    assert page.date == "2026-05-12"


def test_html_questions_are_answered(page):
    assert [t.role for t in page.turns] == [
        "statement",
        "question",
        "answer",
        "question",
        "answer",
        "statement",
        "question",
        "answer",
    ]


def test_html_labels_after_line_breaks_start_their_own_turns():
    transcript = _html(
        "<p>Q: How do you keep the gardens going through the dry summer months here?<br>"
        "A: We collect rainwater from every roof in the village and store it in tanks.</p>"
        "<p>Q: Does it last through August?<br>A: Most years it does, and in the worst we share with the farm.</p>"
    )
    assert [t.speaker for t in transcript.turns] == ["Q", "A", "Q", "A"]


def test_html_table_rows_of_name_and_words_are_turns():
    transcript = _html(
        "<table><tr><td>Chair Smith</td><td>We begin the hearing now with the first witness, please.</td></tr>"
        "<tr><td>Witness Jones</td><td>My name is Ann Jones and I run the ferry company on the island.</td></tr>"
        "</table>"
    )
    assert [(t.speaker, t.text) for t in transcript.turns] == [
        ("Chair Smith", "We begin the hearing now with the first witness, please."),
        ("Witness Jones", "My name is Ann Jones and I run the ferry company on the island."),
    ]


def test_html_date_written_only_in_the_title_is_found():
    transcript = _html(
        "<p>Anna Berg: We open the hearing on the harbour dredging contract and the costs that it has run up.</p>",
        title="Harbour committee hearing, 4 March 2026",
    )
    assert transcript.date == "2026-03-04"


@pytest.mark.parametrize("page", [b"<html><body></body></html>", b"<html><body><nav><a href='/'>Home</a></nav>"])
def test_html_page_without_article_text_is_a_parse_error_naming_the_file(page):
    with pytest.raises(ParseError) as info:
        parse_bytes(page, "empty.html")
    assert info.value.path == "empty.html"
