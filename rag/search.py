"""Search: dense and lexical candidates, fused, turned into attributed hits with highlights."""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from dataclasses import dataclass

import numpy as np

from rag.errors import InvalidInputError
from rag.fusion import reciprocal_rank_fusion
from rag.index import Index
from rag.lexical import query_terms, terms, terms_among
from rag.models import ANSWER, MODES, QUESTION, Document, Filters, Highlight, HitPart, Passage, SearchHit, StoredSegment
from rag.speaker_directory import Directory
from rag.storage import Reader
from rag.textclean import clean_for_index

MIN_CANDIDATES = 50
LEXICAL_WEIGHT = 1.0  # of the BM25 ranking against the dense one in hybrid fusion
# Of the rankings among the speakers a question names. Half: a journalist often names the person a
# question is about, not the one who answers it (press sample Hit@1 0.664 at 1.0, 0.700 at 0.5; QMSum
# dev MRR@10 0.278 and 0.280, up on both halves).
NAMED_SPEAKER_WEIGHT = 0.5
# Document evidence in hybrid ranking: each segment gains this share of the summed fused scores of its
# document's best DOCUMENT_EVIDENCE segments. A meeting that matches in several places is more likely the one
# asked about (on QMSum dev most wrong hits come from sibling meetings); 0.1 of the best 3 raised Hit@5,
# MRR@10 and nDCG@10 on both halves of QMSum dev and on the press sample; 0.3 and more cost Hit@5.
DOCUMENT_WEIGHT = 0.1
DOCUMENT_EVIDENCE = 3
MAX_AMBIGUOUS = 3  # people a shared surname in a question is searched among (two searches each)
# A reply shorter than this ("Yeah.", "Two.") does not stand for the question it follows in a hit: the
# question's words are the content (meetings); a longer one does (press answers). Measured: an answer
# always standing for its question costs QMSum dev 0.011 Hit@5, never doing so costs the press sample
# 0.12 Hit@1; at 8 words neither loses.
MIN_ANSWER_WORDS = 8


@dataclass(frozen=True)
class SearchResult:
    query: str
    took_ms: float
    hits: list[SearchHit]
    # the people a speaker filter admitted (canonical names): all a shared surname may mean; () without one
    included_speakers: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """The JSON shape shared by `POST /search` and `rag search --json`."""
        return {
            "query": self.query,
            "took_ms": round(self.took_ms, 3),
            "included_speakers": list(self.included_speakers),
            "results": [hit_to_dict(hit) for hit in self.hits],
        }


def hit_to_dict(hit: SearchHit) -> dict:
    # field by field from the dataclasses' own dicts: dataclasses.asdict deep-copies every value, several
    # times the cost for ten hits of a few parts each (every request pays it)
    out = dict(vars(hit))
    out["document"] = hit.document.ref()
    out["highlight"] = dict(vars(hit.highlight)) if hit.highlight is not None else None
    out["parts"] = [dict(vars(part)) for part in hit.parts]
    return out


def search(
    index: Index,
    query: str,
    *,
    k: int = 5,
    filters: Filters | None = None,
    mode: str = "hybrid",
    offset: int = 0,
) -> SearchResult:
    """The k best hits for a question (after skipping `offset`), best first."""
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
    if mode != "lexical":
        index.embedder  # noqa: B018 - loaded before the clock starts
    started = time.perf_counter()
    wanted = k + offset
    included: tuple[str, ...] = ()
    with index.reading() as reader:
        # embedded by the model of this snapshot's vectors (a reindex may switch models between two reads)
        query_vector = index.embedder_for(reader).encode_query(query) if mode != "lexical" else None
        speakers = index.directory_of(reader)
        named: list[tuple[tuple[str, ...], float]] = []
        if filters.speakers:
            people = {p: written for name in filters.speakers for p, written in speakers.people(name).items()}
            included = tuple(sorted(people))
            if not people:
                return SearchResult(query, (time.perf_counter() - started) * 1000, [], included)
            filters = dataclasses.replace(filters, speakers=tuple(sorted(set().union(*people.values()))))
        else:
            named = _named_scopes(speakers, query)
        if not reader.admits_any(filters):
            ranked = []
        else:
            ranked = _rank(reader, query, query_vector, mode, wanted, named, filters)
            if mode == "hybrid":
                ranked = _with_document_evidence(reader, ranked)
            ranked = ranked[: 3 * wanted]
        segments = reader.segments([sid for sid, _ in ranked])
        ranked = _answers_over_echoes(reader, ranked, segments, filters)
        segments.update(reader.segments([sid for sid, _ in ranked if sid not in segments]))
        # a speaker filter admits passages, not whole segments: the others are left out of the hit
        admitted = reader.admitted_passages(filters, list(segments)) if filters.speakers else None
    hits = _assemble(ranked, segments, admitted, query, wanted, speakers)[offset:]
    return SearchResult(query, (time.perf_counter() - started) * 1000, hits, included)


