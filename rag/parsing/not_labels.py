"""Paragraphs shaped like `Label: text` that start no turn: appointment lists, headings, country names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from babel import Locale

from rag.parsing.speakers import (
    ROLE_WORDS,
    SENTENCE_OPENERS,
    is_answer_label,
    is_question_label,
    name_key,
    strip_parentheticals,
)

# A word of a name or title: capitalised ("Pavel", "O'Neill", "St.", "2025"), an initial, or a small word
# inside one ("Sea of Cooperation", "Ursula von der Leyen").
_NAME_WORD = re.compile(r"^(?:[A-Z0-9][\w'’.-]*|of|the|and|for|on|in|at|to|de|da|del|der|van|von|al|la|le)$")
_TRAILING_STOP = re.compile(r"[.;]$")
_PUNCTUATED = re.compile(r"[.,;:?!…]")
# A name or title runs from two words ("Pavel Orlov") to a few ("Sea of Cooperation International Forum");
# one capitalised word ("Yes.", "Agreed.") may be an answer.
MIN_NAME_WORDS, MAX_NAME_WORDS = 2, 8


def refused(labels: Sequence[str | None], texts: Sequence[str]) -> set[int]:
    """The positions of paragraphs whose label is no speaker, given every paragraph's label and text.

    - A label that never starts a turn of speech, only names and titles: an appointment list ("Minister of
      Transport: Pavel Orlov." paragraph after paragraph), a heading or event name ("The Baltic: Sea of
      Cooperation International Forum"), a caption. A name followed by the speaker's words ("Anna Petrova:
      Anna Petrova, Tomsk University." then her question) is a turn.
    - A country: "Germany: ..." in a document whose speakers are named in full is a quotation of a
      country's position, not a speaker.
    """
    speaks: dict[str, bool] = {}  # label -> does it start a turn of speech anywhere?
    for i, (label, text) in enumerate(zip(labels, texts, strict=True)):
        if label:
            alone = i + 1 == len(labels) or labels[i + 1] is not None  # nothing of theirs follows
            named = _name_only(text) and (alone or _heading(text))
            speaks[label] = speaks.get(label, False) or _is_role(label) or not named
    full_names = _named_in_full({label for label in labels if label})
    return {
        i
        for i, label in enumerate(labels)
        if label and (not speaks[label] or (full_names and _is_country(label)))
    }


def _words(text: str) -> list[str]:
    return [w.strip(",–—-") for w in text.split() if w.strip(",–—-")]


def _heading(text: str) -> bool:
    """'Sea of Cooperation International Forum': no punctuation at all, where a name has a full stop."""
    return not _PUNCTUATED.search(text)


def _name_only(text: str) -> bool:
    """'Pavel Orlov.', 'Sea of Cooperation International Forum': a name or title, not a sentence; "Mr President,"
    opens a speech."""
    if text.rstrip().endswith(","):
        return False
    words = _words(_TRAILING_STOP.sub("", text.strip()))
    if not MIN_NAME_WORDS <= len(words) <= MAX_NAME_WORDS or not words[0][:1].isupper():
        return False
    if words[0].lower() in SENTENCE_OPENERS:  # "In Leeds.", "At Home."
        return False
    return all(_NAME_WORD.match(w) for w in words) and not any(ch in text for ch in "?!:\"“”")


def _is_role(label: str) -> bool:
    """'Question', 'Interviewee', 'Q': whoever they are, they speak."""
    return is_question_label(label) or is_answer_label(label) or name_key(label) in ROLE_WORDS


def _named_in_full(distinct: set[str]) -> bool:
    """Do most of the document's labels name people in several words ("Vladimir Putin", not "Jordan")?"""
    labels = [label for label in distinct if not _is_country(label)]
    several = sum(len(strip_parentheticals(label).split()) > 1 for label in labels)
    return bool(labels) and 2 * several > len(labels)


def _is_country(label: str) -> bool:
    name = " ".join(strip_parentheticals(label).split()).lower()
    name = name.removeprefix("the ")
    return name in _countries()


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    """English names of the world's countries and territories, from the CLDR data Babel ships."""
    names = (name for code, name in Locale("en").territories.items() if len(code) == 2 and code.isalpha())
    return frozenset(" ".join(name.replace("&", "and").lower().split()) for name in names)
