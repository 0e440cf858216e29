"""What the pages must never do: run a transcript's markup, or read without the key the service asks for."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest
from playwright.sync_api import expect

from api.schemas.examples import SEED_QUESTION
from tests.conftest import SEED_ID
from tests.web.conftest import HOSTILE, HOSTILE_SPEAKER, HOSTILE_TEXT, KEY

pytestmark = pytest.mark.browser


def assert_nothing_injected(tab) -> None:
    """No pop-up ran, and no element came from the transcript: the pages make no <img>, <script> or <b>."""
    tab.page.wait_for_timeout(300)  # an injected onerror would fire within a moment
    assert tab.dialogs == []
    assert tab.page.locator("main img, main script, main b").count() == 0


def test_a_hostile_transcript_is_shown_as_text_in_search_results(tab, web_server):
    tab.page.goto(f"{web_server.url}/?q={quote_plus('Are the gliders safe?')}")
    result = tab.page.locator(f'.result[data-speaker="{HOSTILE_SPEAKER}"]').first
    # the directory's canonical name drops the "(1)"; the name as written is shown beside it
    expect(result.locator(".as-written")).to_have_text(f"as written: {HOSTILE_SPEAKER}")
    expect(result.locator(".doc-title")).to_have_text(HOSTILE["title"])
    expect(result.locator(".text")).to_contain_text(HOSTILE_TEXT)
    assert_nothing_injected(tab)


def test_a_hostile_transcript_is_shown_as_text_on_its_page(tab, web_server):
    tab.page.goto(f"{web_server.url}/transcripts/hostile")
    expect(tab.page.locator("h1")).to_have_text(HOSTILE["title"])
    expect(tab.page).to_have_title(f"{HOSTILE['title']} · Transcript search")
    expect(tab.page.locator(".turn .speaker-name").nth(1)).to_have_text(HOSTILE_SPEAKER)
    expect(tab.page.locator(".turn-text").nth(1)).to_have_text(HOSTILE_TEXT)
    assert_nothing_injected(tab)


def test_a_hostile_speaker_name_is_suggested_as_text(tab, web_server):
    tab.page.goto(web_server.url + "/")
    speaker = tab.page.get_by_role("combobox", name="Speaker")
    speaker.fill("eve")
    expect(tab.page.locator("[role=option]")).to_contain_text([f"also written {HOSTILE_SPEAKER}"])
    canonical = tab.page.locator("[role=option] .option-name").inner_text()
    speaker.press("Enter")
    expect(tab.page.locator(".chip span")).to_have_text([canonical])
    assert_nothing_injected(tab)


def test_the_pages_policy_stops_a_script_written_into_the_page(tab, live_server):
    """Even markup that got into the page could not run: the browser enforces script-src 'self'."""
    tab.page.goto(live_server.url + "/")
    assert tab.blocked == []
    ran = tab.page.evaluate(
        """() => new Promise(resolve => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
            setTimeout(() => resolve(window.injected === true), 100);
        })"""
    )
    assert ran is False
    assert len(tab.blocked) == 1 and "script-src 'self'" in tab.blocked[0]
    tab.blocked.clear()  # the one blocked on purpose


def test_with_protected_reads_the_page_asks_for_the_key_once_and_keeps_it_for_the_tab(tab, locked_server):
    tab.page.goto(f"{locked_server.url}/?q={quote_plus(SEED_QUESTION)}")
    dialog = tab.page.get_by_role("dialog", name="API key needed")
    expect(dialog).to_be_visible()
    expect(tab.page.locator(".result")).to_have_count(0)
    dialog.get_by_label("API key").fill(KEY)
    dialog.get_by_role("button", name="Use this key").click()
    expect(tab.page.locator(".result").first).to_have_attribute("data-speaker", "Sergey Lavrov")
    tab.page.locator(".result").first.get_by_role("link", name="Read it in the transcript").click()
    expect(tab.page.locator(".turn")).to_have_count(7)  # no second prompt on the next page
    expect(dialog).to_be_hidden()
    stored = tab.page.evaluate("[sessionStorage.length, localStorage.length, document.cookie]")
    assert stored == [1, 0, ""]
    other_tab = tab.context.new_page()  # a new tab starts without the key
    other_tab.goto(f"{locked_server.url}/transcripts/{SEED_ID}")
    expect(other_tab.get_by_role("dialog", name="API key needed")).to_be_visible()


def test_a_wrong_key_is_refused_and_asked_for_again(tab, locked_server):
    tab.page.goto(f"{locked_server.url}/transcripts/{SEED_ID}")
    dialog = tab.page.get_by_role("dialog", name="API key needed")
    dialog.get_by_label("API key").fill("not-the-key")
    dialog.get_by_role("button", name="Use this key").click()
    expect(dialog.get_by_role("alert")).to_have_text("That key was not accepted. Check it and try again.")
    dialog.get_by_label("API key").fill(KEY)
    dialog.get_by_role("button", name="Use this key").click()
    expect(tab.page.locator(".turn")).to_have_count(7)


def test_declining_to_give_a_key_is_explained(tab, locked_server):
    tab.page.goto(f"{locked_server.url}/?q=ferries")
    tab.page.get_by_role("dialog", name="API key needed").get_by_role("button", name="Cancel").click()
    expect(tab.page.locator("#notice")).to_contain_text("An API key is needed")
