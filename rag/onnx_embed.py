"""ONNX Runtime encoder for a sentence-transformers model: exported once, offline, cached; runs without torch.

sentence-transformers' own `backend="onnx"` needs optimum-onnx, which requires transformers < 4.58 while
this project pins transformers 5.x; so the export is done here, with torch's ONNX exporter, from the same
local model folder (never a network call). The exported graph is the model's transformer followed by its
pooling (mean or CLS, as the model's `1_Pooling/config.json` says) and L2 normalisation, so it gives the
same unit vectors as `SentenceTransformer.encode(..., normalize_embeddings=True)` (cosine >= 0.99999 on
real text; checked by the tests). Tokenisation uses the model's own fast tokenizer (`tokenizer.json`) through
the `tokenizers` library, with sentence-transformers' truncation (max_seq_length, special tokens included).

Cache: `$RAG_CACHE_DIR`, else `$XDG_CACHE_HOME/transcript-rag`, else `~/.cache/transcript-rag`; one folder
per model (keyed by its resolved path, weights' size and time, and this module's export version) holding
`model.onnx`, `model-int8.onnx` (dynamic int8 quantisation, made on first use of that variant),
`tokenizer.json` and `meta.json`. Concurrent first uses (several server workers) export once, under a file
lock; files appear atomically.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rag.errors import RagError

EXPORT_VERSION = 2
FP32 = "model.onnx"
INT8 = "model-int8.onnx"


class UnsupportedModel(RagError):
    """The model's modules are not the plain transformer -> pooling (-> normalize) this exporter handles."""


def cache_root(configured: Path | None = None) -> Path:
    """Where exported models are kept: `configured` (RAG_CACHE_DIR), else ~/.cache/transcript-rag."""
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "transcript-rag"


def model_key(model_dir: Path) -> str:
    """Changes when the model folder's weights or config change, or the export changes."""
    parts = [str(model_dir.resolve()), str(EXPORT_VERSION)]
    for name in ("model.safetensors", "pytorch_model.bin", "config.json", "modules.json", "tokenizer.json"):
        path = model_dir / name
        if path.exists():
            stat = path.stat()
            parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _pooling(model_dir: Path) -> str:
    """'mean' or 'cls' from the model's module list; anything else is not handled."""
    modules_file = model_dir / "modules.json"
    if not modules_file.exists():
        return "mean"  # a plain transformers folder: sentence-transformers adds mean pooling
    modules = json.loads(modules_file.read_text())
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        raise UnsupportedModel(f"ONNX export handles transformer + pooling models, not {kinds}: use torch")
    pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
    config = json.loads((model_dir / pooling_dir / "config.json").read_text())
    if config.get("pooling_mode_mean_tokens"):
        return "mean"
    if config.get("pooling_mode_cls_token"):
        return "cls"
    raise UnsupportedModel(f"ONNX export handles mean or CLS pooling, not {config}: use torch")


def _max_seq_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    if config.exists():
        value = json.loads(config.read_text()).get("max_seq_length")
        if value:
            return int(value)
    return int(json.loads((model_dir / "config.json").read_text()).get("max_position_embeddings", 512))


@contextmanager
def _locked(directory: Path):
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def export(model_dir: Path, target: Path) -> None:
    """Write model.onnx, tokenizer.json and meta.json for the model in `model_dir` (needs torch, once)."""
    import torch
    import torch.nn.functional as F
    from transformers import AutoModel, AutoTokenizer

    pooling = _pooling(model_dir)
    max_len = _max_seq_length(model_dir)
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if not getattr(tokenizer, "is_fast", False):
        raise UnsupportedModel("ONNX path needs a fast tokenizer (tokenizer.json): use torch")

    class Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            if pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return F.normalize(pooled, p=2, dim=1)

    sample = tokenizer(["a first example sentence", "a second, longer example sentence to pad"], padding=True)
    inputs = tuple(
        torch.tensor(sample.get(name, np.zeros_like(sample["input_ids"])), dtype=torch.long)
        for name in ("input_ids", "attention_mask", "token_type_ids")
    )
    axes = {0: "batch", 1: "tokens"}
    tmp = target / f".{FP32}.tmp"
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(model),
            inputs,
            str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    tokenizer.save_pretrained(str(target / ".tok"))
    os.replace(target / ".tok" / "tokenizer.json", target / "tokenizer.json")
    shutil.rmtree(target / ".tok", ignore_errors=True)
    meta = {
        "model_dir": str(model_dir),
        "pooling": pooling,
        "max_seq_length": max_len,
        "dimension": int(model.config.hidden_size),
        "pad_id": int(tokenizer.pad_token_id or 0),
        "pad_token": tokenizer.pad_token or "[PAD]",
        "export_version": EXPORT_VERSION,
        "torch": torch.__version__,
    }
    (target / "meta.json").write_text(json.dumps(meta, indent=2))
    os.replace(tmp, target / FP32)


