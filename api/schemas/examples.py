"""Example values for the OpenAPI schema, all from the seed press conference."""

from __future__ import annotations

from rag.context import PASSAGE

SEED_QUESTION = "What did Lavrov say about the phone call between Putin and Trump?"


FOLLOW_UP = "and what did he say about migration?"


SEED_TITLE = (
    "Foreign Minister Sergey Lavrov’s statement and answers to media questions at a joint news conference with"
    " Foreign Minister of the Republic of Tajikistan Sirojiddin Mukhriddin following talks, Moscow, February 13, 2025"
)


SEED_DOCUMENT = {
    "id": "000_8fcf709333f4d63f",
    "title": SEED_TITLE,
    "date": "2025-02-13",
    "place": "Moscow",
    "source": "examples/000_8fcf709333f4d63f.txt",
    "media_url": None,
}


SEED_QUESTION_TEXT = (
    "Yesterday, after the phone call between President Trump and Russian President Vladimir Putin, are you more"
    " hopeful now that there can be real and fundamental change and improvement in US-Russian relations? ..."
)


SEED_ANSWER = (
    "First, the very question – if we expect relations between Russia and the United States to improve after"
    " yesterday’s phone call – suggests that they were not normal during the years we lived with the Biden"
    " administration."
)


SEED_PART = {
    "passage_id": 21,
    "speaker": "Sergey Lavrov",
    "canonical_speaker": "Sergey Lavrov",
    "role": "answer",
    "turn_index": 6,
    "start_char": 0,
    "end_char": 220,
    "text": SEED_ANSWER,
    "start": None,
    "end": None,
}


SEED_HIGHLIGHT = {"text": SEED_ANSWER, "start_char": 0, "end_char": 220, "start": None, "end": None}


SEED_RESULT = {
    "rank": 1,
    "score": 0.0328,
    "passage_id": 21,
    "text": SEED_ANSWER,
    "speaker": "Sergey Lavrov",
    "canonical_speaker": "Sergey Lavrov",
    "role": "answer",
    "context": SEED_QUESTION_TEXT,
    "document": SEED_DOCUMENT,
    "turn_index": 6,
    "start_char": 0,
    "end_char": 220,
    "start": None,
    "end": None,
    "parts": [SEED_PART],
    "highlight": SEED_HIGHLIGHT,
}


SEED_LABEL = "Sergey Lavrov, Moscow, 13 February 2025"


SEED_CONTEXT = f"[1] {SEED_LABEL}:\n{SEED_ANSWER}"


SEED_CITATION = {
    "n": 1,
    "label": SEED_LABEL,
    "speaker": "Sergey Lavrov",
    "canonical_speaker": "Sergey Lavrov",
    "role": "answer",
    "document": SEED_DOCUMENT,
    "date": "2025-02-13",
    "start": None,
    "end": None,
    "kind": PASSAGE,
    "text": SEED_ANSWER,
    "quote": SEED_ANSWER,
    "truncated": False,
    "passage_id": 21,
    "passage_ids": [21],
    "turn_index": 6,
    "start_char": 0,
    "end_char": 220,
}
