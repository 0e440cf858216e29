"""Context for a language model: the passages answering a question, attributed, merged and cut to a token budget."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.chunking import TokenCounter, sentence_spans
from rag.errors import InvalidInputError
from rag.followup import Resolution, resolve_followup
from rag.index import Index
from rag.models import NARRATION, Document, Filters, HitPart
from rag.search import search

DEFAULT_K = 8
DEFAULT_MAX_TOKENS = 1000
PASSAGE = "passage"  # a citation's text is one stored passage
MERGED = "merged"  # ... or the span of one turn that neighbouring stored passages cover together
_FULL_STOP = re.compile(r"[.!?…][\"'”’)\]]*$")


@dataclass(frozen=True)
class Citation:
    """One numbered quote of a context and where it comes from."""

    n: int
    label: str  # "Sergey Lavrov, Moscow, 13 February 2025": who, where, when
    speaker: str  # as written in the transcript
    canonical_speaker: str
    role: str
    document: Document
    turn_index: int
    start_char: int  # the span of the turn's text that `text` is
    end_char: int
    text: str  # the stored passage's text, or the exact merged span of its turn (see `kind`)
    quote: str  # what the context quotes: `text`, or its leading sentences when the budget ran out
    passage_ids: tuple[int, ...]  # in the order they appear in the turn
    start: float | None = None  # seconds into the recording, where the source has times
    end: float | None = None

    @property
    def kind(self) -> str:
        return MERGED if len(self.passage_ids) > 1 else PASSAGE

    @property
    def passage_id(self) -> int:
        return self.passage_ids[0]

    @property
    def truncated(self) -> bool:
        return self.quote != self.text


@dataclass(frozen=True)
class Context:
    """A question's context: numbered quotes within a token budget, and their citations."""

    question: str
    resolution: Resolution  # the question as searched, after reading the conversation
    text: str
    citations: list[Citation]
    tokens: int  # of `text`, under the embedding model's tokenizer
    max_tokens: int

    def to_dict(self) -> dict:
        """The JSON shape of `POST /context` and `rag context --json`."""
        return {
            "question": self.question,
            "query": self.resolution.text,
            "context": self.text,
            "citations": [citation_to_dict(c) for c in self.citations],
            "tokens": self.tokens,
            "max_tokens": self.max_tokens,
        }


def citation_to_dict(citation: Citation) -> dict:
    doc = citation.document
    return {
        "n": citation.n,
        "label": citation.label,
        "speaker": citation.speaker,
        "canonical_speaker": citation.canonical_speaker,
        "role": citation.role,
        "document": doc.ref(),
        "date": doc.date,
        "start": citation.start,
        "end": citation.end,
        "kind": citation.kind,
        "text": citation.text,
        "quote": citation.quote,
        "truncated": citation.truncated,
        "passage_id": citation.passage_id,
        "passage_ids": list(citation.passage_ids),
        "turn_index": citation.turn_index,
        "start_char": citation.start_char,
        "end_char": citation.end_char,
    }


def build_context(
    index: Index,
    question: str,
    *,
    k: int = DEFAULT_K,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    filters: Filters | None = None,
    history: Sequence[str] = (),
) -> Context:
    """The passages best answering a question (read against `history`), as a numbered, attributed context.

    Quotes come in rank order; neighbouring passages of one turn that are both found are quoted as
    one span. Quotes are added while the context fits `max_tokens`; one that does not fit is cut
    after its last whole sentence that does, or left out.
    """
    if not (question or "").strip():
        raise InvalidInputError("question must not be empty", field="question")
    if k < 1:
        raise InvalidInputError("k must be at least 1", field="k")
    if max_tokens < 1:
        raise InvalidInputError("max_tokens must be at least 1", field="max_tokens")
    resolution = resolve_followup(question.strip(), history, index.speakers)
    hits = search(index, resolution.text, k=k, filters=filters).hits
    spans = _merge_neighbours(index, [(hit.document, part) for hit in hits for part in hit.parts])
    count = index.embedder.count_tokens
    citations: list[Citation] = []
    seen: set[str] = set()
    used = 0
    for span in spans:
        key = " ".join(span.text.split())
        if key in seen:  # the same words in another document (a transcript published twice)
            continue
        seen.add(key)
        n = len(citations) + 1
        fitting = _fitting_quote(n, span, max_tokens - used, count)
        if fitting is None:
            continue
        quote, cost = fitting
        used += cost
        citations.append(dataclasses.replace(span, n=n, quote=quote))
    # blocks were counted one by one; a tokenizer that counts a join differently must not break the budget
    text, tokens = _joined(citations, count)
    while tokens > max_tokens:
        citations.pop()
        text, tokens = _joined(citations, count)
    return Context(question, resolution, text, citations, tokens, max_tokens)


