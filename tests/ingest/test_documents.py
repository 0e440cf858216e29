"""rag.documents: one document at a time, from a body or an upload, with limits and safe ids."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.config import Settings
from rag.documents import (
    check_document_id,
    content_id,
    delete_document,
    get_document,
    list_documents,
    put_document,
    transcript_from_body,
    transcript_from_upload,
    upload_name,
)
from rag.errors import InvalidInputError, NotFoundError, ParseError, TooLargeError
from tests.conftest import SEED, SEED_ID

LIMITS = Settings().limits()

BODY = {"title": "Pier notice", "turns": [{"speaker": "MS. HALE", "text": "The pier reopens on Monday."}]}


@pytest.mark.parametrize(
    ("filename", "name", "doc_id"),
    [
        ("../../etc/passwd.txt", "passwd.txt", "passwd"),
        ("..\\x.json", "x.json", "x"),
        ("/abs/dir/talk.txt", "talk.txt", "talk"),
        ("bad\nname\x00.txt", "badname.txt", "badname"),
        ("..", "upload", "upload"),
        ("", "upload", "upload"),
        (None, "upload", "upload"),
        ("My Talk (2).txt", "My Talk (2).txt", "My-Talk-2"),
    ],
)
def test_an_upload_is_named_by_the_last_part_of_its_file_name_and_its_id_is_sanitised(filename, name, doc_id):
    assert upload_name(filename) == name
    got_id, _ = transcript_from_upload(b"MS. HALE: Open.\n\nMR. ORR: When?\n", filename, LIMITS, fmt="text")
    assert got_id == doc_id
    check_document_id(got_id)


@pytest.mark.parametrize("doc_id", ["", ".", "..", "../x", "a/b", "a\\b", "-x", ".hidden", "x" * 201, "a b", "é"])
def test_ids_that_are_not_in_the_safe_shape_are_refused(doc_id):
    with pytest.raises(InvalidInputError) as info:
        check_document_id(doc_id)
    assert info.value.field == "id"


@pytest.mark.parametrize(
    ("limits", "data", "error", "words"),
    [
        (replace(LIMITS, max_upload_bytes=10), b"MS. HALE: The pier reopens.", TooLargeError, "at most 10"),
        (replace(LIMITS, max_turns=1), b"MS. HALE: Open.\n\nMR. ORR: When?\n", InvalidInputError, "2 turns, at most 1"),
        (replace(LIMITS, max_text_chars=5), b"MS. HALE: The pier reopens.", InvalidInputError, "at most 5"),
        (LIMITS, b"\xff\xfe", ParseError, "t.txt:1: not UTF-8"),
    ],
)
def test_an_upload_over_a_limit_or_unreadable_is_refused_naming_the_file(limits, data, error, words):
    with pytest.raises(error) as info:
        transcript_from_upload(data, "t.txt", limits)
    assert words in info.value.message and info.value.field == "file"


def test_a_body_over_a_limit_is_refused_naming_the_field():
    with pytest.raises(InvalidInputError) as info:
        transcript_from_body({**BODY, "turns": BODY["turns"] * 3}, replace(LIMITS, max_turns=2))
    assert info.value.field == "turns"
    with pytest.raises(InvalidInputError) as info:
        transcript_from_body(BODY, replace(LIMITS, max_text_chars=4))
    assert info.value.field == "turns.0.text"


def test_a_body_without_a_source_has_none_and_the_same_content_has_the_same_id():
    transcript = transcript_from_body(BODY, LIMITS)
    assert transcript.source is None and transcript.title == "Pier notice"
    assert content_id(transcript) == content_id(transcript_from_body(dict(BODY), LIMITS))
    assert content_id(transcript) != content_id(transcript_from_body({**BODY, "title": "Other"}, LIMITS))


def test_put_reports_created_then_unchanged_then_replaced(empty_index):
    transcript = transcript_from_body(BODY, LIMITS)
    assert put_document(empty_index, "pier", transcript).status == "created"
    assert put_document(empty_index, "pier", transcript).status == "unchanged"
    changed = transcript_from_body({**BODY, "title": "Pier notice, revised"}, LIMITS)
    written = put_document(empty_index, "pier", changed)
    assert (written.status, written.turns, written.passages) == ("replaced", 1, 1)
    assert empty_index.stats() | {"documents": 1, "turns": 1, "passages": 1, "segments": 1} == empty_index.stats()


def test_get_list_and_delete(empty_index):
    _, seed = transcript_from_upload(SEED.read_bytes(), SEED.name, LIMITS)
    put_document(empty_index, SEED_ID, seed)
    put_document(empty_index, "pier", transcript_from_body({**BODY, "date": "2030-01-01"}, LIMITS))
    detail = get_document(empty_index, SEED_ID)
    assert (detail.date, len(detail.turns)) == ("2025-02-13", len(seed.turns))
    page, total = list_documents(empty_index, limit=1)
    assert ([d.id for d in page], total) == ([SEED_ID], 2)
    assert [d.id for d in list_documents(empty_index, speakers=["MS. HALE"])[0]] == ["pier"]
    assert [d.id for d in list_documents(empty_index, date_from="2026-01-01")[0]] == ["pier"]
    delete_document(empty_index, "pier")
    with pytest.raises(NotFoundError):
        get_document(empty_index, "pier")
    with pytest.raises(NotFoundError):
        delete_document(empty_index, "pier")
