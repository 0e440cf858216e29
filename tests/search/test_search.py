"""Search over the bundled examples: paraphrased questions, speakers, filters, highlights."""

from __future__ import annotations

import pytest

from rag.errors import InvalidInputError
from rag.ingest import add_transcripts
from rag.models import Filters
from rag.parsing import transcript_from_dict
from rag.search import _with_document_evidence, search
from tests.conftest import SEED_ID


@pytest.mark.parametrize(
    ("question", "speaker", "words"),
    [
        (
            "Which Russian troops are stationed in Tajikistan to protect the border?",
            "Sergey Lavrov",
            "201st military base",
        ),
        ("How many Tajik students can study at Russian universities for free?", "Sergey Lavrov", "1,000 spots"),
        ("Why did the administration turn down the hotel tax?", "TREASURER BELLAMY", "refused the levy"),
        ("When do passengers get their money back for the rail closure?", "MS. LINDQVIST", "refund"),
        ("Why won't the government put a ceiling on gas prices?", "Anna Keller", "A cap helps everyone"),
    ],
)
def test_a_paraphrased_question_finds_the_passage_and_its_speaker(examples_index, question, speaker, words):
    hits = search(examples_index, question, k=3).hits
    assert any(h.speaker == speaker and words in h.text for h in hits), [(h.speaker, h.text[:60]) for h in hits]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_mode_answers(examples_index, mode):
    hits = search(examples_index, "military base in Tajikistan", k=3, mode=mode).hits
    assert hits and "military base" in hits[0].text


def test_results_are_ranked_one_to_k_with_falling_scores(examples_index):
    hits = search(examples_index, "migration", k=5, mode="dense").hits
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_speaker_filter_returns_only_that_speaker(examples_index):
    hits = search(examples_index, "prices", k=5, filters=Filters(speakers=("Interviewer",))).hits
    assert hits and {h.speaker for h in hits} == {"Interviewer"}


def test_several_speakers_can_be_asked_for_at_once(examples_index):
    hits = search(examples_index, "ferry", k=10, filters=Filters(speakers=("MS. HADDAD", "COUNCILMEMBER DIAZ"))).hits
    assert {h.speaker for h in hits} == {"MS. HADDAD", "COUNCILMEMBER DIAZ"}


def test_document_filter_keeps_one_document(examples_index):
    hits = search(examples_index, "agreement", k=5, filters=Filters(document_ids=(SEED_ID,))).hits
    assert hits and {h.document.id for h in hits} == {SEED_ID}


def test_date_range_filter_keeps_documents_inside_it(examples_index):
    hits = search(examples_index, "budget", k=10, filters=Filters(date_from="2026-10-01", date_to="2026-10-31")).hits
    assert hits and all("2026-10-01" <= h.document.date <= "2026-10-31" for h in hits)


def test_a_filter_nothing_matches_gives_no_results(examples_index):
    assert search(examples_index, "budget", filters=Filters(speakers=("Nobody",))).hits == []


def test_hits_carry_document_metadata_and_offsets_into_the_turn(examples_index):
    hit = search(examples_index, "scholarships for Tajik students", k=1).hits[0]
    assert hit.document.id == SEED_ID and hit.document.date == "2025-02-13"
    with examples_index.reading() as reader:
        turns = reader.turns(SEED_ID)
    assert turns[hit.turn_index].text[hit.start_char : hit.end_char] in hit.text
    for part in hit.parts:
        assert turns[part.turn_index].text[part.start_char : part.end_char] == part.text


MEETING = {
    "title": "Design meeting",
    "turns": [
        {"speaker": "Marketing", "text": "The survey says people lose the remote all the time."},
        {"speaker": "Industrial Designer", "text": "Mm."},
        {"speaker": "Marketing", "text": "So a locator beep when you clap your hands would sell well, I think."},
        {"speaker": "User Interface", "text": "Clap to beep, sure."},
        {"speaker": "Project Manager", "text": "Right. Next item is the budget for the case and the chips."},
    ],
}


