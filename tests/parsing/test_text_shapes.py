"""Plain-text transcripts beyond `Name: text`: Q/A interviews, upper-case and bold labels, time codes."""

from __future__ import annotations

import pytest

from rag.parsing import read_transcript
from rag.parsing.plaintext import parse_text
from tests.conftest import FORMATS


def _speakers(transcript) -> list[str]:
    return [t.speaker for t in transcript.turns]


# Q: / A: interviews


@pytest.fixture(scope="module")
def interview():
    return read_transcript(FORMATS / "interview_qa.txt")


def test_qa_interview_turns_keep_the_labels_q_and_a_and_invent_no_names(interview):
    assert _speakers(interview) == ["Q", "A"] * 3


def test_qa_interview_q_asks_and_a_answers(interview):
    assert [t.role for t in interview.turns] == ["question", "answer"] * 3


def test_qa_interview_unlabelled_paragraph_stays_in_the_answer(interview):
    assert interview.turns[1].text.endswith(
        "\n\nIt took longer than anyone expected, though. The first pup on the sandbanks was only seen in 2023."
    )


def test_qa_interview_dateline_gives_date_and_place(interview):
    assert (interview.date, interview.place) == ("2026-08-14", "Port Eliot")
    assert interview.title.startswith("Interview with Dr. Amara Okonkwo")


def test_q_and_a_written_with_a_full_stop_are_labels_when_the_document_has_several():
    transcript = parse_text(
        "Talk with a baker\n\nQ. How early do you start?\n\nA. At four.\n\nQ. Sundays?\n\nA. No.", "t.txt"
    )
    assert [(t.speaker, t.role, t.text) for t in transcript.turns] == [
        ("Q", "question", "How early do you start?"),
        ("A", "answer", "At four."),
        ("Q", "question", "Sundays?"),
        ("A", "answer", "No."),
    ]


def test_a_lone_initial_with_a_full_stop_is_text_not_a_label():
    transcript = parse_text("Notes\n\nA. Lincoln wrote this in 1863.", "t.txt")
    assert [(t.speaker, t.text) for t in transcript.turns] == [("Unknown", "A. Lincoln wrote this in 1863.")]


def test_question_labels_without_colon_as_in_white_house_briefings():
    text = (
        "Press briefing\n\nMS. MARSH:  Good afternoon.\n\nQ    Will the President sign it?\n\nMS. MARSH:  He will."
        "\n\nQ    When?\n\nMS. MARSH:  Friday."
    )
    transcript = parse_text(text, "t.txt")
    assert [(t.speaker, t.role) for t in transcript.turns] == [("MS. MARSH", "statement")] + [
        ("Q", "question"),
        ("MS. MARSH", "answer"),
    ] * 2


# Upper-case labels


@pytest.fixture(scope="module")
def briefing():
    return read_transcript(FORMATS / "briefing_upper.txt")


def test_upper_case_labels_with_and_without_full_stops_start_turns(briefing):
    assert _speakers(briefing) == [
        "MR PRICE",
        "QUESTION",
        "MR PRICE",
        "QUESTION",
        "MS. LINDQVIST",
        "DR. ABARA",
        "MR PRICE",
    ]


def test_upper_case_question_label_is_a_question_and_the_reply_an_answer(briefing):
    assert [t.role for t in briefing.turns][:5] == ["statement", "question", "answer", "question", "answer"]


def test_upper_case_title_and_dateline_are_no_ones_words(briefing):
    assert briefing.title == "DEPARTMENT OF HEALTH PRESS BRIEFING ON THE MEASLES OUTBREAK"
    assert (briefing.date, briefing.place) == ("2026-06-02", "Riverton")
    assert briefing.turns[0].text.startswith("Good morning.")


@pytest.mark.parametrize(
    ("first", "second", "roles"),
    [("INTERVIEWER", "INTERVIEWEE", ["question", "answer"]), ("Interviewer", "Interviewee", ["question", "answer"])],
)
def test_interviewer_and_interviewee_labels_ask_and_answer(first, second, roles):
    transcript = parse_text(f"Oral history\n\n{first}: Where were you born.\n\n{second}: In Leeds.", "t.txt")
    assert [(t.speaker, t.role) for t in transcript.turns] == list(zip([first, second], roles, strict=True))


# Bold markdown labels


@pytest.fixture(scope="module")
def oral_history():
    return read_transcript(FORMATS / "bold_labels.txt")


def test_bold_labels_with_the_colon_inside_or_outside_the_bold_name_one_speaker(oral_history):
    assert _speakers(oral_history) == ["Interviewer", "Ruth Calloway"] * 3
    assert not any("*" in t.text for t in oral_history.turns)


def test_markdown_heading_is_the_title_and_italic_dateline_gives_date_and_place(oral_history):
    assert oral_history.title == "Oral history interview with Ruth Calloway, former keeper of the Gull Point light"
    assert (oral_history.date, oral_history.place) == ("2025-09-19", "Gull Point")


