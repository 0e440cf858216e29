"""Days as the collection stores them: YYYY-MM-DD, read the same way wherever a date comes in."""

from __future__ import annotations

import datetime as dt
import re

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DAY_PATTERN = _ISO_DAY.pattern  # for schemas


def iso_day(value: str) -> str | None:
    """The day `value` names in the form YYYY-MM-DD (spaces around it aside), else None."""
    value = value.strip()
    if not _ISO_DAY.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:  # 2025-02-30
        return None