def _named_scopes(speakers: Directory, query: str) -> list[tuple[tuple[str, ...], float]]:
    """The people a question names, as (their names as written, weight) scopes to favour.

    Everyone named unambiguously is one scope of weight 1; each person a shared surname may mean is a scope
    of its own, weighted by their share of the passages of all it may mean (the MAX_AMBIGUOUS likeliest).
    """
    people = speakers.named_people(query)
    sure = sorted(set().union(*(speakers.members[p] for p, w in people.items() if w >= 1.0)))
    scopes = [(tuple(sure), 1.0)] if sure else []
    maybe = sorted(((w, p) for p, w in people.items() if w < 1.0), reverse=True)[:MAX_AMBIGUOUS]
    scopes += [(tuple(sorted(speakers.members[p])), w) for w, p in maybe]
    return scopes


def _rank(
    reader: Reader,
    query: str,
    query_vector: np.ndarray | None,
    mode: str,
    wanted: int,
    named: list[tuple[tuple[str, ...], float]],
    filters: Filters,
) -> list[tuple[int, float]]:
    """Candidate (segment id, score) pairs, best first.

    When the question names speakers, the same search among their segments alone is fused in
    as well, so that what they said is favoured without hiding everyone else.
    """
    n = max(MIN_CANDIDATES, 4 * wanted)
    scopes = [(filters, 1.0)]
    for written, weight in named:
        theirs = dataclasses.replace(filters, speakers=written)
        if reader.admits_any(theirs):
            scopes.append((theirs, NAMED_SPEAKER_WEIGHT * weight))
    question_terms = query_terms(query)
    if mode == "dense" and len(scopes) == 1:
        return reader.dense(query_vector, n, filters) if query_vector is not None else []
    if mode == "lexical" and len(scopes) == 1:
        return reader.lexical(question_terms, n, filters)
    rankings, weights = [], []
    for scope, weight in scopes:
        if mode != "lexical" and query_vector is not None:
            rankings.append([i for i, _ in reader.dense(query_vector, n, scope)])
            weights.append(weight)
        if mode != "dense":
            rankings.append([i for i, _ in reader.lexical(question_terms, n, scope)])
            weights.append(weight * (LEXICAL_WEIGHT if mode == "hybrid" else 1.0))
    return reciprocal_rank_fusion(rankings, weights)


