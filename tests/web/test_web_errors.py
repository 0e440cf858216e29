"""When there is nothing to show, the pages say why in words, never a blank page or a stack trace."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rag.config import Settings
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def no_index(tmp_path, embedder):
    with LiveServer(Settings(index_dir=tmp_path / "not-built"), embedder=embedder) as server:
        yield server


def test_before_anything_is_indexed_the_search_page_says_so(tab, no_index):
    tab.page.goto(no_index.url + "/")
    expect(tab.page.locator("#notice")).to_contain_text("Nothing to search yet")


def test_a_search_before_anything_is_indexed_says_so(tab, no_index):
    tab.page.goto(no_index.url + "/?q=ferries")
    notice = tab.page.locator("#notice")
    expect(notice).to_contain_text("No transcripts have been indexed on this service yet")
    expect(notice).not_to_contain_text("no index at")  # the server's words for operators stay out


def test_the_transcripts_list_before_anything_is_indexed_says_so(tab, no_index):
    tab.page.goto(no_index.url + "/transcripts")
    expect(tab.page.locator("#notice")).to_contain_text("No transcripts yet")


def test_when_the_service_stops_answering_a_search_says_it_cannot_be_reached(tab, pages_index):
    server = LiveServer(Settings(index_dir=pages_index.collection.directory), embedder=pages_index.embedder)
    with server:
        tab.page.goto(server.url + "/")
        expect(tab.page.locator("#notice")).to_contain_text("Who said what")
    question = tab.page.get_by_label("Question")
    question.fill("ferries")
    question.press("Enter")
    notice = tab.page.locator("#notice")
    expect(notice).to_contain_text("The search service cannot be reached")
    expect(notice.get_by_role("button", name="Try again")).to_be_visible()
