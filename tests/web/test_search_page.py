"""The search page in a real browser, over the bundled examples: asking, filtering, sharing, going back."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest
from playwright.sync_api import expect

from api.schemas.examples import SEED_QUESTION
from tests.conftest import SEED_ID

pytestmark = pytest.mark.browser

BUDGET_QUESTION = "Why was the hotel tax turned down?"


def ask(tab, server, question: str) -> None:
    tab.page.goto(server.url + "/")
    tab.page.get_by_label("Question").fill(question)
    tab.page.keyboard.press("Enter")
    expect(tab.page.locator(".result").first).to_be_visible()


def speakers_shown(tab) -> list[str]:
    return tab.page.locator(".result").evaluate_all("items => items.map(item => item.dataset.speaker)")


def test_pressing_enter_shows_lavrovs_answer_with_the_matching_sentences_marked(tab, live_server):
    ask(tab, live_server, SEED_QUESTION)
    first = tab.page.locator(".result").first
    assert (first.get_attribute("data-speaker"), first.get_attribute("data-document")) == ("Sergey Lavrov", SEED_ID)
    expect(first.locator(".speaker")).to_have_text("Sergey Lavrov")
    expect(first.locator(".role")).to_have_text("Answer")
    expect(first.locator("mark")).to_contain_text("yesterday’s phone call")
    expect(first.locator(".context")).to_contain_text("after the phone call between President Trump")
    expect(first.locator(".source time")).to_have_text("13 February 2025")


def test_the_question_answered_can_be_read_whole(tab, live_server):
    ask(tab, live_server, SEED_QUESTION)
    context = tab.page.locator(".result").first.locator(".context")
    expect(context).not_to_contain_text("in order for talks to be successful")
    context.get_by_role("button", name="Show the whole question").click()
    expect(context).to_contain_text("in order for talks to be successful?")


def test_a_search_is_kept_in_the_address(tab, live_server):
    ask(tab, live_server, SEED_QUESTION)
    assert tab.page.url == f"{live_server.url}/?q={quote_plus(SEED_QUESTION)}"
    expect(tab.page).to_have_title(f"{SEED_QUESTION} · Transcript search")


def test_a_speaker_known_by_another_spelling_is_shown_under_both_names(tab, live_server):
    ask(tab, live_server, BUDGET_QUESTION)
    okafor = tab.page.locator('.result[data-speaker="CHAIR OKAFOR"]').first
    expect(okafor.locator(".speaker-name")).to_have_text("OKAFOR")
    expect(okafor.locator(".as-written")).to_have_text("as written: CHAIR OKAFOR")


def test_choosing_a_speaker_from_the_suggestions_filters_the_results(tab, live_server):
    ask(tab, live_server, BUDGET_QUESTION)
    assert set(speakers_shown(tab)) - {"TREASURER BELLAMY"}, "the filter would have nothing to remove"
    speaker = tab.page.get_by_role("combobox", name="Speaker")
    speaker.fill("bella")
    option = tab.page.get_by_role("listbox").get_by_role("option", name="TREASURER BELLAMY")
    expect(option).to_be_visible()
    speaker.press("Enter")  # the first suggestion is the active one
    expect(tab.page.locator(".chip")).to_have_text(["TREASURER BELLAMY×"])
    expect(tab.page).to_have_url(f"{live_server.url}/?q={quote_plus(BUDGET_QUESTION)}&speaker=TREASURER+BELLAMY")
    expect(tab.page.locator("#status")).to_contain_text("by TREASURER BELLAMY")
    assert set(speakers_shown(tab)) == {"TREASURER BELLAMY"}


def test_suggestions_are_chosen_with_the_arrow_keys(tab, live_server):
    tab.page.goto(live_server.url + "/")
    speaker = tab.page.get_by_role("combobox", name="Speaker")
    speaker.fill("e")  # matches many names
    options = tab.page.get_by_role("listbox", name="Speaker suggestions").get_by_role("option")
    expect(options.first).to_have_attribute("aria-selected", "true")
    speaker.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    assert speaker.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
    second = options.nth(1).locator(".option-name").inner_text()
    speaker.press("Enter")
    expect(tab.page.locator(".chip span")).to_have_text([second])
    expect(options).to_have_count(0)


def test_a_removed_speaker_filter_widens_the_results_again(tab, live_server):
    tab.page.goto(f"{live_server.url}/?q={quote_plus(BUDGET_QUESTION)}&speaker=TREASURER+BELLAMY")
    expect(tab.page.locator(".result").first).to_be_visible()
    tab.page.get_by_role("button", name="Remove the speaker filter TREASURER BELLAMY").click()
    expect(tab.page).to_have_url(f"{live_server.url}/?q={quote_plus(BUDGET_QUESTION)}")
    expect(tab.page.locator('.result:not([data-speaker="TREASURER BELLAMY"])').first).to_be_visible()


def test_the_back_button_returns_to_the_previous_search_and_its_results(tab, live_server):
    ask(tab, live_server, SEED_QUESTION)
    question = tab.page.get_by_label("Question")
    question.fill(BUDGET_QUESTION)
    question.press("Enter")
    expect(tab.page.locator(".result").first).not_to_have_attribute("data-document", SEED_ID)
    tab.page.go_back()
    expect(question).to_have_value(SEED_QUESTION)
    expect(tab.page.locator(".result").first).to_have_attribute("data-document", SEED_ID)
    tab.page.go_forward()
    expect(question).to_have_value(BUDGET_QUESTION)
    expect(tab.page.locator(".result").first).not_to_have_attribute("data-document", SEED_ID)


def test_opening_a_shared_link_runs_its_search_with_its_filters(tab, live_server):
    tab.page.goto(
        f"{live_server.url}/?q={quote_plus('relations with the United States')}&speaker=Sergey+Lavrov"
        "&from=2025-01-01&to=2025-12-31&mode=lexical"
    )
    expect(tab.page.locator(".result").first).to_be_visible()
    assert set(speakers_shown(tab)) == {"Sergey Lavrov"}
    expect(tab.page.get_by_label("Question")).to_have_value("relations with the United States")
    expect(tab.page.get_by_label("From")).to_have_value("2025-01-01")
    expect(tab.page.get_by_label("To")).to_have_value("2025-12-31")
    expect(tab.page.get_by_label("Match")).to_have_value("lexical")
    expect(tab.page.locator(".chip span")).to_have_text(["Sergey Lavrov"])


def test_more_results_continue_the_ranking(tab, live_server):
    ask(tab, live_server, "taxes, budgets and prices")
    results = tab.page.locator(".result")
    expect(results).to_have_count(10)
    first_page = results.evaluate_all("items => items.map(i => i.dataset.document + i.textContent)")
    tab.page.get_by_role("button", name="More results").click()
    expect(results).to_have_count(20)
    assert results.evaluate_all("items => items.map(i => i.dataset.document + i.textContent)")[:10] == first_page
    expect(results.nth(10).locator("a").first).to_be_focused()


def test_a_question_nothing_matches_under_its_filters_is_told_so_with_a_way_out(tab, live_server):
    tab.page.goto(f"{live_server.url}/?q={quote_plus(SEED_QUESTION)}&from=2030-01-01")
    notice = tab.page.locator("#notice")
    expect(notice).to_contain_text("No results")
    expect(notice).to_contain_text(f"Nothing matches “{SEED_QUESTION}” from 1 January 2030.")
    expect(tab.page.locator(".result")).to_have_count(0)
    notice.get_by_role("button", name="Search without filters").click()
    expect(tab.page.locator(".result").first).to_have_attribute("data-speaker", "Sergey Lavrov")
    expect(tab.page.get_by_label("From")).to_have_value("")
    expect(tab.page).to_have_url(f"{live_server.url}/?q={quote_plus(SEED_QUESTION)}")


def test_an_impossible_date_in_a_link_is_explained_beside_the_date_fields(tab, live_server):
    tab.page.goto(f"{live_server.url}/?q=ferries&from=2025-02-30")
    error = tab.page.locator("#date-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("The “From” date “2025-02-30” is not a date")
    expect(tab.page.get_by_label("From")).to_have_attribute("aria-invalid", "true")
    expect(tab.page.locator(".result")).to_have_count(0)


def test_a_from_date_after_the_to_date_is_explained(tab, live_server):
    tab.page.goto(f"{live_server.url}/?q=ferries&from=2026-05-01&to=2026-01-01")
    expect(tab.page.locator("#date-error")).to_have_text(
        "The “From” date (1 May 2026) is after the “To” date (1 January 2026)."
    )


def test_the_question_box_has_the_focus_and_slash_brings_it_back(tab, live_server):
    tab.page.goto(live_server.url + "/")
    question = tab.page.get_by_label("Question")
    expect(question).to_be_focused()
    tab.page.get_by_label("Match").focus()
    tab.page.locator("body").click(position={"x": 5, "y": 400})
    tab.page.keyboard.press("/")
    expect(question).to_be_focused()


def test_every_control_has_a_label_and_the_page_has_landmarks(tab, live_server):
    tab.page.goto(live_server.url + "/")
    for label in ("Question", "Speaker", "From", "To", "Match"):
        expect(tab.page.get_by_label(label, exact=True)).to_have_count(1)
    for role in ("banner", "navigation", "main", "search", "contentinfo"):
        expect(tab.page.get_by_role(role)).to_have_count(1)
    expect(tab.page.get_by_role("link", name="Search", exact=True)).to_have_attribute("aria-current", "page")


def test_results_fit_a_phone_screen_without_sideways_scrolling(phone, live_server):
    ask(phone, live_server, SEED_QUESTION)
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.page.locator(".result").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_on_a_phone_the_filters_are_folded_away_until_one_is_on(phone, live_server):
    phone.page.goto(live_server.url + "/")
    expect(phone.page.get_by_label("From")).to_be_hidden()
    phone.page.locator("summary").click()
    expect(phone.page.get_by_label("From")).to_be_visible()
    phone.page.goto(f"{live_server.url}/?q=ferries&speaker=Sergey+Lavrov")
    expect(phone.page.locator("summary")).to_have_text("Filters (1 on)")
    expect(phone.page.get_by_label("From")).to_be_visible()
