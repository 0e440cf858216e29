"""Split turns into passages (sentence windows inside one turn) and group them into segments.

A passage never crosses a turn. A segment, the unit that is embedded and searched, is a run of
consecutive passages of one document that fits the model: a long answer is one passage per
segment, while a quick exchange of short turns shares one segment so that it is found as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.models import ANSWER, QUESTION, Passage, Segment, Transcript, Turn
from rag.textclean import clean_for_index

TokenCounter = Callable[[Sequence[str]], list[int]]

# A sentence ends at . ! ? or … (closing quotes/brackets kept), before whitespace;
# a blank line always ends one.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n\s*\n")
_WORD = re.compile(r"\S+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of a text, whitespace excluded."""
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        _add_span(text, start, match.end(), spans)
        start = match.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    if piece.strip():
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + lead, start + len(piece.rstrip())))


def chunk_transcript(
    transcript: Transcript,
    doc_id: str,
    *,
    count_tokens: TokenCounter,
    max_tokens: int,
    overlap_tokens: int = 0,
) -> list[Passage]:
    """Passages for every turn of a transcript, in order.

    Each passage, with its speaker label in front (as it is embedded), fits in max_tokens.
    """
    if max_tokens < 8:
        raise ValueError("max_tokens must be at least 8")
    passages: list[Passage] = []
    speakers = sorted({t.speaker for t in transcript.turns})
    label_tokens = dict(zip(speakers, count_tokens([label(s) for s in speakers]), strict=True))
    for index, turn in enumerate(transcript.turns):
        context = None
        if turn.role == ANSWER and index > 0 and transcript.turns[index - 1].role == QUESTION:
            context = transcript.turns[index - 1].text
        budget = max(8, max_tokens - label_tokens[turn.speaker])
        for start, end in split_turn(turn.text, count_tokens, budget, overlap_tokens):
            passages.append(
                Passage(
                    doc_id=doc_id,
                    turn_index=index,
                    speaker=turn.speaker,
                    role=turn.role,
                    text=turn.text[start:end],
                    start_char=start,
                    end_char=end,
                    context=context,
                    start=_time_at(turn, start),
                    end=_time_at(turn, end),
                )
            )
    return passages


def label(speaker: str) -> str:
    return f"{speaker}: "


def index_text(passages: Sequence[tuple[str, str]]) -> str:
    """What the indexes see of a segment: each (speaker, text) passage's label and cleaned words, a line each."""
    return "\n".join(label(speaker) + clean_for_index(text) for speaker, text in passages)


# An interview exchange: a question of at least this many words answered at least at this length.
# Shorter ones ("Channel three?" - "Two.") are the to and fro of a conversation, grouped as such.
EXCHANGE_QUESTION_WORDS = 8
EXCHANGE_ANSWER_WORDS = 40


def segment_passages(passages: Sequence[Passage], count_tokens: TokenCounter, max_tokens: int) -> list[Segment]:
    """Group consecutive passages into segments of at most max_tokens (labels included).

    The turns of an interview exchange stand in segments of their own: the answer must be
    findable on its own, with the question kept as its context.
    """
    if not passages:
        return []
    pairs = [(p.speaker, p.text) for p in passages]
    sizes = count_tokens([index_text([pair]) for pair in pairs])
    alone = _exchange_turns(passages)
    segments: list[Segment] = []
    first, total = 0, sizes[0]
    for i in range(1, len(passages)):
        new_turn = passages[i].turn_index != passages[i - 1].turn_index
        if total + sizes[i] > max_tokens or (new_turn and {passages[i].turn_index, passages[i - 1].turn_index} & alone):
            segments.append(Segment(first, i - 1, index_text(pairs[first:i])))
            first, total = i, 0
        total += sizes[i]
    segments.append(Segment(first, len(passages) - 1, index_text(pairs[first:])))
    return segments


def _exchange_turns(passages: Sequence[Passage]) -> set[int]:
    """Turn indices of questions and answers that form an interview exchange."""
    words: dict[int, int] = {}
    roles: dict[int, str] = {}
    for p in passages:
        words[p.turn_index] = words.get(p.turn_index, 0) + len(p.text.split())
        roles[p.turn_index] = p.role
    turns = set()
    for turn, role in roles.items():
        answered = roles.get(turn + 1) == ANSWER and words[turn + 1] >= EXCHANGE_ANSWER_WORDS
        if role == QUESTION and answered and words[turn] >= EXCHANGE_QUESTION_WORDS:
            turns |= {turn, turn + 1}
    return turns


def split_turn(
    text: str, count_tokens: TokenCounter, max_tokens: int, overlap_tokens: int = 0
) -> list[tuple[int, int]]:
    """Windows of whole sentences of at most max_tokens; a longer sentence is cut between words."""
    units = _units(text, count_tokens, max_tokens)
    if not units:
        return []
    windows: list[tuple[int, int]] = []
    first = 0
    while first < len(units):
        last, total = first, units[first][2]
        while last + 1 < len(units) and total + units[last + 1][2] <= max_tokens:
            last += 1
            total += units[last][2]
        windows.append((units[first][0], units[last][1]))
        if last + 1 >= len(units):
            break
        # step back over trailing sentences that fit the overlap, always moving forward
        nxt, carried = last + 1, 0
        while nxt - 1 > first and carried + units[nxt - 1][2] <= overlap_tokens:
            nxt -= 1
            carried += units[nxt][2]
        first = nxt
    return windows


def _units(text: str, count_tokens: TokenCounter, max_tokens: int) -> list[tuple[int, int, int]]:
    """(start, end, tokens) of sentences, over-long sentences cut into word runs that fit."""
    spans = sentence_spans(text)
    counts = count_tokens([text[s:e] for s, e in spans]) if spans else []
    units = []
    for (start, end), tokens in zip(spans, counts, strict=True):
        if tokens <= max_tokens:
            units.append((start, end, tokens))
        else:
            units.extend(_cut_words(text, start, end, count_tokens, max_tokens))
    return units


def _cut_words(
    text: str, start: int, end: int, count_tokens: TokenCounter, max_tokens: int
) -> list[tuple[int, int, int]]:
    words = [(m.start() + start, m.end() + start) for m in _WORD.finditer(text[start:end])]
    word_tokens = count_tokens([text[s:e] for s, e in words])
    pieces: list[tuple[int, int, int]] = []
    first = 0
    while first < len(words):
        last, total = first, word_tokens[first]
        while last + 1 < len(words) and total + word_tokens[last + 1] <= max_tokens:
            last += 1
            total += word_tokens[last]
        piece_start, piece_end = words[first][0], words[last][1]
        # a lone word longer than the budget is cut by characters
        if total > max_tokens:
            piece_end = piece_start + max(1, (piece_end - piece_start) * max_tokens // total)
            words[first] = (piece_end, words[first][1])
            pieces.append((piece_start, piece_end, max_tokens))
            word_tokens[first] = count_tokens([text[piece_end : words[first][1]]])[0]
            continue
        pieces.append((piece_start, piece_end, total))
        first = last + 1
    return pieces


def _time_at(turn: Turn, offset: int) -> float | None:
    """Seconds at a character offset, spread evenly over the turn's time span."""
    if turn.start is None:
        return None
    if turn.end is None or not turn.text:
        return turn.start
    # the share first: (end - start) * offset can overflow to inf for times near the largest float
    return min(turn.end, round(turn.start + (turn.end - turn.start) * (offset / len(turn.text)), 3))
