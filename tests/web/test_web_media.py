"""A recorded transcript: results and its page link to the moment a passage is said, and its page plays it."""

from __future__ import annotations

from urllib.parse import quote_plus

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def answer_passage(web_server) -> dict:
    """Ines Varga's answer in the recorded transcript: its passage id and start, as the API gives them."""
    turns = httpx.get(f"{web_server.url}/documents/recorded", timeout=30).json()["turns"]
    (passage,) = turns[1]["passages"]
    return passage


def test_a_result_from_a_recording_links_to_the_moment_it_is_said(tab, web_server, media_server):
    question = "When do the night ferries start again?"
    hits = httpx.post(f"{web_server.url}/search", json={"query": question}, timeout=30).json()["results"]
    start = next(hit["start"] for hit in hits if hit["document"]["id"] == "recorded")
    assert start is not None
    tab.page.goto(f"{web_server.url}/?q={quote_plus(question)}")
    result = tab.page.locator('.result[data-document="recorded"]').first
    shown = f"{int(start) // 60}:{int(start) % 60:02d}"
    expect(result.locator(".time-code")).to_have_text(f"at {shown}")
    listen = result.get_by_role("link", name=f"Listen from {shown}")
    assert listen.get_attribute("href") == f"{media_server.url}/ferry.wav#t={start:g}"


def test_the_transcript_page_plays_the_recording_from_the_linked_passage(tab, web_server, media_server):
    passage = answer_passage(web_server)
    tab.page.goto(f"{web_server.url}/transcripts/recorded#p-{passage['id']}")
    audio = tab.page.locator("audio")
    expect(audio).to_have_attribute("src", f"{media_server.url}/ferry.wav")
    # the player seeks once it knows the recording's length; a player left at 0 fails here
    tab.page.wait_for_function(
        "start => Math.abs(document.querySelector('audio').currentTime - start) < 0.01", arg=passage["start"]
    )
    assert audio.evaluate("a => a.paused")  # placed at the passage, not playing by itself
    expect(tab.page.locator(".passage.target")).to_contain_text("The night ferries start again")


def test_a_turns_time_code_plays_the_recording_from_there(tab, web_server):
    tab.page.goto(f"{web_server.url}/transcripts/recorded")
    tab.page.get_by_role("link", name="Play from 0:03").click()
    tab.page.wait_for_function("() => document.querySelector('audio').currentTime >= 3")
    assert tab.page.evaluate("document.querySelector('audio').currentTime") == pytest.approx(3, abs=0.5)
    assert tab.page.url == f"{web_server.url}/transcripts/recorded"  # the page stays; its player moves
