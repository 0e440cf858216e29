"""Saved web pages of transcripts (.html): the article's text found by trafilatura, then read as plain text."""

from __future__ import annotations

import dataclasses

from rag.errors import ParseError
from rag.models import Transcript
from rag.parsing import metadata
from rag.parsing.plaintext import parse_text
from rag.parsing.speakers import label_shape_ok

HTML_EXTRA = "pip install 'transcript-rag[html]'"
# Only dates the page states in its markup (meta tags, <time>); a wider search reads "© 2026" as 1 January.
_DATE_SEARCH = {"extensive_search": False, "original_date": True}
_BLOCKS = {"p", "head", "quote", "item", "row", "code"}
_NESTED_BLOCKS = {"p", "head", "quote", "item", "list", "row", "cell", "table", "code"}


def parse_html(text: str, source: str) -> Transcript:
    """Menus, breadcrumbs, footers, share links and cookie banners are left out; paragraphs are kept."""
    try:
        import trafilatura  # here, not at the top: a large import that only HTML pages need
    except ImportError:
        raise ParseError(source, f"reading HTML pages needs the html extra: {HTML_EXTRA}") from None

    try:
        page = trafilatura.bare_extraction(
            text,
            with_metadata=True,
            include_formatting=True,
            include_comments=False,
            include_images=False,
            include_links=False,
            include_tables=True,
            date_extraction_params=_DATE_SEARCH,
        )
    except Exception as exc:  # the library's parsers raise many kinds on malformed pages
        raise ParseError(source, f"cannot read the HTML page: {exc}") from None
    body = getattr(page, "body", None) if page is not None else None
    if body is None:
        raise ParseError(source, "no article text found in the HTML page")
    title = " ".join((page.title or "").split()) or metadata.file_stem(source)

    notes: list[str] = []
    paragraphs: list[str] = []
    for element in body:
        for block, italic in _paragraphs(element):
            if not paragraphs and (italic or block == title):
                notes.append(block)  # a standfirst in italics or the headline again, above the transcript
            else:
                paragraphs.append(block)
    if not paragraphs:  # all of it in italics: then the italics are the transcript
        paragraphs = [note for note in notes if note != title]
    if not paragraphs:
        raise ParseError(source, "no transcript text found in the HTML page")
    transcript = parse_text("\n\n".join(paragraphs), source, title=title)
    date = page.date or transcript.date or next((found[0] for found in map(metadata.find_date, notes) if found), None)
    return dataclasses.replace(transcript, date=date)


def _paragraphs(element) -> list[tuple[str, bool]]:
    """(text, wholly in italics) of each paragraph-like block; a table row 'Name | words' reads 'Name: words'."""
    tag = element.tag
    if tag in ("list", "table"):
        return [block for child in element for block in _paragraphs(child)]
    if tag == "row":
        cells = [_text(cell) for cell in element]
        cells = [c for c in cells if c]
        if len(cells) > 1 and label_shape_ok(cells[0]) and not cells[0].endswith(":"):
            return [(f"{cells[0]}: {' '.join(cells[1:])}", False)]
        return [(" ".join(cells), False)] if cells else []
    text = _text(element)
    if not text:
        return []
    if tag not in _BLOCKS:
        return [(text, False)]
    italic = [child for child in element if child.tag == "hi" and "#i" in (child.get("rend") or "")]
    outside = (element.text or "").strip() or any((child.tail or "").strip() for child in element)
    wholly_italic = bool(italic) and len(italic) == len(element) and not outside
    return [(text, wholly_italic)]


def _text(element) -> str:
    """The element's text with line breaks kept, so that a label after a <br> starts its own line."""
    parts: list[str] = []
    _collect(element, parts)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _collect(node, parts: list[str]) -> None:
    parts.append(node.text or "")
    for child in node:
        if child.tag == "lb":
            parts.append("\n")
        elif child.tag in _NESTED_BLOCKS:  # paragraphs inside a quote or a cell stay apart
            parts.append("\n")
            _collect(child, parts)
            parts.append("\n")
        else:
            _collect(child, parts)
        parts.append(child.tail or "")
