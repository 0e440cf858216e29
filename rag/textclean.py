"""Text as the indexes see it: transcript markup removed, tokenised contractions rejoined."""

from __future__ import annotations

import re

_MARKUP = re.compile(r"\{(?:disfmarker|vocalsound|gap|pause|comment|nonvocalsound)\}")
# "we 're", "it 's", "do n't" -> "we're", "it's", "don't" (AMI/ICSI tokenisation)
_CONTRACTION = re.compile(r"(\w) (n't|'(?:s|re|ve|ll|d|m)\b)", re.IGNORECASE)
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.?!;:%)])")
_HYPHEN = re.compile(r"(\w) - (\w)")
_SPACES = re.compile(r"[ \t]+")


def clean_for_index(text: str) -> str:
    """What is embedded and scored lexically; the stored and returned text stays as spoken."""
    text = _MARKUP.sub(" ", text)
    text = _CONTRACTION.sub(r"\1\2", text)
    text = _HYPHEN.sub(r"\1-\2", text)
    text = _SPACES.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return text.strip()
