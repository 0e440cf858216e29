"""Plain-text transcripts: labels, attribution, roles, metadata and debris."""

from __future__ import annotations

import pytest

from rag.errors import ParseError
from rag.parsing import parse_bytes, read_transcript
from rag.parsing.plaintext import parse_text
from tests.conftest import SEED


@pytest.fixture(scope="module")
def seed():
    return read_transcript(SEED)


def test_seed_has_the_opening_statement_then_three_questions_and_three_answers(seed):
    assert [t.role for t in seed.turns] == ["statement"] + ["question", "answer"] * 3


def test_unlabelled_opening_statement_is_attributed_to_the_titled_speaker(seed):
    opening = seed.turns[0]
    assert opening.speaker == "Sergey Lavrov"
    assert opening.text.startswith("Ladies and gentlemen,")
    assert "We hold this in high esteem." in opening.text


def test_seed_answers_are_lavrovs_and_questions_keep_their_label(seed):
    answers = [t for t in seed.turns if t.role == "answer"]
    questions = [t for t in seed.turns if t.role == "question"]
    assert {t.speaker for t in answers} == {"Sergey Lavrov"}
    assert {t.speaker for t in questions} == {"Question"}


def test_seed_metadata_comes_from_the_title_and_header(seed):
    assert seed.title.startswith("Foreign Minister Sergey Lavrov’s statement")
    assert seed.date == "2025-02-13"
    assert seed.place == "Moscow"
    assert seed.number == "220-13-02-2025"


@pytest.mark.parametrize(
    "debris",
    [
        "17:31",
        "220-13-02-2025",
        "Additional materials",
        "Photo album",
        "1 of 1 photos in album",
        "Incorrect dates",
        "Advanced settings",
        "Photos",
    ],
)
def test_page_debris_is_in_no_turn(seed, debris):
    for turn in seed.turns:
        assert debris not in turn.text.splitlines()
        assert not turn.text.endswith(debris)


def test_no_turn_holds_only_non_breaking_spaces(seed):
    assert all(t.text.replace("\u00a0", "").strip() for t in seed.turns)


def test_answer_paragraphs_without_a_label_stay_in_the_answer(seed):
    last = seed.turns[-1]
    assert last.text.startswith("First, the very question")
    assert last.text.count("\n\n") >= 4


def test_a_colon_inside_a_sentence_is_not_a_label(seed):
    # "as follows from the strategic documents" and "as follows: ..." shapes stay text
    text = "Title of a talk\n\nAnna Berg: The plan is as follows: first we build, then we test.\n\nBen Ode: Agreed."
    transcript = parse_text(text, "talk.txt")
    assert [t.speaker for t in transcript.turns] == ["Anna Berg", "Ben Ode"]
    assert transcript.turns[0].text == "The plan is as follows: first we build, then we test."


def test_a_sentence_opening_with_a_word_and_colon_is_not_a_speaker():
    text = "Meeting notes\n\nPhD A: we have a problem.\n\nCapacity: we just haven't got it.\n\nPhD A: right."
    transcript = parse_text(text, "m.txt")
    assert [t.speaker for t in transcript.turns] == ["PhD A", "PhD A"]
    assert "Capacity: we just haven't got it." in transcript.turns[0].text


@pytest.mark.parametrize(
    "label",
    [
        "Sergey Lavrov",
        "Question",
        "Q",
        "MR. PRICE",
        "Maria Zakharova",
        "Grad A",
        "PhD F",
        "The Chair (Hon. Anthony Rota (NipissingTimiskaming, Lib.))",
        "Question (retranslated)",
        "Hon. Seamus O'Regan (Minister of Natural Resources)",
        "Mr. Chris d'Entremont (West Nova, CPC)",
        "President of Russia Vladimir Putin",
    ],
)
def test_speaker_labels_of_many_shapes_start_turns(label):
    text = f"A title\n\n{label}: First words here.\n\nOther Person: Reply here."
    transcript = parse_text(text, "t.txt")
    assert transcript.turns[0].speaker == label
    assert transcript.turns[0].text == "First words here."


def test_text_before_any_label_of_a_page_announcing_no_speech_is_no_ones():
    text = "A meeting\n\nSome opening words.\n\nAnna Berg: One.\n\nBen Ode: Two.\n\nAnna Berg: Three."
    opening = parse_text(text, "t.txt").turns[0]
    assert (opening.speaker, opening.role) == ("", "narration")


def test_first_person_text_before_any_label_of_remarks_goes_to_the_most_frequent_speaker():
    text = "Remarks at a meeting\n\nWe are glad to be here.\n\nAnna Berg: One.\n\nBen Ode: Two.\n\nAnna Berg: Three."
    assert parse_text(text, "t.txt").turns[0].speaker == "Anna Berg"


def test_text_with_no_labels_at_all_is_attributed_to_unknown():
    transcript = parse_text("A title\n\nJust some words that nobody signed.", "t.txt")
    assert [(t.speaker, t.text) for t in transcript.turns] == [("Unknown", "Just some words that nobody signed.")]


def test_a_turn_ending_in_a_question_is_a_question_and_the_reply_its_answer():
    text = "Talk\n\nLionel Barber: What do you think of the euro?\n\nVladimir Putin: It will survive."
    roles = [t.role for t in parse_text(text, "t.txt").turns]
    assert roles == ["question", "answer"]


def test_a_dateline_under_the_title_gives_date_and_place_and_is_no_ones_words():
    text = "Daily briefing\n\nNorthbridge, 9 October 2026\n\nMS. LIND: Good afternoon."
    transcript = parse_text(text, "b.txt")
    assert (transcript.date, transcript.place) == ("2026-10-09", "Northbridge")
    assert [t.text for t in transcript.turns] == ["Good afternoon."]


def test_a_title_without_a_date_leaves_the_date_empty_and_the_file_name_titles_a_bare_file():
    assert parse_text("Anna Berg: Hello there.", "talks/hello.txt").title == "hello"
    assert parse_text("Anna Berg: Hello there.", "talks/hello.txt").date is None


def test_an_empty_file_is_a_parse_error_naming_the_file_and_line():
    with pytest.raises(ParseError) as info:
        parse_bytes(b"\n\n   \n", "empty.txt")
    assert info.value.path == "empty.txt"
    assert info.value.line == 1
    assert "empty.txt:1" in info.value.message


def test_bytes_that_are_not_utf8_are_a_parse_error_naming_the_line():
    with pytest.raises(ParseError) as info:
        parse_bytes(b"Title\n\nAnna: fine\n\xff\xfe broken", "bad.txt")
    assert info.value.line == 4
