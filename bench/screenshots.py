"""Screenshots of the web pages for docs/web.md: the search page (desktop and a 390 px phone) and a transcript.

    python -m bench.screenshots [--out docs]     (or: make screenshots)

A real `rag serve` over an index built from examples/, and Debian's Chromium; the seed question is asked
as a person would (typed, then Enter), and its first result followed to the transcript.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from api.schemas.examples import SEED_QUESTION
from bench.browser import chromium, examples_server
from bench.query import ROOT

SHOTS = {
    "web-search-desktop.png": ({"width": 1280, "height": 960}, 1),
    "web-search-phone.png": ({"width": 390, "height": 844}, 2),
}
TRANSCRIPT = "web-transcript-desktop.png"


def take(out: Path) -> list[Path]:
    """Write the screenshots into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with examples_server() as url, chromium() as browser:
        for name, (viewport, scale) in SHOTS.items():
            context = browser.new_context(viewport=viewport, device_scale_factor=scale, color_scheme="light")
            page = context.new_page()
            page.goto(url + "/")
            page.get_by_label("Question").fill(SEED_QUESTION)
            page.keyboard.press("Enter")
            page.locator(".result").first.wait_for()
            page.get_by_label("Question").blur()  # the focus ring is not part of the design
            page.screenshot(path=out / name)
            written.append(out / name)
            if name == "web-search-desktop.png":
                page.locator(".result").first.get_by_role("link", name="Read it in the transcript").click()
                page.locator(".passage.target").wait_for()
                page.screenshot(path=out / TRANSCRIPT)
                written.append(out / TRANSCRIPT)
            context.close()
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder to write the PNG files into")
    for path in take(parser.parse_args(argv).out):
        print(path)


if __name__ == "__main__":
    main()