def _joined(citations: list[Citation], count: TokenCounter) -> tuple[str, int]:
    text = "\n\n".join(_block(c.n, c.label, c.quote) for c in citations)
    return text, (count([text])[0] if text else 0)


def _fitting_quote(n: int, span: Citation, budget: int, count: TokenCounter) -> tuple[str, int] | None:
    """The span's whole text, with its block's tokens, if it fits the budget; else its longest run of leading
    sentences that does; else None."""
    # a paragraph ending in a comma ("Ladies and gentlemen,") is no place to stop: only a full stop is
    ends = [end for _, end in sentence_spans(span.text) if _FULL_STOP.search(span.text, 0, end)]
    ends = sorted({*ends, len(span.text)})
    costs = count([_block(n, span.label, span.text[:end]) for end in ends])
    fitting = [(end, cost) for end, cost in zip(ends, costs, strict=True) if cost <= budget]
    if not fitting:
        return None
    end, cost = fitting[-1]
    return span.text[:end], cost


def _block(n: int, label: str, quote: str) -> str:
    return f"[{n}] {label}:\n{quote}"


def _merge_neighbours(index: Index, parts: list[tuple[Document, HitPart]]) -> list[Citation]:
    """One citation per run of neighbouring passages of one turn, at the place of its best-ranked passage."""
    turn_texts: dict[str, list[str]] = {}
    runs: list[list[tuple[Document, HitPart]]] = []
    for doc, part in parts:
        joined = None
        for run in runs:
            if run[0][0].id == doc.id and run[0][1].turn_index == part.turn_index:
                text = _turn_text(index, turn_texts, doc.id, part.turn_index)
                if any(_neighbours(text, p, part) for _, p in run):
                    if joined is None:
                        run.append((doc, part))
                        joined = run
                    else:  # the part bridges two runs: they become one, at the better place
                        joined.extend(run)
                        run.clear()
        runs = [run for run in runs if run]
        if joined is None:
            runs.append([(doc, part)])
    return [_citation(index, turn_texts, run) for run in runs]


def _neighbours(turn_text: str | None, a: HitPart, b: HitPart) -> bool:
    """Passages that overlap, or have only white space between them in their turn."""
    first, second = sorted((a, b), key=lambda p: p.start_char)
    if second.start_char <= first.end_char:
        return True
    if turn_text is None:
        return False
    return not turn_text[first.end_char : second.start_char].strip()


def _turn_text(index: Index, cache: dict[str, list[str]], doc_id: str, turn_index: int) -> str | None:
    if doc_id not in cache:
        with index.reading() as reader:
            cache[doc_id] = [turn.text for turn in reader.turns(doc_id)]
    texts = cache[doc_id]
    return texts[turn_index] if turn_index < len(texts) else None


def _citation(index: Index, turn_texts: dict[str, list[str]], run: list[tuple[Document, HitPart]]) -> Citation:
    doc = run[0][0]
    parts = sorted((p for _, p in run), key=lambda p: p.start_char)
    first = parts[0]
    start, end = first.start_char, max(p.end_char for p in parts)
    text = first.text
    if len(parts) > 1:
        turn = _turn_text(index, turn_texts, doc.id, first.turn_index)
        # the stored turn is the source of truth; if it changed since the search, quote the passages
        if turn is not None and all(turn[p.start_char : p.end_char] == p.text for p in parts):
            text = turn[start:end]
        else:
            parts, end = [first], first.end_char
    starts = [p.start for p in parts if p.start is not None]
    ends = [p.end for p in parts if p.end is not None]
    return Citation(
        n=0,
        label=citation_label(first.canonical_speaker, doc, min(starts) if starts else None),
        speaker=first.speaker,
        canonical_speaker=first.canonical_speaker,
        role=first.role,
        document=doc,
        turn_index=first.turn_index,
        start_char=start,
        end_char=end,
        text=text,
        quote=text,
        passage_ids=tuple(p.passage_id for p in parts),
        start=min(starts) if starts else None,
        end=max(ends) if ends else None,
    )


def citation_label(speaker: str, document: Document, start: float | None = None) -> str:
    """Who, where and when, as a reader would cite it: "Sergey Lavrov, Moscow, 13 February 2025"; narration
    (no speaker) is cited as such."""
    where = document.place or document.title
    pieces = [speaker or NARRATION.capitalize(), _shorten(where)]
    if document.date:
        pieces.append(_long_date(document.date))
    if start is not None:
        pieces.append(f"at {_clock(start)}")
    return ", ".join(p for p in pieces if p)


def _long_date(iso: str) -> str:
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%B} {day.year}"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


_SPACE = re.compile(r"\s+")
MAX_WHERE_CHARS = 80


def _shorten(text: str) -> str:
    """A long title is cut at a word boundary: the label is a citation, not the document."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= MAX_WHERE_CHARS:
        return text
    return text[:MAX_WHERE_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
