"""Misspellings of one person's name: words glued together, a one-letter slip in the first name."""

from __future__ import annotations

from collections.abc import Mapping

Key = tuple[str, ...]  # a person key: the words of a name, titles gone (speaker_directory.person_key)

# A spelling this many times rarer than another that differs by one letter of the first name is a slip of
# the pen: a site's one-off "Vladmir" beside thousands of "Vladimir". Two people who share a surname and
# both speak often ("Anna Berg", "Anne Berg") stay apart.
RARE_RATIO = 10
MIN_FIRST_NAME = 4  # "Ian" and "Jan" are two names, not a typo


def glued_parent(key: Key, full: list[Key]) -> Key | None:
    """The full name a one-word key is glued from ("ivanpetrov" -> ("ivan", "petrov")), when exactly one is."""
    if len(key) != 1:
        return None
    matches = [f for f in full if len(f) > 1 and "".join(f) == key[0]]
    return matches[0] if len(matches) == 1 else None


def typo_parent(
    key: Key, keys: list[Key], weight: Mapping[Key, int], documents: Mapping[Key, set[str]]
) -> Key | None:
    """The spelling `key` is a slip of: same other words, a first name one letter away, and the evidence agrees
    (it is RARE_RATIO times rarer, or both appear in one document). None when no one, or several, fit."""
    if len(key) < 2:
        return None
    found = [
        other
        for other in keys
        if other != key
        and len(other) == len(key)
        and other[1:] == key[1:]
        and max(len(other[0]), len(key[0])) >= MIN_FIRST_NAME
        and one_edit_apart(other[0], key[0])
        and (_rarer(key, other, weight) or documents.get(key, set()) & documents.get(other, set()))
        and weight.get(other, 0) >= weight.get(key, 0)
    ]
    if len(found) != 1:
        return None
    other = found[0]
    # of two equally frequent spellings in one document, one must stand: the one that sorts first
    return other if weight.get(other, 0) > weight.get(key, 0) or other < key else None


def _rarer(key: Key, other: Key, weight: Mapping[Key, int]) -> bool:
    return weight.get(key, 0) * RARE_RATIO <= weight.get(other, 0)


def one_edit_apart(a: str, b: str) -> bool:
    """One letter replaced, added, dropped, or two neighbours swapped ("Vladmir"/"Vladimir", "Iwan"/"Ivan")."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        return len(diff) == 1 or swapped
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
