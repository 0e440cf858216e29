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
from rag.name_variants import glued_parent, typo_parent
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
    passages: Counter = field(default_factory=Counter)  # canonical name -> passages under all their names
    variants: set[str] = field(default_factory=set)  # names as written joined as misspellings (glued, a typo)
    _aliases: list[tuple[str, str, str, bool]] | None = None  # (alias, how it may appear, canonical, ambiguous)

    def canonical_of(self, name: str) -> str:
        return self.canonical.get(name, name)

    def resolve(self, name: str) -> set[str]:
        """The names as written that a rename or merge means: a name, a canonical name or a surname.

        A misspelling the directory joined to someone (see `variants`) means only itself, so that renaming
        it takes it out of that person again. A surname two people share is an error naming both.
        """
        name = name.strip()
        if name in self.variants:
            return {name}
        people = self.people(name)
        if len(people) > 1:
            raise InvalidInputError(
                f"speaker {name!r} is ambiguous: it could be {', '.join(sorted(people))}", field="speaker"
            )
        return set().union(*people.values())

    def people(self, name: str) -> dict[str, set[str]]:
        """Everyone a filter value may mean, canonical name -> names as written: the person a name, canonical
        name or full name is, or every person a surname (or another single name) may be."""
        name = name.strip()
        if name in self.canonical:
            return {self.canonical[name]: set(self.members[self.canonical[name]])}
        if name in self.members:
            return {name: set(self.members[name])}
        key = person_key(name)
        matches = {c for c, members in self.members.items() if any(person_key(m) == key for m in members)}
        if not matches and len(key) == 1:
            matches = {c for c in self.members if person_key(c)[-1:] == key}
        return {c: set(self.members[c]) for c in matches}

    def named_in(self, question: str) -> set[str]:
        """Names as written of the speakers a question mentions ("What did Lavrov say ..."), ambiguous
        surnames included."""
        return set().union(*(self.members[c] for c in self.named_people(question)))

    def named_people(self, question: str) -> dict[str, float]:
        """The people a question mentions, canonical name -> how likely it means them.

        A name, or a single name no one else has, means its person (1.0). A surname several people share
        ("Petrov") may mean each of them, in proportion to how much each speaks in the collection.
        """
        words = _TOKEN.findall(question)
        lowered = f" {' '.join(w.lower() for w in words)} "
        capitalised = {w.lower() for w in words if w[:1].isupper()}
        letters = {w for w in words[1:] if len(w) == 1 and w.isupper() and w != "I"}
        found: dict[str, float] = {}
        shared: dict[str, set[str]] = defaultdict(set)  # an ambiguous name -> the people it may mean
        for alias, how, canonical, ambiguous in self.aliases():
            if (
                (how == "phrase" and f" {alias} " in lowered)
                or (how == "name" and alias in capitalised)
                or (how == "letter" and alias.upper() in letters)
            ):
                if ambiguous:
                    shared[alias].add(canonical)
                else:
                    found[canonical] = 1.0
        for people in shared.values():
            if people & found.keys():  # "Ivan Petrov ... Petrov": the one named in full
                continue
            total = sum(self.passages[c] for c in people) or len(people)
            for person in people:
                share = (self.passages[person] or 1) / total
                found[person] = max(found.get(person, 0.0), share)
        return found

    def aliases(self) -> list[tuple[str, str, str, bool]]:
        """Every way a question may name someone: (alias, "phrase" | "name" | "letter", canonical, ambiguous)."""
        if self._aliases is None:
            word_use = Counter(w for c in self.members for w in set(person_key(c)))
            self._aliases = [
                (alias, how, canonical, ambiguous)
                for canonical, members in self.members.items()
                for alias, how, ambiguous in set(_aliases(canonical, members, word_use))
            ]
        return self._aliases


