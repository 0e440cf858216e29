"""Retrieval metrics on annotated questions: Hit@1, Hit@5, MRR@10, nDCG@10, speaker accuracy.

Relevance is judged on text, as in the shared QMSum-style scorer: a returned passage of 8 or more
words is relevant when at least half of its distinct word 8-grams occur in the question's relevant
turns (consecutive relevant turns joined, with and without speaker labels); a shorter one when it
occurs in the relevant text and in no other turn of the collection. A repeated passage earns nothing.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import InvalidInputError
from rag.index import Index
from rag.search import search

SHINGLE = 8
_MARKUP = re.compile(r"\{(?:disfmarker|vocalsound|gap|pause|comment|nonvocalsound)\}")
_NON_WORD = re.compile(r"[\W_]+")


def normalize(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return _NON_WORD.sub(" ", _MARKUP.sub(" ", text)).strip()


def same_speaker(a: str | None, b: str | None) -> bool:
    return " ".join(unicodedata.normalize("NFKC", a or "").lower().split()) == " ".join(
        unicodedata.normalize("NFKC", b or "").lower().split()
    )


def shingles(words: Sequence[str]) -> set[str]:
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


@dataclass
class CorpusTurns:
    """Every turn of the collection, to attribute passages and to test short passages for uniqueness."""

    speakers: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # " speaker words ", normalised
    by_shingle: dict[str, list[int]] = field(default_factory=dict)
    by_document: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, documents: Iterable[tuple[str, Iterable[tuple[str, str]]]]) -> CorpusTurns:
        """From (document id, [(speaker, text)]) pairs."""
        corpus = cls()
        for doc_id, turns in documents:
            ids = corpus.by_document.setdefault(doc_id, [])
            for speaker, text in turns:
                bare = normalize(text)
                if not bare:
                    continue
                gid = len(corpus.speakers)
                ids.append(gid)
                labelled = f"{normalize(speaker)} {bare}".strip()
                corpus.speakers.append(speaker)
                corpus.texts.append(f" {labelled} ")
                for sh in shingles(bare.split()) | shingles(labelled.split()):
                    corpus.by_shingle.setdefault(sh, []).append(gid)
        return corpus

    def speaker_of(self, doc_id: str, norm_text: str) -> str:
        """The speaker of a document's turn with exactly this text ('' when none has)."""
        for gid in self.by_document.get(doc_id, ()):
            if self.texts[gid].endswith(f" {norm_text} "):
                return normalize(self.speakers[gid])
        return ""

    def occurrences(self, norm_text: str) -> int:
        needle = f" {norm_text} "
        return sum(t.count(needle) for t in self.texts)

    def speaker_is_right(self, norm_text: str, speaker: str | None) -> bool:
        """Is `speaker` the speaker of a turn holding the most of this passage's words?"""
        words = norm_text.split()
        if len(words) >= SHINGLE:
            counts = Counter(g for sh in shingles(words) for g in self.by_shingle.get(sh, ()))
            if not counts:
                return False
            top = max(counts.values())
            return any(same_speaker(self.speakers[g], speaker) for g, n in counts.items() if n == top)
        needle = f" {norm_text} "
        return any(needle in t and same_speaker(s, speaker) for s, t in zip(self.speakers, self.texts, strict=True))


