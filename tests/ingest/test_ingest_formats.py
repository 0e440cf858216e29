"""Every format goes through the whole pipeline, and times reach the search hits."""

from __future__ import annotations

from rag.ingest import ingest_paths
from rag.search import search
from tests.conftest import FORMATS


def test_a_folder_of_every_format_is_indexed_and_timed_turns_keep_their_times_in_hits(empty_index):
    report = ingest_paths(empty_index, [FORMATS])
    assert not report.failures
    assert report.documents == len(list(FORMATS.iterdir()))
    hit = search(empty_index, "temporary pumps until the barrier pumps arrive in January", k=1, mode="lexical").hits[0]
    part = next(p for p in hit.parts if "temporary pumps" in p.text)
    assert (hit.document.id, part.speaker, part.start, part.end) == ("whisperx", "SPEAKER_01", 21.0, 26.5)
    assert hit.start <= part.start and hit.end >= part.end
    # the highlight is the sentence with the question's words, timed by the passage it lies in
    assert "temporary pumps" in hit.highlight.text
    assert (hit.highlight.start, hit.highlight.end) == (21.0, 26.5)


def test_an_untimed_hit_has_an_untimed_highlight(examples_index):
    hit = search(examples_index, "military base in Tajikistan", k=1).hits[0]
    assert hit.highlight is not None and (hit.highlight.start, hit.highlight.end) == (None, None)