def _aliases(canonical: str, members: set[str], word_use: Counter) -> Iterable[tuple[str, str, bool]]:
    """How a question may name this person: full phrases, a single name (ambiguous when a surname others have
    too), a letter."""
    for name in {canonical, *members}:
        words = _tokens(strip_parentheticals(name))
        if len(words) > 1:
            yield " ".join(words), "phrase", False
            key = person_key(name)
            if len(key) > 1:
                yield " ".join(key), "phrase", False
            if len(words) == 2 and len(words[1]) == 1:  # "PhD F": "F", and "the phd" / "the professor"
                yield words[1], "letter", False
                yield f"the {words[0]}", "phrase", False
        elif words:
            yield words[0], "name", False
    key = person_key(canonical)
    if len(key) > 1:
        if len(key[0]) > 2 and word_use[key[0]] == 1:  # a first name no one else has
            yield key[0], "name", False
        if len(key[-1]) > 2:  # a surname: theirs alone, or shared
            yield key[-1], "name", word_use[key[-1]] > 1


def build_directory(
    names: Iterable[str] | Mapping[str, int],
    overrides: Mapping[str, str] = {},
    *,
    documents: Mapping[str, set[str]] | None = None,
) -> Directory:
    """Group the names as written into people by conservative rules, then apply the user's overrides.

    `names` may carry each name's passages (a mapping), and `documents` the documents each name speaks
    in: the evidence for joining misspellings.

    Same words once titles are gone (case, stage directions in parentheses): one person. A single name, an
    initial and surname, or a longer form ending in a known full name joins that full name when exactly
    one fits. A name glued together ("IvanPetrov") joins the full name it spells; a first name one letter
    off ("Iwan Petrov") joins the other spelling when it is far rarer or they share a document.
    """
    weights = Counter({n: c for n, c in names.items() if n} if isinstance(names, Mapping) else (n for n in names if n))
    counts = Counter(weights.keys())  # the canonical spelling is chosen by its words, not by how often it is used
    by_key: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for name in counts:
        by_key[person_key(name)].add(name)
    key_weight = Counter({k: sum(weights[n] for n in members) for k, members in by_key.items()})
    documents = documents or {}
    key_documents = {k: set().union(*(documents.get(n, set()) for n in members)) for k, members in by_key.items()}
    # a full name has a first name of its own, not an initial
    full = [k for k in by_key if len(k) > 1 and len(k[0]) > 1]
    # each rule below compares a key only with full names that share what it requires (the glued words, the
    # words after the first, the surname): linear in the speakers, not quadratic
    glued, by_tail, by_surname = defaultdict(list), defaultdict(list), defaultdict(list)
    for f in full:
        glued["".join(f)].append(f)
        by_tail[f[1:]].append(f)
        by_surname[f[-1]].append(f)
    parent: dict[tuple[str, ...], tuple[str, ...]] = {}
    misspelt: set[tuple[str, ...]] = set()
    for key in by_key:
        if not key:  # a name of no words (punctuation only): no one else's spelling
            continue
        variant = glued_parent(key, glued.get(key[0], [])) or typo_parent(
            key, by_tail.get(key[1:], []), key_weight, key_documents
        )
        if variant is not None:
            parent[key] = variant
            misspelt.add(key)
            continue
        candidates = [f for f in by_surname.get(key[-1], []) if f != key and _same_person(key, f)]
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
    directory = Directory(variants={n for key in misspelt for n in by_key[key]})
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
        directory.passages[canonical] += weights[member]
    return directory


def _same_person(short: tuple[str, ...], full: tuple[str, ...]) -> bool:
    """Is `short` ("lavrov", "s lavrov", "healthcare minister x y") another way to write `full`?"""
    if len(short) == 1:
        return short[0] == full[-1]
    if len(short) == 2 and len(short[0]) == 1 and len(full) == 2:
        return short[1] == full[1] and full[0].startswith(short[0])
    return len(short) > len(full) and short[-len(full) :] == full
