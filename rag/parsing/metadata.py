"""Document metadata found in titles and headers (date, place, number) and page debris to drop."""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS = [
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.I),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>\d{{4}})\b", re.I),
    re.compile(r"\b(?P<year>\d{4})-(?P<mnum>\d{2})-(?P<day>\d{2})\b"),
]
_PLACE_BEFORE_DATE = re.compile(r"(?:^|,)\s*(?P<place>[A-Z][\w'’.-]*(?:[ -](?:[A-Z][\w'’.-]*|on|upon|de|am))*)\s*,\s*$")
_DOC_NUMBER = re.compile(r"^\d{1,5}-\d{2}-\d{2}-\d{4}$")
_TIME_STAMP = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$")
_BLANKISH = re.compile(r"^[\s\u00a0\u200b\u2007\u202f\ufeff•·*_=~-]*$")
_TRAILERS = re.compile(
    r"^[\s\u00a0•·*-]*(?:additional materials|photos?|photo album|photo gallery|videos?|audio|"
    r"\d+ of \d+ photos? in album|incorrect dates|advanced settings|print version|"
    r"send to a friend|share|back to top|top of page|text version|related news|"
    r"see also|tags|topics|persons)[\s\u00a0]*$",
    re.IGNORECASE,
)


def find_date(text: str) -> tuple[str, re.Match] | None:
    """The first calendar date written in the text, as ISO yyyy-mm-dd, with its match."""
    found = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            iso = _to_iso(match)
            if iso:
                found.append((match.start(), iso, match))
                break
    if not found:
        return None
    _, iso, match = min(found, key=lambda item: item[0])
    return iso, match


def _to_iso(match: re.Match) -> str | None:
    parts = match.groupdict()
    month = _MONTHS[parts["month"].lower()] if parts.get("month") else int(parts["mnum"])
    try:
        return dt.date(int(parts["year"]), month, int(parts["day"])).isoformat()
    except ValueError:
        return None


def find_place(title: str, date_match: re.Match | None) -> str | None:
    """'..., Moscow, February 13, 2025' -> 'Moscow'."""
    if date_match is None:
        return None
    match = _PLACE_BEFORE_DATE.search(title[: date_match.start()])
    if not match:
        return None
    place = match.group("place").strip()
    return place if len(place.split()) <= 4 else None


def is_document_number(line: str) -> bool:
    return bool(_DOC_NUMBER.match(line.strip()))


def is_debris(line: str) -> bool:
    """Page furniture that is no one's words: time stamps, numbers, empty bullets, page trailers."""
    stripped = line.strip()
    return bool(
        _BLANKISH.match(line) or _TIME_STAMP.match(stripped) or _DOC_NUMBER.match(stripped) or _TRAILERS.match(stripped)
    )


def file_stem(source: str) -> str:
    """The title of a file that gives none: its name without the extension."""
    name = re.split(r"[\\/]", source)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name
