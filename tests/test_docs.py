"""The documentation stays true: its links lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#+\s+(.*)$", re.MULTILINE)


def anchors(text: str) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in _HEADING.findall(text)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_of_a_page_leads_to_a_file_and_heading_that_exist(page):
    text = page.read_text()
    broken = []
    for target in _LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file.read_text())):
            broken.append(target)
    assert broken == []


def _shown(default: object) -> str:
    """A default as the settings page writes it."""
    if default is None or default == []:
        return "unset"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, Path):
        return f"`{str(default).replace(str(Path.home()), '~')}`"
    return f"`{default}`"


def test_the_settings_page_lists_every_setting_with_its_default_and_no_other():
    from rag.config import Settings

    rows = {}
    for line in (ROOT / "docs" / "settings.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| `RAG_") and len(cells) >= 3:
            rows[cells[0].strip("`")] = cells[1]
    fields = Settings.model_fields
    defaults = {
        f"RAG_{name.upper()}": f.default_factory() if f.default_factory is not None else f.default
        for name, f in fields.items()
    }
    assert set(rows) == set(defaults)
    assert {name: rows[name] for name in defaults} == {name: _shown(value) for name, value in defaults.items()}