@pytest.fixture
def meeting_index(empty_index):
    add_transcripts(empty_index, [("design", transcript_from_dict(MEETING, "design.json"))])
    return empty_index


def test_a_hit_of_a_quick_exchange_holds_only_the_words_of_whoever_matched(meeting_index):
    hit = search(meeting_index, "a remote that beeps so you can find it", k=1).hits[0]
    assert hit.speaker == "Marketing"
    assert {p.speaker for p in hit.parts} == {"Marketing"}
    assert hit.text == "So a locator beep when you clap your hands would sell well, I think."


def test_a_hit_is_attributed_to_the_speaker_whose_words_match_not_to_who_says_most(meeting_index):
    hit = search(meeting_index, "the budget for the case and the chips", k=1).hits[0]
    assert (hit.speaker, hit.text) == ("Project Manager", MEETING["turns"][4]["text"])


def test_the_highlight_lies_in_the_words_of_the_hits_speaker(meeting_index):
    for hit in search(meeting_index, "clap your hands to beep", k=5).hits:
        main = next(p for p in hit.parts if p.passage_id == hit.passage_id)
        assert hit.highlight is None or hit.highlight.text in main.text


PRESS = {
    "title": "Answers to journalists' questions",
    "turns": [
        {"speaker": "Question", "text": "What will happen to the ferry line between the two islands next winter?"},
        {"speaker": "Ivan Petrov", "text": "It will run all winter, with a new ice-class ship from December."},
        {"speaker": "Question", "text": "And the airport?"},
        {"speaker": "Ivan Petrov", "text": "Later."},
    ],
}


def test_an_answer_found_through_its_question_is_the_hit(empty_index):
    add_transcripts(empty_index, [("press", transcript_from_dict(PRESS, "press.json"))])
    hit = search(empty_index, "What will happen to the ferry line between the two islands next winter?", k=1).hits[0]
    assert (hit.speaker, hit.role) == ("Ivan Petrov", "answer")
    assert hit.text == PRESS["turns"][1]["text"]


def test_a_speaker_filter_leaves_the_other_speakers_out_of_a_hit(meeting_index):
    hits = search(meeting_index, "locator beep", k=3, filters=Filters(speakers=("User Interface",))).hits
    assert [h.text for h in hits] == ["Clap to beep, sure."]
    assert {p.speaker for h in hits for p in h.parts} == {"User Interface"}


def test_highlight_offsets_point_at_the_quoted_sentences(examples_index):
    for hit in search(examples_index, "compensation for the rail closure", k=5).hits:
        if hit.highlight:
            assert hit.text[hit.highlight.start_char : hit.highlight.end_char] == hit.highlight.text


def test_overlapping_windows_of_one_turn_are_not_both_returned(examples_index):
    hits = search(examples_index, "Russia Tajikistan cooperation", k=20).hits
    for a in hits:
        for b in hits:
            if a is not b and (a.document.id, a.turn_index) == (b.document.id, b.turn_index):
                assert a.end_char <= b.start_char or b.end_char <= a.start_char


def test_an_empty_question_is_refused():
    with pytest.raises(InvalidInputError):
        search(None, "   ")  # type: ignore[arg-type]


def test_a_match_in_a_document_that_matches_elsewhere_too_outranks_an_equal_lone_match(examples_index):
    with examples_index.reading() as reader:
        lone = reader.segment_ids_of("transport_briefing")[0]
        first, *others = reader.segment_ids_of(SEED_ID)[:3]
        # the lone match scores a hair higher on its own; the seed's segment has its document behind it
        ranked = [(lone, 0.100), (first, 0.099), *((sid, 0.05) for sid in others)]
        assert [sid for sid, _ in _with_document_evidence(reader, ranked)][:2] == [first, lone]