@dataclass
class Reference:
    """The relevant text of one question: runs of consecutive relevant turns."""

    strings: list[str]  # each run joined, bare and with speaker labels, padded with spaces
    turn_strings: list[str]  # each relevant turn, " speaker words "
    shingles: set[str]
    words: int

    @classmethod
    def from_query(cls, query: dict, corpus: CorpusTurns) -> Reference:
        texts = query.get("relevant_text") or []
        turns = query.get("relevant_turns") or list(range(len(texts)))
        bare_runs: list[list[str]] = []
        labelled_runs: list[list[str]] = []
        turn_strings = []
        previous = None
        for turn, text in zip(turns, texts, strict=False):
            if previous is None or turn != previous + 1:
                bare_runs.append([])
                labelled_runs.append([])
            previous = turn
            bare = normalize(text)
            if not bare:
                continue
            labelled = f"{corpus.speaker_of(query.get('meeting', ''), bare)} {bare}".strip()
            bare_runs[-1].append(bare)
            labelled_runs[-1].append(labelled)
            turn_strings.append(f" {labelled} ")
        strings = [f" {' '.join(run)} " for run in bare_runs + labelled_runs if run]
        all_shingles: set[str] = set()
        for s in strings:
            all_shingles |= shingles(s.split())
        words = sum(len(" ".join(run).split()) for run in bare_runs)
        return cls(strings, turn_strings, all_shingles, words)

    def is_relevant(self, norm_text: str, corpus: CorpusTurns) -> bool:
        words = norm_text.split()
        if not words:
            return False
        if len(words) >= SHINGLE:
            own = shingles(words)
            return 2 * len(own & self.shingles) >= len(own)
        needle = f" {norm_text} "
        if not any(needle in s for s in self.strings):
            return False
        # specific to the relevant turns: no occurrence anywhere else in the collection
        return corpus.occurrences(norm_text) <= sum(s.count(needle) for s in self.turn_strings)


def score(
    queries: Sequence[dict], results: dict[str, list[dict]], corpus: CorpusTurns, *, depth: int = 10
) -> dict[str, float]:
    """Mean metrics over all queries; a query without results scores zero."""
    hit1 = hit5 = rr = ndcg = 0.0
    judged = right = 0
    for query in queries:
        reference = Reference.from_query(query, corpus)
        seen: set[str] = set()
        relevant: list[bool] = []
        for rank, item in enumerate(results.get(query["qid"], [])[:depth]):
            norm = normalize(item.get("text"))
            relevant.append(norm not in seen and reference.is_relevant(norm, corpus))
            seen.add(norm)
            if rank < 5:
                judged += 1
                right += corpus.speaker_is_right(norm, item.get("speaker"))
        hit1 += any(relevant[:1])
        hit5 += any(relevant[:5])
        if any(relevant):
            rr += 1 / (relevant.index(True) + 1)
        ideal = max(sum(relevant), min(depth, math.ceil(reference.words / 100)), 1)
        dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(relevant) if r)
        ndcg += dcg / sum(1 / math.log2(i + 2) for i in range(ideal))
    n = max(len(queries), 1)
    return {
        "queries": len(queries),
        "Hit@1": hit1 / n,
        "Hit@5": hit5 / n,
        "MRR@10": rr / n,
        "nDCG@10": ndcg / n,
        "SpeakerAcc@5": right / judged if judged else 0.0,
    }


def load_queries(path: Path) -> list[dict]:
    """Annotated questions, one JSON object a line, each with at least "qid" and "query"."""
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            query = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path}:{number}: not JSON ({exc.msg})", field="queries") from None
        if (
            not isinstance(query, dict)
            or not isinstance(query.get("qid"), str)
            or not isinstance(query.get("query"), str)
        ):
            raise InvalidInputError(f"{path}:{number}: needs string fields 'qid' and 'query'", field="queries")
        queries.append(query)
    return queries


def collection_turns(index: Index) -> CorpusTurns:
    with index.reading() as reader:
        return CorpusTurns.build(
            (doc.id, [(t.speaker, t.text) for t in reader.turns(doc.id)]) for doc in reader.documents()
        )


def run(index: Index, queries: Sequence[dict], *, mode: str = "hybrid", k: int = 10) -> dict[str, list[dict]]:
    """Each question's results as the scorer reads them: [{"text", "speaker"}], best first."""
    return {
        q["qid"]: [{"text": h.text, "speaker": h.speaker} for h in search(index, q["query"], k=k, mode=mode).hits]
        for q in queries
    }
