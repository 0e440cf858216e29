"""The speaker directory of a collection: who is who across spellings, and names in questions.

"Sergey Lavrov", "Lavrov", "S. Lavrov" and "Foreign Minister Sergey Lavrov" are one person. The
directory is computed from the speaker names as written plus the user's renames and merges, so it
is always in step with the collection and changing it never touches the vectors.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rag.errors import InvalidInputError
from rag.parsing.speakers import person_name, strip_parentheticals

_TOKEN = re.compile(r"[\w'’]+")
# Post-nominals and honorifics that are not part of a name ("Kirsty Williams AM", "Hon. X").
_HONORIFICS = {"hon", "mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "am", "mp", "mla", "mep", "mpp"}


def _tokens(text: str) -> list[str]:
    return [t.lower().replace("’", "'") for t in _TOKEN.findall(text)]


def person_key(name: str) -> tuple[str, ...]:
    """The words that identify a person: titles, honorifics and parentheticals removed.

    A label that would be left as a bare letter ("Professor B", "PhD F") keeps its words.
    """
    core = strip_parentheticals(name)
    words = tuple(t for t in _tokens(person_name(core)) if t not in _HONORIFICS)
    if not words or (len(words) == 1 and len(words[0]) == 1):
        return tuple(_tokens(core)) or tuple(_tokens(name))
    return words


def _display(name: str) -> str:
    core = strip_parentheticals(name)
    words = [w for w in person_name(core).split() if w.lower().rstrip(".") not in _HONORIFICS]
    if len(words) > 1 or (words and len(words[0].rstrip(".")) > 1):
        return " ".join(words)
    return core or name


@dataclass
class Directory:
    """Canonical names for the speakers of a collection."""

    canonical: dict[str, str] = field(default_factory=dict)  # name as written -> canonical name
    members: dict[str, set[str]] = field(default_factory=dict)  # canonical name -> names as written
    _aliases: list[tuple[str, str, str]] | None = None  # (alias, how it may appear, canonical name)

    def canonical_of(self, name: str) -> str:
        return self.canonical.get(name, name)

    def resolve(self, name: str) -> set[str]:
        """The names as written that a filter value means: a name, a canonical name or a surname."""
        name = name.strip()
        if name in self.canonical:
            return set(self.members[self.canonical[name]])
        if name in self.members:
            return set(self.members[name])
        key = person_key(name)
        matches = {c for c, members in self.members.items() if any(person_key(m) == key for m in members)}
        if not matches and len(key) == 1:
            matches = {c for c in self.members if person_key(c)[-1:] == key}
        if len(matches) > 1:
            raise InvalidInputError(
                f"speaker {name!r} is ambiguous: it could be {', '.join(sorted(matches))}", field="speaker"
            )
        return set(self.members[matches.pop()]) if matches else set()

    def named_in(self, question: str) -> set[str]:
        """Names as written of the speakers a question mentions ("What did Lavrov say ...")."""
        words = _TOKEN.findall(question)
        lowered = f" {' '.join(w.lower() for w in words)} "
        capitalised = {w.lower() for w in words if w[:1].isupper()}
        letters = {w for w in words[1:] if len(w) == 1 and w.isupper() and w != "I"}
        found: set[str] = set()
        for alias, how, canonical in self.aliases():
            if (
                (how == "phrase" and f" {alias} " in lowered)
                or (how == "name" and alias in capitalised)
                or (how == "letter" and alias.upper() in letters)
            ):
                found |= self.members[canonical]
        return found

    def aliases(self) -> list[tuple[str, str, str]]:
        """Every way a question may name someone: (alias, "phrase" | "name" | "letter", canonical)."""
        if self._aliases is None:
            word_use = Counter(w for c in self.members for w in set(person_key(c)))
            self._aliases = [
                (alias, how, canonical)
                for canonical, members in self.members.items()
                for alias, how in set(_aliases(canonical, members, word_use))
            ]
        return self._aliases


def _aliases(canonical: str, members: set[str], word_use: Counter) -> Iterable[tuple[str, str]]:
    """How a question may name this person: full phrases, a distinctive single name, a letter."""
    for name in {canonical, *members}:
        words = _tokens(strip_parentheticals(name))
        if len(words) > 1:
            yield " ".join(words), "phrase"
            key = person_key(name)
            if len(key) > 1:
                yield " ".join(key), "phrase"
            if len(words) == 2 and len(words[1]) == 1:  # "PhD F": "F", and "the phd" / "the professor"
                yield words[1], "letter"
                yield f"the {words[0]}", "phrase"
        elif words:
            yield words[0], "name"
    key = person_key(canonical)
    if len(key) > 1:
        for word in (key[0], key[-1]):
            if len(word) > 2 and word_use[word] == 1:  # a first name or surname no one else has
                yield word, "name"


def build_directory(names: Iterable[str], overrides: Mapping[str, str] = {}) -> Directory:
    """Group the names as written into people by conservative rules, then apply the user's overrides.

    Same words once titles are gone: one person. A single name, an initial and surname, or a
    longer form ending in a known full name joins that full name when exactly one fits.
    """
    counts = Counter(n for n in names if n)
    by_key: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for name in counts:
        by_key[person_key(name)].add(name)
    # a full name has a first name of its own, not an initial
    full = [k for k in by_key if len(k) > 1 and len(k[0]) > 1]
    parent: dict[tuple[str, ...], tuple[str, ...]] = {}
    for key in by_key:
        candidates = [f for f in full if f != key and _same_person(key, f)]
        if len(candidates) == 1:
            parent[key] = candidates[0]

    def root(key: tuple[str, ...]) -> tuple[str, ...]:
        seen = set()
        while key in parent and key not in seen:
            seen.add(key)
            key = parent[key]
        return key

    groups: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for key, members in by_key.items():
        groups[root(key)] |= members
    directory = Directory()
    for key, members in groups.items():
        # the fullest spelling of the name the others joined
        best = max(
            (n for n in members if person_key(n) == key), key=lambda n: (sum(map(len, key)), counts[n], -len(n), n)
        )
        canonical = _display(best)
        for member in members:
            directory.canonical[member] = canonical
    for name, canonical in overrides.items():
        for member in [m for m, c in directory.canonical.items() if name in (m, c)]:
            directory.canonical[member] = canonical
    for member, canonical in directory.canonical.items():
        directory.members.setdefault(canonical, set()).add(member)
    return directory


def _same_person(short: tuple[str, ...], full: tuple[str, ...]) -> bool:
    """Is `short` ("lavrov", "s lavrov", "healthcare minister x y") another way to write `full`?"""
    if len(short) == 1:
        return short[0] == full[-1]
    if len(short) == 2 and len(short[0]) == 1 and len(full) == 2:
        return short[1] == full[1] and full[0].startswith(short[0])
    return len(short) > len(full) and short[-len(full) :] == full
