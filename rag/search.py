"""Search: dense and lexical candidates, fused, turned into attributed hits with highlights."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from rag.errors import InvalidInputError
from rag.fusion import reciprocal_rank_fusion
from rag.index import Index
from rag.lexical import tokenize
from rag.models import Highlight, SearchHit
from rag.store import Filters, StoredPassage

MODES = ("hybrid", "dense", "lexical")
MIN_CANDIDATES = 50


@dataclass(frozen=True)
class SearchResult:
    query: str
    took_ms: float
    hits: list[SearchHit]

    def to_dict(self) -> dict:
        """The JSON shape shared by `POST /search` and `rag search --json`."""
        return {
            "query": self.query,
            "took_ms": round(self.took_ms, 3),
            "results": [hit_to_dict(hit) for hit in self.hits],
        }


def hit_to_dict(hit: SearchHit) -> dict:
    doc = hit.document
    return {
        "rank": hit.rank,
        "score": hit.score,
        "passage_id": hit.passage_id,
        "text": hit.text,
        "speaker": hit.speaker,
        "role": hit.role,
        "context": hit.context,
        "document": {"id": doc.id, "title": doc.title, "date": doc.date, "place": doc.place, "source": doc.source},
        "turn_index": hit.turn_index,
        "start_char": hit.start_char,
        "end_char": hit.end_char,
        "start": hit.start,
        "end": hit.end,
        "highlight": (
            {"text": hit.highlight.text, "start_char": hit.highlight.start_char, "end_char": hit.highlight.end_char}
            if hit.highlight
            else None
        ),
    }


def search(
    index: Index,
    query: str,
    *,
    k: int = 5,
    filters: Filters | None = None,
    mode: str = "hybrid",
    offset: int = 0,
) -> SearchResult:
    """The k best passages for a question (after skipping `offset`), best first."""
    query = (query or "").strip()
    if not query:
        raise InvalidInputError("query must not be empty", field="query")
    if mode not in MODES:
        raise InvalidInputError(f"mode must be one of {', '.join(MODES)}", field="mode")
    if k < 1:
        raise InvalidInputError("k must be at least 1", field="k")
    if offset < 0:
        raise InvalidInputError("offset must not be negative", field="offset")
    filters = filters or Filters()
    embedder = index.embedder if mode != "lexical" else None  # loaded before the clock starts
    started = time.perf_counter()
    index.refresh()
    query_vector = embedder.encode_query(query) if embedder else None
    with index.lock.read():
        allowed = index.store.passage_ids(filters) if filters else None
        if allowed is not None and not len(allowed):
            ranked = []
        else:
            ranked = _rank(index, query, query_vector, mode, k + offset, allowed)
        ranked = ranked[: (k + offset) * 3]
        rows = index.store.passages([pid for pid, _ in ranked])
        ranked = _answers_over_echoes(index, ranked, rows, allowed)
        rows.update(index.store.passages([pid for pid, _ in ranked if pid not in rows]))
    hits = _assemble(ranked, rows, query, k + offset)[offset:]
    return SearchResult(query, (time.perf_counter() - started) * 1000, hits)


def _rank(
    index: Index,
    query: str,
    query_vector: np.ndarray | None,
    mode: str,
    wanted: int,
    allowed: np.ndarray | None,
) -> list[tuple[int, float]]:
    """Candidate (passage id, score) pairs, best first."""
    candidates = max(MIN_CANDIDATES, 4 * wanted)
    rankings: list[list[int]] = []
    dense: list[tuple[int, float]] = []
    if query_vector is not None and len(index.vectors):
        scores, ids = index.vectors.search(query_vector, candidates, allowed)
        dense = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        rankings.append([i for i, _ in dense])
    lexical: list[tuple[int, float]] = []
    if mode != "dense":
        scores, ids = index.lexical.search(query, candidates, allowed)
        lexical = [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]
        rankings.append([i for i, _ in lexical])
    if mode == "dense":
        return dense
    if mode == "lexical":
        return lexical
    return reciprocal_rank_fusion(rankings)


def _answers_over_echoes(
    index: Index,
    ranked: list[tuple[int, float]],
    rows: dict[int, StoredPassage],
    allowed: np.ndarray | None,
) -> list[tuple[int, float]]:
    """A question that matches stands for its answer: the answer takes the question's place.

    Of a long answer, the passage that itself ranks best is shown, else its opening. The question
    is kept only when it has no answer or the filters exclude the answer.
    """
    questions = {
        pid: (row.passage.doc_id, row.passage.turn_index) for pid, row in rows.items() if row.passage.role == "question"
    }
    if not questions:
        return ranked
    answers = index.store.answer_passage_ids(list(set(questions.values())))
    if allowed is not None:
        every = np.fromiter((a for ids in answers.values() for a in ids), dtype=np.int64)
        admitted = set(every[np.isin(every, allowed)].tolist())
        answers = {turn: [a for a in ids if a in admitted] for turn, ids in answers.items()}
    rank_of = {pid: i for i, (pid, _) in enumerate(ranked)}
    out = []
    for pid, score in ranked:
        candidates = answers.get(questions.get(pid), [])
        if candidates:
            pid = min(candidates, key=lambda a: (rank_of.get(a, len(ranked)), candidates.index(a)))
        out.append((pid, score))
    return out


def _assemble(
    ranked: list[tuple[int, float]], rows: dict[int, StoredPassage], query: str, wanted: int
) -> list[SearchHit]:
    """Hits in rank order; a window overlapping a better one of the same turn is dropped."""
    hits: list[SearchHit] = []
    taken: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for pid, score in ranked:
        row = rows.get(pid)
        if row is None:  # deleted by another process since the vectors were loaded
            continue
        p = row.passage
        spans = taken.setdefault((p.doc_id, p.turn_index), [])
        if any(p.start_char < end and start < p.end_char for start, end in spans):
            continue
        spans.append((p.start_char, p.end_char))
        hits.append(
            SearchHit(
                rank=len(hits) + 1,
                score=round(score, 6),
                passage_id=pid,
                text=p.text,
                speaker=p.speaker,
                role=p.role,
                document=row.document,
                turn_index=p.turn_index,
                start_char=p.start_char,
                end_char=p.end_char,
                context=p.context,
                start=p.start,
                end=p.end,
                highlight=highlight(p.text, query),
            )
        )
        if len(hits) >= wanted:
            break
    return hits


_SENTENCE = re.compile(r"[^.!?…\n]+(?:[.!?…]+[\"'”’)\]]*|\n|$)")


def highlight(text: str, query: str) -> Highlight | None:
    """The one or two adjacent sentences sharing the most query terms, with their offsets."""
    terms = set(tokenize([query])[0])
    sentences = [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group().strip()]
    if not terms or not sentences:
        return None
    bags = [set(tokenize([text[s:e]])[0]) & terms for s, e in sentences]
    best, best_score = None, 0.0
    for i in range(len(sentences)):
        for j in (i, i + 1):
            if j >= len(sentences):
                continue
            matched = bags[i] | bags[j]
            # a second sentence must add terms of its own to be worth quoting
            score = len(matched) - (0.5 if j > i else 0.0)
            if matched and score > best_score:
                best, best_score = (sentences[i][0], sentences[j][1]), score
    if best is None:
        return None
    start, end = best
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Highlight(text[start:end], start, end)
