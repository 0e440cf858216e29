"""Properties every transcript parser keeps, for any input: a Transcript or a ParseError, nothing else.

Each format is one entry in FORMATS: its file suffix and a strategy for inputs shaped like it
(valid or nearly). A new parser gets every property by adding its entry.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rag.errors import ParseError
from rag.models import NARRATION, ROLES, Transcript
from rag.parsing import parse_bytes, transcript_to_dict

EXAMPLES = 300
PROPERTY = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


# ---------------------------------------------------------------------- input shapes

words = st.text(alphabet=string.ascii_letters + "éøüßж’'-", min_size=1, max_size=12)
sentence = st.builds(
    lambda ws, end: " ".join(ws) + end,
    st.lists(words, min_size=1, max_size=12),
    st.sampled_from([".", "?", "!", "…", "", ":", "?!"]),
)
speaker_label = st.one_of(
    st.sampled_from(
        ["Question", "Q", "Moderator", "Journalist", "Sergey Lavrov", "MR. PRICE", "MS. HADDAD", "Grad A", "Putin"]
    ),
    st.builds(lambda a, b: f"{a} {b}", words, words),
    st.builds(lambda a: a.upper(), words),
    st.builds(lambda w: f"The Chair (Hon. {w} (Nipissing, Lib.))", words),
)
date_text = st.one_of(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)).map(str),
    st.dates().map(lambda d: d.strftime("%B %d, %Y")),
    st.dates().map(lambda d: d.strftime("%d %B %Y")),
    st.sampled_from(["February 30, 2025", "2025-13-01", "13/02/2025", "Feb 2025"]),
)
text_line = st.one_of(
    st.builds(lambda label, said: f"{label}: {said}", speaker_label, sentence),
    st.builds(lambda label, said: f"**{label}:** {said}", speaker_label, sentence),
    sentence,
    st.builds(lambda place, day: f"{place}, {day}", words, date_text),
    st.sampled_from(
        ["", "", "17:31", "220-13-02-2025", "\u00a0\u00a0", "•", "Additional materials", "1 of 1 photos in album", ":"]
    ),
    st.text(max_size=40),
)
text_documents = st.lists(text_line, max_size=30).map(lambda lines: "\n".join(lines).encode())

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20), date_text
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
maybe = lambda strategy: st.one_of(strategy, json_value)  # noqa: E731 - a valid value, or anything
json_turn = st.fixed_dictionaries(
    {},
    optional={
        "speaker": maybe(speaker_label),
        "text": maybe(sentence),
        "role": maybe(st.sampled_from(ROLES)),
        "start": maybe(st.floats(min_value=0, max_value=1e6)),
        "end": maybe(st.floats(min_value=0, max_value=1e6)),
    },
)
json_transcript = st.fixed_dictionaries(
    {},
    optional={
        "title": maybe(sentence),
        "date": maybe(date_text),
        "source": maybe(words),
        "place": maybe(words),
        "number": maybe(words),
        "turns": st.one_of(st.lists(json_turn, max_size=6), json_value),
    },
)
valid_turn = st.builds(
    lambda speaker, text, times: {"speaker": speaker, "text": text, **times},
    speaker_label,
    sentence.filter(str.strip),
    st.one_of(
        st.just({}),
        st.tuples(st.floats(0, 1e5), st.floats(0, 1e5)).map(lambda t: {"start": min(t), "end": max(t)}),
    ),
)
valid_json_transcript = st.fixed_dictionaries(
    {"title": sentence.filter(str.strip), "turns": st.lists(valid_turn, min_size=1, max_size=8)},
    optional={
        "date": st.dates(min_value=dt.date(1900, 1, 1)).map(str),
        "source": words,
        "place": words,
        "number": words,
    },
)
json_documents = st.one_of(valid_json_transcript, json_transcript, json_value).map(
    lambda data: json.dumps(data).encode()
)


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    documents: st.SearchStrategy[bytes]

    def __str__(self) -> str:
        return self.name


FORMATS = [
    Format("text", ".txt", text_documents),
    Format("json", ".json", json_documents),
]
formats = pytest.mark.parametrize("fmt", FORMATS, ids=str)


# ---------------------------------------------------------------------- what a result must look like


def parse_or_parse_error(data: bytes, name: str, fmt: str | None = None) -> Transcript | None:
    """The parse; None for a ParseError; any other exception fails the test."""
    try:
        transcript = parse_bytes(data, name, fmt)
    except ParseError as exc:
        assert exc.message.startswith(name), exc.message  # it names the file
        return None
    assert_well_formed(transcript)
    return transcript


def assert_well_formed(transcript: Transcript) -> None:
    assert isinstance(transcript.title, str) and transcript.title.strip()
    assert transcript.turns
    for turn in transcript.turns:
        assert isinstance(turn.speaker, str) and (turn.speaker or turn.role == NARRATION)  # narration is no one's
        assert isinstance(turn.text, str) and turn.text.strip()
        assert turn.role in ROLES
        assert turn.start is None or turn.start >= 0
        assert turn.end is None or turn.start is None or turn.end >= turn.start
    if transcript.date is not None:
        dt.date.fromisoformat(transcript.date)


# ---------------------------------------------------------------------- properties


@formats
@PROPERTY
@given(data=st.binary(max_size=4096))
def test_any_bytes_are_a_transcript_or_a_parse_error(fmt, data):
    parse_or_parse_error(data, f"upload{fmt.suffix}")
    parse_or_parse_error(data, "upload", fmt.name)


@formats
@PROPERTY
@given(text=st.text(max_size=3000))
def test_any_text_is_a_transcript_or_a_parse_error(fmt, text):
    parse_or_parse_error(text.encode("utf-8", "surrogatepass"), f"upload{fmt.suffix}")


@formats
@PROPERTY
@given(data=st.data())
def test_input_shaped_like_the_format_is_a_transcript_or_a_parse_error(fmt, data):
    document = data.draw(fmt.documents)
    parse_or_parse_error(document, f"upload{fmt.suffix}")
    parse_or_parse_error(document, "no-extension")  # the format found from the content


@formats
@PROPERTY
@given(data=st.data())
def test_a_parsed_transcript_reads_back_the_same_from_its_json_form(fmt, data):
    first = parse_or_parse_error(data.draw(fmt.documents), f"upload{fmt.suffix}")
    assume(first is not None)
    again = parse_bytes(json.dumps(transcript_to_dict(first)).encode(), "again.json")
    assert again == first
    assert transcript_to_dict(again) == transcript_to_dict(first)


@PROPERTY
@given(data=valid_json_transcript)
def test_a_valid_json_transcript_always_parses_and_round_trips(data):
    first = parse_bytes(json.dumps(data).encode(), "t.json")
    assert [t.text for t in first.turns] == [t["text"].strip() for t in data["turns"]]
    again = parse_bytes(json.dumps(transcript_to_dict(first)).encode(), "t.json")
    assert again == first
