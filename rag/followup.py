"""Follow-up questions resolved against the conversation so far: who "he" is, what "it" is about."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.speaker_directory import Directory

# "about X" and its synonyms: X, up to the end of the clause, is what the question is about
_TOPIC = re.compile(
    r"\b(?:about|regarding|concerning|on the subject of|with regard to|in relation to|as for|as to"
    r"|(?:views?|opinion|position|stance|thoughts|comments?|remarks?|say|said|line|take)\s+on)\s+"
    r"(?P<topic>[^?!.;]+)",
    re.IGNORECASE,
)
_FOLLOW_UP = re.compile(
    r"^\s*(?:and|also|but|so|then|plus|what about|how about|what else|anything else|any more|more)\b",
    re.IGNORECASE,
)
_PERSON = re.compile(r"\b(?:he|she|him|her|his|hers|they|them|their|theirs)\b", re.IGNORECASE)
_POSSESSIVE = {"his", "hers", "their", "theirs"}
_REFERENCE = re.compile(r"^(?:it|that|this|these|those|them|the same(?: thing| subject| topic)?)$", re.IGNORECASE)
# words that ask, point or tie a question to the last one, but say nothing about its subject
_FUNCTION_WORDS_TEXT = """
    what who whom whose which why how when where whether did does do done doing is are was were be been being
    has have had will would could should can may might must shall say says said saying tell told mention
    mentioned talk talked speak spoke think thought comment commented add added answer answered reply replied
    anything something everything else more other also and but or so then plus too the a an about on of to in
    for with from at by regarding concerning as it its it's that this these those he she him her his hers they
    them their theirs i you we me us our your any there here again please really ok okay yes no not just
    further later view views opinion position stance
"""
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())
_WORD = re.compile(r"[\w'’-]+")
SHORT_QUESTION_WORDS = 3  # "Migration?" is a follow-up even without a cue word


@dataclass(frozen=True)
class Resolution:
    """A question made self-contained: the text to search with, and what came from earlier turns."""

    text: str
    speakers: tuple[str, ...] = ()  # canonical names the question is about, its own or carried over
    topic: str | None = None
    carried_speakers: tuple[str, ...] = ()  # taken from the conversation, not the question
    carried_topic: str | None = None


def resolve_followup(question: str, history: Sequence[str], directory: Directory) -> Resolution:
    """The question as a self-contained search, given the user's earlier questions (oldest first).

    No language model is at hand, so the rules are few and literal. A question that names no speaker
    but refers back to one (a pronoun, "and ...", "what about ...", a bare "Migration?") gets the
    speaker the conversation named last; one without a topic of its own, or whose topic is "it" or
    "that", gets the last topic. What a question says itself wins: "and what did he say about
    migration?" is about migration, said by the earlier speaker.
    """
    state = Resolution(text="")
    for turn in history:
        if turn and turn.strip():
            state = _resolve(turn, state, directory)
    return _resolve(question, state, directory)


def _resolve(question: str, earlier: Resolution, directory: Directory) -> Resolution:
    text = question.strip()
    named = _canonical_names(text, directory)
    topic = _own_topic(text, directory)
    short = len(_WORD.findall(text)) <= SHORT_QUESTION_WORDS
    follow_up = bool(_FOLLOW_UP.match(text) or _PERSON.search(text)) or short
    additions: list[str] = []

    carried_speakers: tuple[str, ...] = ()
    if not named and follow_up and earlier.speakers:
        carried_speakers = earlier.speakers
        who = " and ".join(carried_speakers)
        text, replaced = _replace_first_person(text, who)
        if not replaced:
            additions.append(who)

    carried_topic = None
    if topic is not None and _REFERENCE.match(topic) and earlier.topic:
        carried_topic = earlier.topic
        text = _replace_topic(text, topic, carried_topic)
    elif topic is None and follow_up and earlier.topic:
        carried_topic = earlier.topic
        additions.append(f"about {carried_topic}")
    if additions:
        text = f"{text} ({'; '.join(additions)})"
    return Resolution(
        text=text,
        speakers=named or carried_speakers,
        topic=carried_topic or topic,
        carried_speakers=carried_speakers,
        carried_topic=carried_topic,
    )


def _canonical_names(text: str, directory: Directory) -> tuple[str, ...]:
    """Canonical names of the speakers a text names, in the order it names them.

    A surname several people share stands for the one of them who speaks most: "he" in the next question
    is one person, and the likeliest.
    """
    people = directory.named_people(text)
    names = {p for p, weight in people.items() if weight >= 1.0}
    ambiguous = [(weight, p) for p, weight in people.items() if weight < 1.0]
    if ambiguous:
        names.add(max(ambiguous)[1])
    lowered = text.lower()

    def position(name: str) -> tuple[int, str]:
        found = [lowered.find(w.lower()) for w in name.split() if w.lower() in lowered]
        return (min(found) if found else len(lowered), name)

    return tuple(sorted(names, key=position))


def _own_topic(text: str, directory: Directory) -> str | None:
    """What a question is about, in its own words; None when it does not say."""
    matches = list(_TOPIC.finditer(text))
    if matches:
        topic = matches[-1].group("topic").strip()
        # "what about Keller?" changes the speaker, not the topic: look at the other words
        if _REFERENCE.match(topic) or not (directory.named_in(topic) and len(_WORD.findall(topic)) <= 4):
            return topic
    words = [
        w
        for w in _WORD.findall(text)
        if w.lower().replace("’", "'") not in _FUNCTION_WORDS and not directory.named_in(w)
    ]
    return " ".join(words) or None


def _replace_first_person(text: str, who: str) -> tuple[str, bool]:
    """The first pronoun standing for a person replaced by their name ("his" by "X's")."""
    match = _PERSON.search(text)
    if match is None:
        return text, False
    name = f"{who}’s" if match.group().lower() in _POSSESSIVE else who
    return text[: match.start()] + name + text[match.end() :], True


def _replace_topic(text: str, reference: str, topic: str) -> str:
    """ "... about it?" -> "... about <the earlier topic>?" (the last mention, where the topic was read)."""
    at = text.lower().rfind(reference.lower())
    return text[:at] + topic + text[at + len(reference) :]
