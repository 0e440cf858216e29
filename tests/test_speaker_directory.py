"""The speaker directory: one person under many spellings, renames and merges, names in questions."""

from __future__ import annotations

import pytest

from rag.errors import InvalidInputError
from rag.speaker_directory import build_directory

NAMES = [
    "Sergey Lavrov",
    "Lavrov",
    "S. Lavrov",
    "Foreign Minister Sergey Lavrov",
    "Hon. Seamus O'Regan (Minister of Natural Resources)",
    "Hon. Seamus O'Regan",
    "President of Russia Vladimir Putin",
    "Vladimir Putin",
    "Kirsty Williams AM",
    "Question",
    "PhD F",
    "Grad F",
    "Professor B",
    "Marketing",
    "Project Manager",
    "SPEAKER_01",
]


@pytest.fixture(scope="module")
def directory():
    return build_directory(NAMES)


@pytest.mark.parametrize("name", ["Sergey Lavrov", "Lavrov", "S. Lavrov", "Foreign Minister Sergey Lavrov"])
def test_spellings_of_one_person_share_a_canonical_name(directory, name):
    assert directory.canonical_of(name) == "Sergey Lavrov"


def test_titles_and_parentheticals_do_not_make_another_person(directory):
    assert directory.canonical_of("Hon. Seamus O'Regan (Minister of Natural Resources)") == "Seamus O'Regan"
    assert directory.canonical_of("Hon. Seamus O'Regan") == "Seamus O'Regan"
    assert directory.canonical_of("President of Russia Vladimir Putin") == "Vladimir Putin"


def test_lettered_labels_stay_distinct_people(directory):
    assert {directory.canonical_of(n) for n in ("PhD F", "Grad F", "Professor B")} == {"PhD F", "Grad F", "Professor B"}


def test_a_surname_shared_by_two_people_joins_neither():
    assert build_directory(["Anna Smith", "John Smith", "Smith"]).canonical_of("Smith") == "Smith"


def test_filtering_by_a_surname_two_people_share_is_an_error_naming_both():
    with pytest.raises(InvalidInputError, match="Anna Smith, John Smith"):
        build_directory(["Anna Smith", "John Smith"]).resolve("Smith")


def test_a_filter_name_resolves_to_every_spelling_of_the_person(directory):
    everyone = {"Sergey Lavrov", "Lavrov", "S. Lavrov", "Foreign Minister Sergey Lavrov"}
    assert directory.resolve("Lavrov") == everyone
    assert directory.resolve("Sergey Lavrov") == everyone
    assert directory.resolve("Nobody Known") == set()


def test_an_override_renames_a_person_and_merges_another_into_them():
    directory = build_directory(NAMES, {"SPEAKER_01": "Maria Zakharova", "Question": "Maria Zakharova"})
    assert directory.members["Maria Zakharova"] == {"SPEAKER_01", "Question"}


@pytest.mark.parametrize(
    ("question", "speaker"),
    [
        ("What did Lavrov say about the base in Tajikistan?", "Sergey Lavrov"),
        ("What did Kirsty think about school meals?", "Kirsty Williams AM"),
        ("What did F think about the XML format?", "PhD F"),
        ("What did the professor say about the final model?", "Professor B"),
        ("What did Marketing think of the buttons?", "Marketing"),
        ("What did the project manager propose?", "Project Manager"),
    ],
)
def test_a_question_naming_a_speaker_finds_them(directory, question, speaker):
    assert speaker in directory.named_in(question)


@pytest.mark.parametrize("question", ["A question about apples and pears", "What was decided on marketing spend?"])
def test_ordinary_words_are_not_speaker_names(directory, question):
    assert directory.named_in(question) == set()
