"""Who speaks: label shapes, the principal speaker of a document, and question/answer roles."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from rag.models import ANSWER, NARRATION, QUESTION, STATEMENT, Turn

UNKNOWN = "Unknown"

# Labels that stand for a role rather than a person; a question from the floor keeps its label.
_QUESTION_LABEL = re.compile(
    r"^(?:q|question|questions|journalist|reporter|correspondent|audience(?: member)?|"
    r"interviewer|unidentified (?:journalist|reporter))\b",
    re.IGNORECASE,
)
_ANSWER_LABEL = re.compile(r"^(?:a|answer|response|reply|interviewee)\.?\s*(?:\(.*\))?$", re.IGNORECASE)
ROLE_WORDS = {
    "q",
    "a",
    "question",
    "answer",
    "moderator",
    "interviewer",
    "interviewee",
    "host",
    "journalist",
    "reporter",
    "correspondent",
    "chair",
    "chairman",
    "chairwoman",
    "speaker",
    "participant",
    "remark",
    "narrator",
    "voice",
    "audience",
    "presenter",
    "anchor",
    "president",
    "minister",
    "secretary",
    "spokesperson",
    "spokesman",
    "spokeswoman",
    "senator",
    "clerk",
    "operator",
    "translator",
    "interpreter",
    "commissioner",
    "witness",
    "judge",
    "announcer",
    "response",
    "reply",
}
# Small words that may sit inside a name or title ("President of Russia", "Ursula von der Leyen").
_CONNECTORS = {
    "of",
    "the",
    "de",
    "da",
    "do",
    "dos",
    "du",
    "del",
    "della",
    "der",
    "den",
    "van",
    "von",
    "al",
    "el",
    "bin",
    "ibn",
    "la",
    "le",
    "and",
    "for",
    "di",
    "zu",
    "ter",
    "st",
}
# Words that begin sentences rather than names: "In Moscow: ..." is not a speaker.
SENTENCE_OPENERS = {
    "in",
    "on",
    "at",
    "as",
    "but",
    "and",
    "if",
    "when",
    "then",
    "so",
    "for",
    "from",
    "to",
    "with",
    "by",
    "after",
    "before",
    "during",
    "this",
    "that",
    "these",
    "those",
    "it",
    "we",
    "you",
    "he",
    "she",
    "they",
    "our",
    "my",
    "your",
    "his",
    "her",
    "their",
    "note",
    "re",
    "subject",
    "here",
    "there",
    "what",
    "why",
    "how",
    "where",
    "who",
    "which",
    "yes",
    "no",
    "well",
    "now",
    "today",
    "yesterday",
    "tomorrow",
    "first",
    "second",
    "finally",
    "also",
    "please",
    "thank",
    "thanks",
    "dear",
    "ladies",
    "colleagues",
    "friends",
    "example",
    "see",
    "source",
    "update",
    "warning",
    "tip",
    "step",
    "answer:",
    "result",
    "conclusion",
    "summary",
}
# Particles of long titles ("Chairman of the Committee on Budget and Taxes in the State Duma Oleg Ivanov",
# "Envoy to the Ural Federal District"), believed only in labels of LONG_LABEL_WORDS or more: in a short one
# they make sentences ("Welcome to Moscow:") look like labels.
_PARTICLES = {"on", "at", "in", "to", "under"}
LONG_LABEL_WORDS = 5
# "Deputy Director of the Regional Institute of Marine Biology at Tomsk University Anna Petrova": 14 words;
# longer runs of capitalised words before a colon are headings and list items more often than speakers.
MAX_LABEL_WORDS = 14
MAX_LABEL_CHARS = 160
# Sentence openers that also begin titles: "First Deputy Prime Minister ...", not "First, ...".
_TITLE_OPENERS = {"first"}
_ELIDED = re.compile(r"^[a-z]{1,3}['’][A-Z]")  # d'Entremont, l'Heureux
_PAREN = re.compile(r"\([^()]*\)")
_TITLES = re.compile(
    r"\b(?:foreign|prime|deputy|first|acting|chief|vice|defence|defense|finance|state|"
    r"minister|president|secretary|chancellor|ambassador|spokesperson|spokesman|spokeswoman|"
    r"director|general|chairman|chairwoman|chair|senator|governor|mayor|king|queen|prince|"
    r"his|her|excellency|majesty|hon|honourable|honorable|mr|mrs|ms|dr|prof|professor|sir|"
    r"madam|lord|lady|of|the|russia|russian|federation)\b\.?",
    re.IGNORECASE,
)
_NAME = r"[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|of|the|de|von|van|der|al|bin)){0,6}"
_PRINCIPAL_PATTERNS = [
    # "Foreign Minister Sergey Lavrov's statement and answers ..."
    re.compile(
        rf"(?P<name>{_NAME})['’]s\s+(?:\w+\s+){{0,2}}?(?:statement|remarks|speech|address|"
        r"interview|answers|comments|briefing|lecture|article|opening|press|news|message|"
        r"greetings|report|responses|keynote)",
    ),
    # "Remarks by President X", "Interview of Y", "Statement by Z"
    re.compile(
        r"(?:statement|remarks|speech|address|interview|comments|briefing|lecture|message|"
        rf"greetings|keynote|conference|answers)\s+(?:by|of|given by|delivered by)\s+(?P<name>{_NAME})",
        re.IGNORECASE,
    ),
]


def strip_parentheticals(label: str) -> str:
    """'The Chair (Hon. A (B, C))' -> 'The Chair'."""
    previous = None
    while previous != label:
        previous, label = label, _PAREN.sub(" ", label)
    return " ".join(label.split())


def label_shape_ok(label: str) -> bool:
    """Could this text before a colon be a speaker label (a name, title or role)?"""
    if not label or len(label) > MAX_LABEL_CHARS or label != label.strip():
        return False
    if label.count("(") != label.count(")"):
        return False
    core = strip_parentheticals(label.replace("*", ""))
    words = core.split()
    if not 1 <= len(words) <= MAX_LABEL_WORDS:
        return False
    if any(ch in core for ch in '?!;"“”[]{}<>|/=@#'):
        return False
    if _opens_a_sentence(words):
        return False
    particles = _CONNECTORS | (_PARTICLES if len(words) >= LONG_LABEL_WORDS else set())
    if words[-1].lower() in particles:
        return False
    for word in words:
        head = word.lstrip("'‘’\"-")
        if not head:
            return False
        if head[0].isupper() or head[0].isdigit():
            continue
        if word.lower() in particles or _ELIDED.match(word):
            continue
        return False
    return True


def _opens_a_sentence(words: list[str]) -> bool:
    """'In Moscow', 'First, ...' begin sentences; 'First Deputy Prime Minister' begins a title."""
    first = words[0].lower()
    if first not in SENTENCE_OPENERS or first in ROLE_WORDS:
        return False
    return not (first in _TITLE_OPENERS and len(words) > 2 and _TITLES.fullmatch(words[1]) is not None)


def trusted_labels(labels: Iterable[str]) -> set[str]:
    """The labels of a document to believe: a one-word label only when it recurs, is a role, is upper case,
    is the surname of a speaker named in full or is that full name glued together.

    "Capacity: we just haven't ..." at the start of a paragraph is text, while "Putin:" or
    "Marketing:" recur and "Question:" is a role.
    """
    counts = Counter(labels)
    multiword = {label for label in counts if len(strip_parentheticals(label).split()) > 1}
    surnames = {key.split()[-1] for key in map(name_key, multiword) if key}
    # "IvanPetrov:", a name the site glued together, is the "Ivan Petrov" labelled elsewhere
    glued = {name_key(person_name(label)).replace(" ", "") for label in multiword}
    trusted = set(multiword)
    for label in counts.keys() - multiword:
        key = name_key(label)
        upper = label.isupper() and len(label) > 1
        if counts[label] > 1 or key in ROLE_WORDS or key in surnames or key in glued or upper:
            trusted.add(label)
    return trusted


def is_question_label(label: str) -> bool:
    return bool(_QUESTION_LABEL.match(label.strip()))


def is_answer_label(label: str) -> bool:
    return bool(_ANSWER_LABEL.match(label.strip()))


def name_key(name: str) -> str:
    """A comparison key: lower case, parentheticals and punctuation gone."""
    core = strip_parentheticals(name)
    return " ".join(re.sub(r"[^\w\s]", " ", core.lower()).split())


def person_name(candidate: str) -> str:
    """A title-free name: "Foreign Minister Sergey Lavrov" -> "Sergey Lavrov"."""
    stripped = " ".join(_TITLES.sub(" ", candidate).split())
    return stripped or candidate


def title_names_a_speech(title: str) -> bool:
    """Does the title name someone as giving it ("Press briefing by Minister X", "X's remarks ...")?"""
    return any(pattern.search(title or "") for pattern in _PRINCIPAL_PATTERNS)


def principal_speaker(title: str, labelled: list[str]) -> str:
    """The person a document is by: named in the title, else its most frequent speaker."""
    people = [s for s in labelled if s and not is_question_label(s) and not is_answer_label(s)]
    keys = {name_key(s): s for s in people}
    for pattern in _PRINCIPAL_PATTERNS:
        match = pattern.search(title or "")
        if not match:
            continue
        name = person_name(match.group("name"))
        key = name_key(name)
        for label_key, label in keys.items():
            if label_key and (label_key in key or key in label_key):
                return label
        # "Minister Halvorsen:" in the text is the "Minister Ingrid Halvorsen" of the title.
        for label in people:
            surname = name_key(person_name(label)).split()
            if surname and set(surname) <= set(key.split()):
                return label
        if key:
            return name
    lowered = name_key(title or "")
    in_title = [(lowered.find(k), s) for k, s in keys.items() if k and f" {k} " in f" {lowered} "]
    if in_title:
        return min(in_title)[1]
    if people:
        return Counter(people).most_common(1)[0][0]
    return UNKNOWN


def ends_with_question(text: str) -> bool:
    return text.rstrip().rstrip("\"'”’)»").endswith("?")


def assign_roles(turns: list[Turn]) -> list[Turn]:
    """Mark questions (floor labels, or a turn ending in '?' handed to another speaker) and answers; narration
    stays narration."""
    roles: list[str] = []
    for i, turn in enumerate(turns):
        nxt = turns[i + 1] if i + 1 < len(turns) else None
        handed_over = nxt is not None and nxt.role != NARRATION and nxt.speaker != turn.speaker
        if turn.role == NARRATION:
            roles.append(NARRATION)  # no one's words: neither asks nor answers
        elif is_question_label(turn.speaker) or (handed_over and ends_with_question(turn.text)):
            roles.append(QUESTION)
        elif is_answer_label(turn.speaker) or (
            i > 0 and roles[i - 1] == QUESTION and turns[i - 1].speaker != turn.speaker
        ):
            roles.append(ANSWER)
        else:
            roles.append(STATEMENT)
    return [Turn(t.speaker, t.text, role, t.start, t.end) for t, role in zip(turns, roles, strict=True)]
