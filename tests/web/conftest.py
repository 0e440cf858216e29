"""Browser fixtures: Debian's Chromium driven by Playwright, and real servers for the pages to talk to."""

from __future__ import annotations

import wave
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page
from starlette.staticfiles import StaticFiles

from bench.browser import CHROMIUM, chromium
from rag.config import Settings
from rag.index import Index
from rag.ingest import ingest_paths
from tests.conftest import EXAMPLES, LiveServer

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
KEY = "reader-key-for-the-browser"

HOSTILE_SPEAKER = "Eve <img src=x onerror=alert(1)>"
HOSTILE_TEXT = "Gliders are safe. <script>alert(2)</script><img src=y onerror=alert(3)> That is all on gliders."
HOSTILE = {
    "id": "hostile",
    "title": "Gliders <b>briefing</b> <img src=z onerror=alert(4)>",
    "date": "2026-06-01",
    "turns": [
        {"speaker": "Reporter", "text": "Are the gliders safe?"},
        {"speaker": HOSTILE_SPEAKER, "text": HOSTILE_TEXT},
    ],
}
RECORDED = {
    "id": "recorded",
    "title": "Harbour ferry briefing, recorded",
    "date": "2026-06-02",
    "media_url": None,  # set to the media server's file by the fixture
    "turns": [
        {"speaker": "Reporter", "text": "When do the night ferries start again?", "start": 3.0, "end": 14.5},
        {
            "speaker": "Ines Varga",
            "text": "The night ferries start again on the first of July, every half hour until two in the morning.",
            "start": 14.5,
            "end": 31.0,
        },
    ],
}
FILLERS = 23  # with the two above: more than one page of the transcripts list (20 a page)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # package-scoped: Playwright's driver holds an event loop in this thread while it runs, which the
    # other packages' tests that run their own (the MCP client) must not find
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium)")
    with chromium() as launched:
        yield launched


class Tab:
    """A fresh browser context and page, with what a person would notice going wrong: errors and pop-ups."""

    def __init__(self, browser: Browser, viewport: dict):
        self.context = browser.new_context(viewport=viewport)
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []  # what the pages' Content-Security-Policy stopped
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._dialog)
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.blocked.append(message.text)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def _tab(browser: Browser, viewport: dict) -> Iterator[Tab]:
    tab = Tab(browser, viewport)
    yield tab
    tab.context.close()
    assert not tab.errors, f"script errors on the page: {tab.errors}"
    # the pages keep to their own policy: a blocked style or script would be a page that looks or works wrong
    assert not tab.blocked, f"the page broke its Content-Security-Policy: {tab.blocked}"


@pytest.fixture
def tab(browser) -> Iterator[Tab]:
    yield from _tab(browser, DESKTOP)


@pytest.fixture
def phone(browser) -> Iterator[Tab]:
    yield from _tab(browser, PHONE)


@pytest.fixture(scope="session")
def media_server(tmp_path_factory) -> Iterator[LiveServer]:
    """Another origin serving a 40-second recording, as a media host would (with byte ranges, so it can seek)."""
    folder = tmp_path_factory.mktemp("media")
    with wave.open(str(folder / "ferry.wav"), "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(1)
        recording.setframerate(8000)
        recording.writeframes(bytes([128]) * 8000 * 40)  # silence is enough to seek in
    with LiveServer(app=StaticFiles(directory=folder)) as server:
        yield server


@pytest.fixture(scope="session")
def web_server(tmp_path_factory, embedder, media_server) -> Iterator[LiveServer]:
    """A writable index of its own: a hostile transcript, a recorded one, and enough others to page through."""
    settings = Settings(index_dir=tmp_path_factory.mktemp("web") / "index")
    with LiveServer(settings, embedder=embedder) as server:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            recorded = {**RECORDED, "media_url": f"{media_server.url}/ferry.wav"}
            fillers = [
                {
                    "id": f"filler-{n:02d}",
                    "title": f"Parish council minutes, meeting {n}",
                    "date": f"2026-01-{n + 1:02d}",
                    "turns": [{"speaker": "Clerk", "text": f"Meeting {n} approved the minutes of the last one."}],
                }
                for n in range(FILLERS)
            ]
            for body in (HOSTILE, recorded, *fillers):
                assert client.post("/documents", json=body).status_code == 201
        yield server


@pytest.fixture(scope="package")
def pages_index(tmp_path_factory, embedder) -> Index:
    """The examples in an index of their own: the pages are the same whatever the backend."""
    index = Index.open(tmp_path_factory.mktemp("pages") / "index", create=True, embedder=embedder)
    ingest_paths(index, [EXAMPLES])
    return index


@pytest.fixture(scope="package")
def locked_server(pages_index) -> Iterator[LiveServer]:
    """The examples behind a key: reads need one too."""
    settings = Settings(index_dir=pages_index.collection.directory, api_keys=KEY, protect_reads=True)
    with LiveServer(settings, embedder=pages_index.embedder) as server:
        yield server


def passage_in_view(page: Page, selector: str) -> bool:
    """The element is on screen, not just on the page."""
    return page.eval_on_selector(
        selector,
        "el => { const r = el.getBoundingClientRect(); return r.height > 0 && r.top >= 0"
        " && r.top < window.innerHeight; }",
    )
