"""Who said it: narration, long labels, and label-shaped lines that are not speakers, in plain-text pages."""

from __future__ import annotations

import pytest

from rag.models import NARRATION, NARRATOR
from rag.parsing import read_transcript
from rag.parsing.plaintext import parse_text
from tests.conftest import ATTRIBUTION


def _read(name: str):
    return read_transcript(ATTRIBUTION / name)


def _speaker_of(transcript, words: str) -> str:
    return next(t.speaker for t in transcript.turns if words in t.text)


def test_a_reporters_account_opening_a_page_is_narration_of_no_one():
    opening = _read("narration_opening.txt").turns[0]
    assert (opening.speaker, opening.role) == (NARRATOR, NARRATION)
    assert opening.text.startswith("The talks were held in a restricted format")


def test_the_first_label_after_narration_starts_that_speakers_turn():
    transcript = _read("narration_opening.txt")
    assert _speaker_of(transcript, "let me welcome you to Moscow") == "President of Russia Ivan Petrov"


def test_a_first_person_opening_of_a_page_announcing_no_speech_is_narration():
    text = "Meeting with the rail workers\n\nWe visited the depot first.\n\nIvan Petrov: Good afternoon, friends."
    assert parse_text(text, "t.txt").turns[0].role == NARRATION


def test_a_third_person_opening_of_a_statement_is_narration():
    text = (
        "Statement by Ivan Petrov on the floods\n\nThe President made the statement in the Kremlin.\n\n"
        "Ivan Petrov: The water is falling, and help is on its way."
    )
    assert parse_text(text, "t.txt").turns[0].role == NARRATION


def test_a_first_person_opening_of_a_statement_is_the_titled_speakers():
    text = (
        "Statement by Ivan Petrov on the floods\n\nI have just come back from the flooded towns, and we will help.\n\n"
        "Question: When?\n\nIvan Petrov: Today."
    )
    opening = parse_text(text, "t.txt").turns[0]
    assert (opening.speaker, opening.role) == ("Ivan Petrov", "statement")


@pytest.mark.parametrize(
    ("label", "words"),
    [
        ("Deputy Director of the Regional Institute of Marine Biology at Tomsk University Anna Petrova", "seal"),
        ("Chairman of the Committee on Budget and Taxes in the State Duma Oleg Ivanov", "survey fleet"),
    ],
)
def test_long_labels_with_particles_and_titles_start_turns(label, words):
    assert _speaker_of(_read("long_labels.txt"), words) == label


def test_the_paragraphs_after_a_long_label_stay_with_its_speaker():
    transcript = _read("long_labels.txt")
    assert _speaker_of(transcript, "they take the salmon").endswith("Anna Petrova")


def test_an_appointment_list_starts_no_turns():
    transcript = _read("appointments.txt")
    assert not {"Minister of Transport", "Minister of Health", "Minister of Culture"} & {
        t.speaker for t in transcript.turns
    }
    assert _speaker_of(transcript, "Minister of Health: Marina Sokol.") == NARRATOR


def test_a_heading_with_a_colon_on_the_first_line_is_the_title():
    assert _read("heading_colon.txt").title == "The Baltic: Sea of Cooperation International Forum"


def test_a_heading_with_a_colon_inside_the_page_is_no_speaker():
    transcript = _read("heading_colon.txt")
    assert "The Baltic" not in {t.speaker for t in transcript.turns}
    assert _speaker_of(transcript, "International Forum in Kaliningrad") == NARRATOR


def test_countries_quoted_by_a_speaker_are_not_speakers():
    transcript = _read("country_quote.txt")
    assert not {"Germany", "France"} & {t.speaker for t in transcript.turns}
    assert _speaker_of(transcript, "neither allows nor forbids") == "Ivan Petrov"


def test_a_callers_label_with_a_comma_starts_a_turn():
    transcript = _read("direct_line.txt")
    assert _speaker_of(transcript, "heating bills have doubled") == "Natalya Yuryeva, Channel One Russia"


def test_a_label_of_a_person_who_speaks_once_starts_a_turn():
    transcript = _read("direct_line.txt")
    assert _speaker_of(transcript, "northern resorts") == "Head of the Federal Agency for Tourism Oleg Safonov"


def test_a_name_glued_together_is_a_label_of_its_own():
    assert _speaker_of(_read("speaker_variants.txt"), "first hulls") == "IvanPetrov"


def test_a_speaker_introducing_themselves_by_name_keeps_the_question_that_follows():
    text = (
        "Meeting of the discussion club\n\nClara Dunn: Next, please.\n\nAnna Berg: Anna Berg, Lund University.\n\n"
        "What will happen to the northern ports?\n\nIvan Petrov: They will grow."
    )
    assert _speaker_of(parse_text(text, "t.txt"), "northern ports") == "Anna Berg"