def test_bold_interviewer_asks_and_the_interviewee_answers(oral_history):
    assert [t.role for t in oral_history.turns] == ["question", "answer"] * 3


# Time codes


@pytest.fixture(scope="module")
def council():
    return read_transcript(FORMATS / "timecoded.txt")


def test_bracketed_time_codes_before_labels_start_turns(council):
    assert _speakers(council) == [
        "Mayor Ellis",
        "Clerk Dunn",
        "Mayor Ellis",
        "Councillor Reyes",
        "Councillor Abbott",
        "Councillor Reyes",
        "Mayor Ellis",
        "Clerk Dunn",
    ]


def test_time_codes_give_each_turn_its_start_and_the_next_turns_start_as_its_end(council):
    assert [(t.start, t.end) for t in council.turns] == [
        (4.0, 12.0),
        (12.0, 21.0),
        (21.0, 30.0),
        (30.0, 75.0),
        (75.0, 87.0),
        (87.0, 100.0),
        (100.0, 121.0),
        (121.0, None),
    ]


def test_a_time_code_on_its_own_line_before_unlabelled_text_continues_the_turn(council):
    reyes = council.turns[3]
    assert reyes.text.endswith(
        "delivery vans.\n\nOur proposal is a trial: six months, from April to September, "
        "with a survey of the traders at the end."
    )
    assert not any("00:0" in t.text for t in council.turns)


def test_a_time_code_on_its_own_line_before_a_label_times_that_turn(council):
    assert (council.turns[-1].speaker, council.turns[-1].start) == ("Clerk Dunn", 121.0)


@pytest.mark.parametrize(
    ("line", "speaker", "start"),
    [
        ("[00:01:02] Speaker 1: Thank you all for coming.", "Speaker 1", 62.0),
        ("(12:03) Anna Berg: Thank you all for coming.", "Anna Berg", 723.0),
        ("00:01:02 Anna Berg: Thank you all for coming.", "Anna Berg", 62.0),
        ("[01:02:03.5] Anna Berg: Thank you all for coming.", "Anna Berg", 3723.5),
        ("Anna Berg (00:01:02): Thank you all for coming.", "Anna Berg", 62.0),
        ("**Anna Berg** [00:01:02]: Thank you all for coming.", "Anna Berg", 62.0),
        ("00:01:02\nAnna Berg: Thank you all for coming.", "Anna Berg", 62.0),
    ],
)
def test_time_code_shapes_give_the_turn_its_start(line, speaker, start):
    transcript = parse_text(f"A meeting\n\n{line}\n\nBen Ode: Next.", "t.txt")
    first = transcript.turns[0]
    assert (first.speaker, first.text, first.start) == (speaker, "Thank you all for coming.", start)


def test_name_and_time_over_the_text_as_transcription_services_export_it():
    text = (
        "Podcast, episode 12\n\nJane Doe  0:03\nWelcome back.\n\nTom Li  0:09\nThanks for having me.\nGlad to be here."
    )
    transcript = parse_text(text, "t.txt")
    assert [(t.speaker, t.text, t.start, t.end) for t in transcript.turns] == [
        ("Jane Doe", "Welcome back.", 3.0, 9.0),
        ("Tom Li", "Thanks for having me. Glad to be here.", 9.0, None),
    ]


def test_a_clock_time_above_the_title_is_still_debris_and_times_nothing():
    transcript = parse_text("17:31\n\nBriefing on roads, 3 May 2026\n\nAnna Berg: Hello.", "t.txt")
    assert transcript.title == "Briefing on roads, 3 May 2026"
    assert [(t.speaker, t.text, t.start) for t in transcript.turns] == [("Anna Berg", "Hello.", None)]


def test_a_time_inside_a_sentence_is_text():
    transcript = parse_text("Notes\n\nAnna Berg: We meet at\n10:30 tomorrow, in the hall.", "t.txt")
    assert transcript.turns[0].text == "We meet at 10:30 tomorrow, in the hall."


def test_a_one_word_label_after_a_time_code_is_a_speaker_even_once():
    transcript = parse_text(
        "Episode 3\n\n[00:00:03] Host: Welcome.\n\n[00:00:09] Guest: Thanks.\n\n[00:00:12] Host: So.", "t.txt"
    )
    assert [(t.speaker, t.start) for t in transcript.turns] == [("Host", 3.0), ("Guest", 9.0), ("Host", 12.0)]


def test_a_time_coded_first_line_is_speech_not_a_title():
    transcript = parse_text("[00:00:03] Welcome, everyone, to the show\n[00:00:09] Jo Lee: Thanks.", "show.txt")
    assert transcript.title == "show"
    assert transcript.turns[0].text == "Welcome, everyone, to the show"
