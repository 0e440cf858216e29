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


def test_renaming_by_a_surname_two_people_share_is_an_error_naming_both():
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


# Spellings of one person, and people who share a surname

VARIANTS = {
    "Ivan Petrov": 400,
    "Ivan PETROV": 3,
    "IvanPetrov": 2,
    "Ivan Petrov (speaking German)": 2,
    "Ivan Petrov (answering Anna Smirnova, Chair of the Regional Assembly)": 1,
    "Iwan Petrov": 2,
    "Oleg Petrov": 100,
    "Minister of Education Oleg Petrov": 5,
}


@pytest.fixture(scope="module")
def petrovs():
    return build_directory(VARIANTS)


@pytest.mark.parametrize(
    "name",
    [
        "Ivan PETROV",
        "IvanPetrov",
        "Ivan Petrov (speaking German)",
        "Ivan Petrov (answering Anna Smirnova, Chair of the Regional Assembly)",
        "Iwan Petrov",
    ],
)
def test_spelling_variants_of_a_frequent_speaker_are_aliases_of_them(petrovs, name):
    assert petrovs.canonical_of(name) == "Ivan Petrov"


def test_a_different_person_with_the_same_surname_stays_apart(petrovs):
    assert petrovs.canonical_of("Minister of Education Oleg Petrov") == "Oleg Petrov"
    assert petrovs.canonical_of("Oleg Petrov") == "Oleg Petrov"


def test_two_frequent_people_one_letter_apart_in_different_documents_stay_apart():
    directory = build_directory({"Anna Berg": 40, "Anne Berg": 30}, documents={"Anna Berg": {"a"}, "Anne Berg": {"b"}})
    assert directory.canonical_of("Anne Berg") == "Anne Berg"


def test_spellings_one_letter_apart_in_the_same_document_are_one_person():
    directory = build_directory({"Anna Berg": 40, "Anne Berg": 30}, documents={"Anna Berg": {"a"}, "Anne Berg": {"a"}})
    assert directory.canonical_of("Anne Berg") == "Anna Berg"


def test_a_rare_spelling_one_letter_off_a_frequent_one_joins_it_across_documents():
    directory = build_directory({"Anna Berg": 40, "Anne Berg": 2}, documents={"Anna Berg": {"a"}, "Anne Berg": {"b"}})
    assert directory.canonical_of("Anne Berg") == "Anna Berg"


def test_a_surname_in_a_question_favours_everyone_it_may_mean_by_how_much_they_speak(petrovs):
    people = petrovs.named_people("And what did Petrov say about the sanctions?")
    assert set(people) == {"Ivan Petrov", "Oleg Petrov"}
    assert people["Ivan Petrov"] > people["Oleg Petrov"] > 0


def test_a_full_name_in_a_question_means_only_that_person(petrovs):
    assert petrovs.named_people("What did Oleg Petrov say about schools?") == {"Oleg Petrov": 1.0}


def test_a_surname_filter_admits_everyone_it_may_mean(petrovs):
    assert set(petrovs.people("Petrov")) == {"Ivan Petrov", "Oleg Petrov"}
    assert "Iwan Petrov" in petrovs.people("Petrov")["Ivan Petrov"]


def test_a_full_name_filter_stays_exact(petrovs):
    assert set(petrovs.people("Oleg Petrov")) == {"Oleg Petrov"}


def test_a_joined_misspelling_can_be_taken_out_by_renaming_it(petrovs):
    assert petrovs.resolve("Iwan Petrov") == {"Iwan Petrov"}  # what a rename of that spelling changes
    directory = build_directory(VARIANTS, {"Iwan Petrov": "Iwan Petrov"})
    assert directory.canonical_of("Iwan Petrov") == "Iwan Petrov"
    assert directory.canonical_of("IvanPetrov") == "Ivan Petrov"


def test_a_name_of_no_words_is_a_person_of_its_own():
    directory = build_directory(["...", "Ivan Petrov"])
    assert directory.canonical_of("...") == "..." and directory.canonical_of("Ivan Petrov") == "Ivan Petrov"
