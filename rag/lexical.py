"""The terms BM25 counts: words stemmed, stop words dropped; a question's framing words left out."""

from __future__ import annotations

import functools
import re

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from rag.textclean import clean_for_index

_STEMMER = Stemmer.Stemmer("english")
_TERM = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)
SENTENCE_CACHE = 20_000  # sentences whose terms are kept (a few MB per worker)


def terms_among(text: str, wanted: set[str]) -> set[str]:
    """Which of the `wanted` terms a text holds: `terms` without the markup clean-up, for scanning many
    sentences quickly (markup and split contractions hold no question terms)."""
    return _sentence_terms(text) & wanted


@functools.lru_cache(maxsize=SENTENCE_CACHE)
def _sentence_terms(text: str) -> frozenset[str]:
    # cached: the sentences of the passages that answer questions come back again and again
    return frozenset(_STEMMER.stemWords([w for w in set(_TERM.findall(text.lower())) if w not in _STOPWORDS]))


def terms(text: str) -> list[str]:
    """The stemmed terms of a text, stopwords dropped: what BM25 counts (and highlights match)."""
    return _STEMMER.stemWords([w for w in _TERM.findall(clean_for_index(text).lower()) if w not in _STOPWORDS])


# Words that frame a question about a transcript rather than say what it is about ("Summarize the
# discussion about...", "What did X think about..."): every meeting has them, so they only add noise.
_FRAMING = frozenset(
    _STEMMER.stemWords(
        [
            "summarize",
            "summarise",
            "summary",
            "discussion",
            "discussions",
            "discuss",
            "discussed",
            "talk",
            "talked",
            "talking",
            "say",
            "said",
            "says",
            "saying",
            "think",
            "thought",
            "thinks",
            "opinion",
            "opinions",
            "view",
            "views",
            "mention",
            "mentioned",
            "meeting",
            "group",
            "team",
            "member",
            "members",
            "according",
        ]
    )
)


def query_terms(question: str) -> list[str]:
    """A question's terms without its framing words, unless nothing else is left."""
    all_terms = terms(question)
    return [t for t in all_terms if t not in _FRAMING] or all_terms
