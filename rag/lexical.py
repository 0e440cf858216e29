"""BM25 lexical scoring (bm25s) over the same segment ids as the vectors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from rag.durable import fsync_tree, install_dir
from rag.textclean import clean_for_index

_STEMMER = Stemmer.Stemmer("english")
_TERM = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)


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


def tokenize(texts: list[str]) -> list[list[str]]:
    return [terms(t) for t in texts]


class LexicalIndex:
    """A BM25 index whose document positions map to passage ids."""

    def __init__(self, ids: np.ndarray, bm25: bm25s.BM25 | None):
        self.ids = np.asarray(ids, dtype=np.int64)
        self.bm25 = bm25

    @classmethod
    def build(cls, ids: np.ndarray, texts: list[str]) -> LexicalIndex:
        if not len(ids):
            return cls(ids, None)
        bm25 = bm25s.BM25()
        bm25.index(tokenize(texts), show_progress=False)
        return cls(ids, bm25)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) with a positive score, only among `allowed` ids when given."""
        if self.bm25 is None:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        tokens = query_terms(query)
        mask = None
        if allowed is not None:
            # ids are ascending (built from the store in id order), so positions are a bisection
            allowed = np.asarray(allowed, dtype=np.int64)
            positions = np.searchsorted(self.ids, allowed)
            positions = positions[positions < len(self.ids)]
            positions = positions[np.isin(self.ids[positions], allowed)]
            mask = np.zeros(len(self.ids), dtype=np.float32)
            mask[positions] = 1.0
        scores = self._scores(tokens, mask)
        matched = np.flatnonzero(scores > 0)
        k = min(k, len(matched))
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        values = scores[matched]
        kth = values[np.argpartition(-values, k - 1)[k - 1]]
        # passages tied at the k-th score are taken by id, so equal scores give the same page every time
        above, tied = matched[values > kth], matched[values == kth]
        top = np.concatenate([above, tied[: k - len(above)]])
        top = top[np.lexsort((self.ids[top], -scores[top]))]
        return scores[top].astype(np.float32), self.ids[top]

    def _scores(self, tokens: list[str], mask: np.ndarray | None) -> np.ndarray:
        """BM25 score of every passage position: bm25s's get_scores, without its np.add.at.

        Within one term's postings each passage appears once, so a fancy-indexed `+=` adds the same
        as bm25s's `np.add.at`, an order of magnitude faster; terms are added in the same order, so
        the sums are the same floats. The top k is then chosen among matched passages only.
        """
        bm25 = self.bm25
        ids = bm25.get_tokens_ids(tokens) if tokens else []
        if not ids or bm25.nonoccurrence_array is not None:  # BM25L/BM25+: bm25s's own way
            return bm25.get_scores(ids, weight_mask=mask) if ids else np.zeros(len(self.ids), dtype=np.float32)
        data, indices, indptr = bm25.scores["data"], bm25.scores["indices"], bm25.scores["indptr"]
        scores = np.zeros(bm25.scores["num_docs"], dtype=np.dtype(bm25.dtype))
        for token in ids:
            start, end = int(indptr[token]), int(indptr[token + 1])
            scores[indices[start:end]] += data[start:end]
        if mask is not None:
            scores *= mask
        return scores

    def save(self, directory: Path) -> None:
        """Write beside `directory`, fsync, then move into place: never a half-written directory."""
        tmp = directory.with_name(f".{directory.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "ids.npy", self.ids, allow_pickle=False)
        if self.bm25 is not None:
            self.bm25.save(str(tmp), allow_pickle=False, show_progress=False)
        (tmp / "meta.json").write_text(json.dumps({"documents": len(self.ids)}))
        fsync_tree(tmp)
        install_dir(tmp, directory)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Read a saved index: arrays as plain .npy and parameters as JSON, never a pickle.

        Memory-mapped: start-up reads only the headers, the page cache is shared between processes,
        and a question touches only its terms' postings.
        """
        ids = np.load(directory / "ids.npy", allow_pickle=False, mmap_mode="r")
        bm25 = None
        if len(ids):
            bm25 = bm25s.BM25.load(str(directory), mmap=True, allow_pickle=False, show_progress=False)
            if bm25.scores["num_docs"] != len(ids):
                raise ValueError(f"{directory}: {bm25.scores['num_docs']} BM25 documents for {len(ids)} ids")
        return cls(ids, bm25)
