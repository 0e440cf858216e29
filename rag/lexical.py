"""BM25 lexical scoring (bm25s) over the same passage ids as the vectors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from rag.durable import fsync_tree
from rag.textclean import clean_for_index

_STEMMER = Stemmer.Stemmer("english")
# bm25s.tokenize's own rules (scikit-learn's CountVectorizer pattern, its English stop words, then the
# stemmer), applied here without its per-call set-up: it builds a stop-word set per text and three tqdm
# bars per call, ~1 ms, and search highlights call this for every sentence of every hit
_SPLIT = re.compile(r"(?u)\b\w\w+\b").findall
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Stemmed terms of each text, stop words removed; the same tokens as bm25s.tokenize(stopwords="en")."""
    out = []
    stem = _STEMMER.stemWords
    for text in texts:
        words = [w for w in _SPLIT(clean_for_index(text).lower()) if w not in _STOPWORDS]
        out.append(stem(words) if words else [])
    return out


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
        tokens = tokenize([query])[0]
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
        tmp = directory.with_name(f".{directory.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "ids.npy", self.ids, allow_pickle=False)
        if self.bm25 is not None:
            self.bm25.save(str(tmp), show_progress=False)
        (tmp / "meta.json").write_text(json.dumps({"documents": len(self.ids)}))
        fsync_tree(tmp)
        shutil.rmtree(directory, ignore_errors=True)
        tmp.rename(directory)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        # memory-mapped: start-up reads nothing but the headers, and the page cache is shared between
        # processes; a question touches only its terms' postings
        ids = np.load(directory / "ids.npy", allow_pickle=False, mmap_mode="r")
        bm25 = None
        if len(ids):
            bm25 = bm25s.BM25.load(str(directory), mmap=True, show_progress=False)
        return cls(ids, bm25)