def _with_document_evidence(reader: Reader, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Each segment's fused score plus DOCUMENT_WEIGHT times its document's best DOCUMENT_EVIDENCE scores."""
    doc_of = reader.segment_documents([sid for sid, _ in ranked])
    best: dict[str, list[float]] = {}
    for sid, score in ranked:  # best first, so each document's list is too
        best.setdefault(doc_of.get(sid, ""), []).append(score)
    evidence = {doc: sum(scores[:DOCUMENT_EVIDENCE]) for doc, scores in best.items()}
    rescored = [(sid, score + DOCUMENT_WEIGHT * evidence[doc_of.get(sid, "")]) for sid, score in ranked]
    return sorted(rescored, key=lambda pair: -pair[1])


def _answers_over_echoes(
    reader: Reader,
    ranked: list[tuple[int, float]],
    segments: dict[int, StoredSegment],
    filters: Filters,
) -> list[tuple[int, float]]:
    """A question that matches stands for its answer: the answer takes the question's place.

    Of a long answer, the segment that itself ranks best is shown, else its opening. The question
    is kept only when it has no answer or the filters exclude the answer.
    """
    questions = {
        sid: (seg.passages[0][1].doc_id, seg.passages[-1][1].turn_index)
        for sid, seg in segments.items()
        if all(p.role == QUESTION for _, p in seg.passages)
    }
    if not questions:
        return ranked
    answers = reader.answer_segments(list(set(questions.values())), filters)
    rank_of = {sid: i for i, (sid, _) in enumerate(ranked)}
    out = []
    for sid, score in ranked:
        candidates = answers.get(questions.get(sid), [])
        if candidates:
            sid = min(candidates, key=lambda a: (rank_of.get(a, len(ranked)), candidates.index(a)))
        out.append((sid, score))
    return out


def _assemble(
    ranked: list[tuple[int, float]],
    segments: dict[int, StoredSegment],
    admitted: set[int] | None,
    query: str,
    wanted: int,
    speakers: Directory,
) -> list[SearchHit]:
    """Hits in rank order; a hit repeating or overlapping a better one is dropped."""
    hits: list[SearchHit] = []
    taken: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for sid, score in ranked:
        segment = segments.get(sid)
        if segment is None:  # deleted by another process since the vectors were loaded
            continue
        parts = [(pid, p) for pid, p in segment.passages if admitted is None or pid in admitted]
        if not parts:
            continue
        # a hit joins no speakers: it is the run of the matching words' speaker (see _matching_part)
        parts, main = _one_speaker(parts, _matching_part(parts, query))
        spans = [(taken.setdefault((p.doc_id, p.turn_index), []), p) for _, p in parts]
        if any(p.start_char < end and start < p.end_char for have, p in spans for start, end in have):
            continue
        for have, p in spans:
            have.append((p.start_char, p.end_char))
        hits.append(_hit(len(hits) + 1, score, segment.document, parts, main, query, speakers))
        if len(hits) >= wanted:
            break
    return hits


def _matching_part(parts: list[tuple[int, Passage]], query: str) -> int:
    """The part whose words made the hit match: the one holding the sentences that share the most question
    terms (ties: the longest; no term shared: the longest).

    A question's answer in the same hit stands for the question (answers over echoes, as for whole
    segments), unless the answer is a reply of a few words ("Yeah.", "Two."), which says less than the
    question it follows.
    """
    wanted = _wanted(query)
    words = [_word_count(p.text) for _, p in parts]
    scores = [best[2] if (best := _best_sentences(p.text, wanted)) else 0.0 for _, p in parts]
    main = max(range(len(parts)), key=lambda i: (scores[i], words[i]))
    if parts[main][1].role != QUESTION:
        return main
    asker = parts[main][1].speaker
    answer = next((i for i in range(main + 1, len(parts)) if parts[i][1].speaker != asker), None)
    if answer is None or parts[answer][1].role != ANSWER:
        return main
    turn = parts[answer][1].turn_index
    said = sum(w for w, (_, p) in zip(words, parts, strict=True) if p.turn_index == turn)
    return answer if said >= MIN_ANSWER_WORDS else main


def _one_speaker(parts: list[tuple[int, Passage]], main: int) -> tuple[list[tuple[int, Passage]], int]:
    """The run of consecutive parts around `main` said by its speaker, and main's place in it."""
    speaker = parts[main][1].speaker
    first, last = main, main
    while first > 0 and parts[first - 1][1].speaker == speaker:
        first -= 1
    while last + 1 < len(parts) and parts[last + 1][1].speaker == speaker:
        last += 1
    return parts[first : last + 1], main - first


