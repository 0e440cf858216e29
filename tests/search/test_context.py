"""build_context: numbered, attributed quotes for a language model, within a token budget."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.context import MERGED, PASSAGE, Context, build_context
from rag.errors import InvalidInputError
from rag.index import Index
from rag.ingest import ingest_paths
from rag.models import Filters
from tests.conftest import SEED, SEED_ID, stored_passages

SEED_QUESTION = "What did Lavrov say about the phone call between Putin and Trump?"
FOLLOW_UP = "and what did he say about migration?"
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def turn_text(index: Index, doc_id: str, turn_index: int) -> str:
    with index.reading() as reader:
        return reader.turns(doc_id)[turn_index].text


@pytest.fixture(scope="module")
def seed_context(examples_index) -> Context:
    return build_context(examples_index, SEED_QUESTION, k=8, max_tokens=1000)


def test_the_context_quotes_the_speaker_with_place_and_date(seed_context):
    first = seed_context.citations[0]
    assert (first.speaker, first.canonical_speaker, first.document.id) == ("Sergey Lavrov", "Sergey Lavrov", SEED_ID)
    assert first.label == "Sergey Lavrov, Moscow, 13 February 2025"
    assert seed_context.text.startswith("[1] Sergey Lavrov, Moscow, 13 February 2025:\n")
    assert "phone call" in first.quote


def test_the_numbered_quotes_are_exactly_the_citations_in_order(seed_context):
    blocks = [f"[{c.n}] {c.label}:\n{c.quote}" for c in seed_context.citations]
    assert [c.n for c in seed_context.citations] == list(range(1, len(blocks) + 1))
    assert seed_context.text == "\n\n".join(blocks)


def test_a_citation_is_a_stored_passage_or_the_exact_span_its_neighbours_cover(examples_index, seed_context):
    citations = seed_context.citations
    for c in citations:
        stored = stored_passages(examples_index, c.document.id)
        rows = [stored[pid] for pid in c.passage_ids]
        assert {(r.doc_id, r.turn_index, r.speaker) for r in rows} == {(c.document.id, c.turn_index, c.speaker)}
        if c.kind == PASSAGE:
            assert c.text == rows[0].text
            assert (c.start_char, c.end_char) == (rows[0].start_char, rows[0].end_char)
        else:
            assert c.kind == MERGED and len(rows) > 1
            turn = turn_text(examples_index, c.document.id, c.turn_index)
            assert c.text == turn[c.start_char : c.end_char]
            assert (c.start_char, c.end_char) == (rows[0].start_char, max(r.end_char for r in rows))
            for r in rows:
                assert turn[r.start_char : r.end_char] == r.text


def test_neighbouring_passages_of_one_turn_are_quoted_once_merged(examples_index, seed_context):
    citations = seed_context.citations
    assert any(c.kind == MERGED for c in citations)
    for a in citations:
        for b in citations:
            if a.n < b.n and (a.document.id, a.turn_index) == (b.document.id, b.turn_index):
                first, second = sorted((a, b), key=lambda c: c.start_char)
                between = turn_text(examples_index, a.document.id, a.turn_index)[first.end_char : second.start_char]
                assert between.strip(), f"[{a.n}] and [{b.n}] are neighbours and should have been merged"


def test_the_context_fits_the_budget_and_reports_its_tokens(embedder, seed_context):
    assert seed_context.tokens == embedder.count_tokens([seed_context.text])[0] <= 1000


@pytest.mark.parametrize("max_tokens", [60, 120, 250, 500])
def test_a_small_budget_gives_a_context_within_it_ending_at_a_sentence_end(examples_index, embedder, max_tokens):
    context = build_context(examples_index, SEED_QUESTION, k=8, max_tokens=max_tokens)
    assert context.citations, "at least one sentence fits"
    assert embedder.count_tokens([context.text])[0] <= max_tokens
    assert SENTENCE_END.search(context.text), context.text[-80:]


def test_a_quote_cut_by_the_budget_is_the_leading_whole_sentences_of_its_citation(examples_index):
    context = build_context(examples_index, SEED_QUESTION, k=8, max_tokens=60)
    cut = [c for c in context.citations if c.truncated]
    assert cut
    for c in cut:
        assert c.text.startswith(c.quote) and len(c.quote) < len(c.text)
        assert SENTENCE_END.search(c.quote)
        assert c.text[len(c.quote) :][:1].isspace()  # the next sentence starts after a space: none was halved


def test_a_follow_up_keeps_the_earlier_speaker(examples_index):
    context = build_context(examples_index, FOLLOW_UP, k=5, max_tokens=400, history=[SEED_QUESTION])
    assert context.resolution.text == "and what did Sergey Lavrov say about migration?"
    first = context.citations[0]
    assert first.speaker == "Sergey Lavrov" and "migration" in first.text


def test_filters_restrict_the_quotes(examples_index):
    context = build_context(examples_index, "ferry", filters=Filters(document_ids=("transport_briefing",)))
    assert context.citations
    assert {c.document.id for c in context.citations} == {"transport_briefing"}


def test_nothing_found_is_an_empty_context(examples_index):
    context = build_context(examples_index, SEED_QUESTION, filters=Filters(date_from="2100-01-01"))
    assert (context.text, context.citations, context.tokens) == ("", [], 0)


def test_the_same_words_in_two_documents_are_quoted_once(tmp_path, empty_index):
    folder = tmp_path / "twice"
    folder.mkdir()
    shutil.copy(SEED, folder / "lavrov.txt")
    shutil.copy(SEED, folder / "lavrov-republished.txt")
    index = empty_index
    assert not ingest_paths(index, [folder]).failures
    context = build_context(index, SEED_QUESTION, k=10, max_tokens=4000)
    texts = [" ".join(c.text.split()) for c in context.citations]
    assert len(texts) == len(set(texts)) >= 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"question": "  "}, "question"),
        ({"question": SEED_QUESTION, "k": 0}, "k"),
        ({"question": SEED_QUESTION, "max_tokens": 0}, "max_tokens"),
    ],
)
def test_bad_arguments_are_invalid_input_naming_the_field(examples_index, kwargs, field):
    kwargs = dict(kwargs)  # the parameter table is shared by every backend's run
    question = kwargs.pop("question")
    with pytest.raises(InvalidInputError) as error:
        build_context(examples_index, question, **kwargs)
    assert error.value.field == field


def test_rag_context_json_prints_the_api_object(examples_place):
    args = ["context", FOLLOW_UP, "--history", SEED_QUESTION, "--max-tokens", "200", "--json"]
    result = CliRunner().invoke(app, [*args, *examples_place.cli_args()])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"question", "query", "context", "citations", "tokens", "max_tokens"}
    assert body["query"] == "and what did Sergey Lavrov say about migration?"
    assert body["citations"][0]["speaker"] == "Sergey Lavrov" and body["tokens"] <= 200