def quantize(target: Path) -> None:
    """Dynamic int8 quantisation of model.onnx: matrix products only, weights per output channel.

    Measured on 300 real questions against the 20k collection (bench/README.md): ONNX Runtime's default
    (every op, one scale per tensor, the embedding table too) moves questions to cosine 0.965 (top-10
    overlap 0.77); per-channel scales on MatMul only keep cosine 0.994 (overlap 0.89) at the same speed,
    about 2.2x faster than fp32.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target / f".{INT8}.tmp"
    quantize_dynamic(
        str(target / FP32), str(tmp), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"]
    )
    os.replace(tmp, target / INT8)


def ensure(model_dir: str | Path, *, int8: bool = False, cache_dir: Path | None = None) -> Path:
    """The cache folder of the model, exporting (and quantising) on first use."""
    model_dir = Path(model_dir)
    target = cache_root(cache_dir) / "onnx" / f"{model_dir.name}-{model_key(model_dir)}"
    wanted = INT8 if int8 else FP32
    if (target / wanted).exists() and (target / "meta.json").exists():
        return target
    with _locked(target):
        if not (target / FP32).exists() or not (target / "meta.json").exists():
            export(model_dir, target)
        if int8 and not (target / INT8).exists():
            quantize(target)
    return target


class OnnxEncoder:
    """Unit vectors from an exported model; `threads` is ONNX Runtime's intra-op thread count."""

    def __init__(self, model_dir: str | Path, *, int8: bool = False, threads: int = 1, cache_dir: Path | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = ensure(model_dir, int8=int8, cache_dir=cache_dir)
        meta = json.loads((folder / "meta.json").read_text())
        self.dimension = int(meta["dimension"])
        self.max_seq_length = int(meta["max_seq_length"])
        self.counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.counter.no_truncation()
        self.counter.no_padding()
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer.no_padding()  # padded here, per group of similar lengths
        self.pad_id = int(meta["pad_id"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # idle pool threads must not spin: the other core serves HTTP and searches
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(folder / (INT8 if int8 else FP32)), options, providers=["CPUExecutionProvider"]
        )
        self.input_names = {i.name for i in self.session.get_inputs()}

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self.counter.encode_batch(list(texts), add_special_tokens=False)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text, in order.

        Texts are run in groups of similar token counts: a batch costs its size times its longest
        text, so one long question padded with fifteen short ones would cost sixteen long ones.
        """
        encoded = self.tokenizer.encode_batch(list(texts))
        out = np.empty((len(encoded), self.dimension), dtype=np.float32)
        for group in length_groups([len(e.ids) for e in encoded]):
            width = max(len(encoded[i].ids) for i in group)
            ids = np.full((len(group), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(group), width), dtype=np.int64)
            for row, i in enumerate(group):
                n = len(encoded[i].ids)
                ids[row, :n] = encoded[i].ids
                mask[row, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            out[group] = self.session.run(None, feeds)[0]
        return out


def length_groups(lengths: Sequence[int], *, slack: float = 1.25, extra: int = 8, most: int = 64) -> list[list[int]]:
    """Positions grouped by similar length: within a group the longest is at most slack * shortest + extra."""
    groups: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if groups and len(groups[-1]) < most and lengths[i] <= slack * lengths[groups[-1][0]] + extra:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups
