"""Whose words open a page before its first label: the principal speaker's speech, or narration."""

from __future__ import annotations

import re

from rag.models import NARRATOR
from rag.parsing.speakers import principal_speaker, title_names_a_speech

# Titles of pages that open with their principal speaker's own words: "Foreign Minister Sergey Lavrov's
# statement and answers ...", "Address to the Federal Assembly", "Interview to TASS" (and those naming the
# person who gives the briefing, lecture ...: title_names_a_speech). Other pages ("Talks with ...",
# "Meeting with ...") open with a reporter's account.
_SPEECH_TITLE = re.compile(
    r"\b(?:statements?|remarks|address(?:es)?|speech(?:es)?|interviews?|answers?)\b", re.IGNORECASE
)
# case matters: "US" is a country, "i.e." no one
_FIRST_PERSON = re.compile(r"\b(?:I|[Mm]e|[Mm]y|[Mm]ine|[Mm]yself|[Ww]e|[Uu]s|[Oo]urs?|[Oo]urselves)\b")
_QUOTED = re.compile(r"[“\"«][^”\"»]*[”\"»]")
_WORD = re.compile(r"\w+")
# First-person words per word of the opening, quotations left out: speech says "I" and "we" every few
# sentences ("... my good friend Sirojiddin Mukhriddin, and I have concurred ..."); a reporter's account
# ("The talks were held in a restricted format ...") does not, save in what it quotes.
MIN_FIRST_PERSON_RATE = 0.01


def opening_speaker(title: str, labels: list[str], opening: str) -> str:
    """Who says the text before a page's first label: its principal speaker when the title announces their
    statement, remarks, address, speech, interview or answers and the text reads as first person; else no
    one (NARRATOR).

    `labels` are the page's speaker labels in order.
    """
    announced = _SPEECH_TITLE.search(title or "") or title_names_a_speech(title)
    if not announced or not reads_as_first_person(opening):
        return NARRATOR
    return principal_speaker(title, labels)


def reads_as_first_person(text: str) -> bool:
    """Does the text speak as "I" or "we" (outside quotation marks)?"""
    own = _QUOTED.sub(" ", text)
    words = len(_WORD.findall(own))
    mentions = len(_FIRST_PERSON.findall(own))
    return mentions > 0 and mentions >= MIN_FIRST_PERSON_RATE * words
