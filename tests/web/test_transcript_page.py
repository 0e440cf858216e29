"""A transcript as a page, and the list of transcripts, in a real browser."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from api.schemas.examples import SEED_QUESTION
from tests.conftest import SEED_ID
from tests.web.conftest import FILLERS, passage_in_view

pytestmark = pytest.mark.browser


def test_a_result_opens_its_transcript_with_the_passage_marked_and_in_view(tab, live_server):
    tab.page.goto(live_server.url + "/")
    tab.page.get_by_label("Question").fill(SEED_QUESTION)
    tab.page.keyboard.press("Enter")
    first = tab.page.locator(".result").first
    hit_text = first.locator(".text").inner_text()
    link = first.get_by_role("link", name="Read it in the transcript")
    passage = link.get_attribute("href").rpartition("#")[2]
    link.click()
    expect(tab.page).to_have_url(f"{live_server.url}/transcripts/{SEED_ID}#{passage}")
    target = tab.page.locator(f"#{passage}")
    expect(target).to_have_class("passage target")
    marked = " ".join(tab.page.locator(".passage-mark").all_inner_texts())
    assert marked.split() == hit_text.split()  # the words of the result, and only those
    assert passage_in_view(tab.page, f"#{passage} mark")
    expect(target).to_be_focused()


def test_a_transcript_sets_each_speaker_turn_apart_with_its_time(tab, live_server):
    tab.page.goto(f"{live_server.url}/transcripts/energy_minister_interview")
    turns = tab.page.locator(".turn")
    expect(turns).to_have_count(8)
    expect(tab.page.locator("h1")).to_contain_text("Radio interview with Energy Minister Anna Keller")
    expect(turns.locator(".speaker-name")).to_have_text(["Interviewer", "Anna Keller"] * 4)
    expect(turns.locator(".time-code")).to_have_text(["0:00", "0:14", "1:01", "1:10", "2:08", "2:17", "3:10", "3:14"])
    expect(turns.nth(1).locator(".role")).to_have_text("Answer")
    expect(tab.page.locator("#doc-meta")).to_contain_text("21 October 2026")


def test_following_another_passage_link_moves_the_mark(tab, live_server):
    tab.page.goto(f"{live_server.url}/transcripts/{SEED_ID}#p-21")
    expect(tab.page.locator("#p-21")).to_have_class("passage target")
    tab.page.evaluate("location.hash = '#p-3'")
    expect(tab.page.locator("#p-3")).to_have_class("passage target")
    expect(tab.page.locator("#p-21")).to_have_class("passage")
    expect(tab.page.locator(".turn.has-target")).to_have_count(1)
    assert passage_in_view(tab.page, "#p-3")


def test_a_link_to_a_passage_that_is_gone_still_shows_the_transcript(tab, live_server):
    tab.page.goto(f"{live_server.url}/transcripts/{SEED_ID}#p-999999")
    expect(tab.page.locator("#notice")).to_contain_text("That passage is no longer in this transcript")
    expect(tab.page.locator(".turn")).to_have_count(7)


def test_a_link_to_an_unknown_transcript_says_it_is_not_there(tab, live_server):
    tab.page.goto(f"{live_server.url}/transcripts/no-such-briefing")
    expect(tab.page.locator("h1")).to_have_text("No such transcript")
    expect(tab.page.locator("#notice")).to_contain_text("There is no transcript with the id “no-such-briefing”.")


def test_the_transcripts_list_shows_titles_dates_and_counts(tab, live_server):
    tab.page.goto(f"{live_server.url}/transcripts")
    seed = tab.page.locator(f'.doc-item[data-document="{SEED_ID}"]')
    expect(seed.locator(".meta-line")).to_have_text("13 February 2025 · Moscow · 7 turns · 25 passages")
    seed.get_by_role("link").click()
    expect(tab.page).to_have_url(f"{live_server.url}/transcripts/{SEED_ID}")
    expect(tab.page.locator(".turn")).to_have_count(7)


def test_the_transcripts_list_is_paged(tab, web_server):
    total = int(httpx.get(f"{web_server.url}/documents", timeout=30).headers["x-total-count"])
    assert total == FILLERS + 2
    tab.page.goto(f"{web_server.url}/transcripts")
    expect(tab.page.locator(".doc-item")).to_have_count(20)
    expect(tab.page.locator("#status")).to_have_text(f"Transcripts 1–20 of {total}, oldest first.")
    tab.page.get_by_role("link", name="Next").click()
    expect(tab.page).to_have_url(f"{web_server.url}/transcripts?page=2")
    expect(tab.page.locator(".doc-item")).to_have_count(total - 20)
    expect(tab.page.locator("#page-info")).to_have_text("Page 2 of 2")
    tab.page.go_back()
    expect(tab.page.locator(".doc-item")).to_have_count(20)