def _hit(
    rank: int,
    score: float,
    document: Document,
    parts: list[tuple[int, Passage]],
    main_index: int,
    query: str,
    speakers: Directory,
) -> SearchHit:
    """A hit attributed to its main part's speaker: the part whose words made it match, where the highlight is."""
    main_id, main = parts[main_index]
    labelled = len({p.speaker for _, p in parts}) > 1
    blocks = [f"{p.speaker}: {p.text}" if labelled else p.text for _, p in parts]
    text = _PART_SEPARATOR.join(blocks)
    starts = [p.start for _, p in parts if p.start is not None]
    ends = [p.end for _, p in parts if p.end is not None]
    # the highlight lies in the main part's words, so the hit's speaker is the highlight's
    offset = sum(len(b) + len(_PART_SEPARATOR) for b in blocks[:main_index]) + len(blocks[main_index]) - len(main.text)
    found = highlight(main.text, query)
    if found is not None:
        found = Highlight(found.text, found.start_char + offset, found.end_char + offset)
    return SearchHit(
        rank=rank,
        score=round(score, 6),
        passage_id=main_id,
        text=text,
        speaker=main.speaker,
        canonical_speaker=speakers.canonical_of(main.speaker),
        role=main.role,
        document=document,
        turn_index=main.turn_index,
        start_char=main.start_char,
        end_char=main.end_char,
        context=main.context,
        start=min(starts) if starts else None,
        end=max(ends) if ends else None,
        highlight=_timed(found, blocks, [p for _, p in parts]),
        parts=tuple(
            HitPart(
                pid,
                p.speaker,
                speakers.canonical_of(p.speaker),
                p.role,
                p.turn_index,
                p.start_char,
                p.end_char,
                p.text,
                p.start,
                p.end,
            )
            for pid, p in parts
        ),
    )


_PART_SEPARATOR = "\n\n"  # between the passages of one hit's text


def _timed(found: Highlight | None, blocks: list[str], passages: list[Passage]) -> Highlight | None:
    """The highlight with the times of the passages its characters fall in, where they are timed."""
    if found is None:
        return None
    starts, ends, offset = [], [], 0
    for block, passage in zip(blocks, passages, strict=True):
        if offset < found.end_char and found.start_char < offset + len(block):
            starts += [passage.start] if passage.start is not None else []
            ends += [passage.end] if passage.end is not None else []
        offset += len(block) + len(_PART_SEPARATOR)
    if not starts and not ends:
        return found
    return dataclasses.replace(found, start=min(starts, default=None), end=max(ends, default=None))


_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"[^.!?…\n]+(?:[.!?…]+[\"'”’)\]]*|\n|$)")


def highlight(text: str, query: str) -> Highlight | None:
    """The one or two adjacent sentences sharing the most query terms, with their offsets."""
    best = _best_sentences(text, _wanted(query))
    if best is None:
        return None
    start, end, _ = best
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Highlight(text[start:end], start, end)


@functools.lru_cache(maxsize=1024)
def _wanted(query: str) -> frozenset[str]:
    """A question's terms, as highlights look for them (asked once per hit and part: cached)."""
    return frozenset(terms(query))


@functools.lru_cache(maxsize=4096)  # passage texts: the hits that come back often
def _word_count(text: str) -> int:
    return len(_WORD.findall(clean_for_index(text)))


def _best_sentences(text: str, wanted: set[str]) -> tuple[int, int, float] | None:
    """(start, end, score) of the one or two adjacent sentences sharing the most of `wanted`; a second sentence
    counts half a term less, so it must add terms of its own."""
    sentences = [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group().strip()]
    if not wanted or not sentences:
        return None
    bags = [terms_among(text[s:e], wanted) for s, e in sentences]
    best, best_score = None, 0.0
    for i in range(len(sentences)):
        for j in (i, i + 1):
            if j >= len(sentences):
                continue
            matched = bags[i] | bags[j]
            score = len(matched) - (0.5 if j > i else 0.0)
            if matched and score > best_score:
                best, best_score = (sentences[i][0], sentences[j][1]), score
    if best is None:
        return None
    return best[0], best[1], best_score
