"""Follow-up questions made self-contained from the conversation so far (a pure function, no index)."""

from __future__ import annotations

import pytest

from rag.followup import resolve_followup
from rag.speaker_directory import build_directory

SEED_QUESTION = "What did Lavrov say about the phone call between Putin and Trump?"
SPEAKERS = build_directory(["Sergey Lavrov", "Question", "Anna Keller", "Interviewer", "TREASURER BELLAMY"])


def resolve(question: str, *history: str):
    return resolve_followup(question, list(history), SPEAKERS)


def test_a_pronoun_stands_for_the_speaker_the_conversation_named_last():
    resolved = resolve("and what did he say about migration?", SEED_QUESTION)
    assert resolved.text == "and what did Sergey Lavrov say about migration?"
    assert resolved.carried_speakers == ("Sergey Lavrov",)


def test_a_follow_up_with_a_topic_of_its_own_keeps_it():
    resolved = resolve("and what did he say about migration?", SEED_QUESTION)
    assert resolved.topic == "migration" and resolved.carried_topic is None


def test_it_stands_for_the_earlier_topic():
    resolved = resolve("What did Anna Keller say about it?", SEED_QUESTION)
    assert resolved.text == "What did Anna Keller say about the phone call between Putin and Trump?"
    assert resolved.speakers == ("Anna Keller",) and resolved.carried_speakers == ()


def test_a_follow_up_without_a_topic_keeps_the_earlier_one():
    resolved = resolve("What else did he say?", SEED_QUESTION)
    assert resolved.text == "What else did Sergey Lavrov say? (about the phone call between Putin and Trump)"


def test_what_about_a_speaker_changes_the_speaker_and_keeps_the_topic():
    resolved = resolve("What about Keller?", SEED_QUESTION)
    assert resolved.speakers == ("Anna Keller",)
    assert resolved.carried_topic == "the phone call between Putin and Trump"


def test_a_bare_topic_is_asked_of_the_earlier_speaker():
    resolved = resolve("And migration?", SEED_QUESTION)
    assert resolved.text == "And migration? (Sergey Lavrov)"
    assert resolved.topic == "migration"


def test_a_possessive_pronoun_becomes_a_possessive_name():
    assert resolve("What was his view on Afghanistan?", SEED_QUESTION).text == (
        "What was Sergey Lavrov’s view on Afghanistan?"
    )


def test_the_speaker_is_carried_through_several_follow_ups():
    resolved = resolve("What about Afghanistan?", SEED_QUESTION, "and what did he say about migration?")
    assert resolved.speakers == ("Sergey Lavrov",) and resolved.topic == "Afghanistan"


def test_a_question_naming_its_own_speaker_is_left_as_it_is():
    question = "What did the treasurer say about the hotel tax?"
    assert resolve(question, SEED_QUESTION).text == question
    assert resolve("What did Anna Keller say about gas?", SEED_QUESTION).text == "What did Anna Keller say about gas?"


@pytest.mark.parametrize("history", [[], ["", "   "], ["How are the harbour seals doing?"]])
def test_without_an_earlier_speaker_a_pronoun_is_left_alone(history):
    question = "and what did he say about migration?"
    assert resolve_followup(question, history, SPEAKERS).text == question


PETROVS = build_directory({"Ivan Petrov": 400, "Iwan Petrov": 2, "Oleg Petrov": 100})


def test_a_person_named_by_a_surname_others_share_is_carried_as_the_one_who_speaks_most():
    history = ["What did Petrov say about the port?"]
    resolved = resolve_followup("and what did he say about sanctions?", history, PETROVS)
    assert resolved.text == "and what did Ivan Petrov say about sanctions?"
    assert resolved.carried_speakers == ("Ivan Petrov",)


def test_a_person_named_by_a_misspelt_full_name_is_carried_under_their_canonical_name():
    resolved = resolve_followup("What else did he say?", ["What did Iwan Petrov say about the port?"], PETROVS)
    assert resolved.carried_speakers == ("Ivan Petrov",)
