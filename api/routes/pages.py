"""The web pages: static shells that fill themselves from the public JSON API (no data passes through here)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from api.security import page

WEB = FilePath(__file__).resolve().parent.parent / "web"
# pages and assets are revalidated on every load (a cheap 304), so a new release is never half-cached
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Page:
    """A shell: its <main> from web/pages/NAME.html inside web/layout.html, with its title and script."""

    name: str
    title: str
    nav: str

    def render(self) -> str:
        layout = (WEB / "layout.html").read_text(encoding="utf-8")
        main = (WEB / "pages" / f"{self.name}.html").read_text(encoding="utf-8")
        html = layout.replace("{title}", self.title).replace("{script}", f"{self.name}.js").replace("{main}", main)
        current = f'data-nav="{self.nav}"'
        return html.replace(current, f'{current} aria-current="page"')


SEARCH = Page("search", "Search", "search")
TRANSCRIPTS = Page("transcripts", "Transcripts", "transcripts")
TRANSCRIPT = Page("transcript", "Transcript", "transcripts")


@functools.cache  # read on first use, once: the files do not change while the service runs
def _html(p: Page) -> str:
    return p.render()


def _shell(p: Page) -> HTMLResponse:
    return HTMLResponse(_html(p), headers=NO_CACHE)


@router.get("/")
@page
def search_page() -> HTMLResponse:
    return _shell(SEARCH)


@router.get("/transcripts")
@page
def transcripts_page() -> HTMLResponse:
    return _shell(TRANSCRIPTS)


@router.get("/transcripts/{id}")
@page
def transcript_page(doc_id: Annotated[str, Path(alias="id")]) -> HTMLResponse:
    # the script reads the id from the address and asks GET /documents/{id}; nothing of it is echoed here
    return _shell(TRANSCRIPT)


class _Assets(StaticFiles):
    def file_response(self, *args: object, **kwargs: object) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(NO_CACHE)
        return response


def install(app: FastAPI) -> None:
    """The three pages, and their scripts and styles under /static."""
    app.include_router(router)
    app.mount("/static", _Assets(directory=WEB / "static"), name="static")
