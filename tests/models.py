"""A second sentence-transformers model for reindex tests, made offline from the bundled one.

The bundled all-MiniLM-L6-v2 read with its first token's output instead of the mean of all tokens (CLS
pooling): another model in every way a reindex cares about (other vectors, other scores), with no download.
It lives under the project's cache folder so that its ONNX export is made once, not every session.
"""

from __future__ import annotations

import json
from pathlib import Path

from rag.embedding import resolve_model
from rag.onnx_embed import cache_root


def cls_pooled_model() -> str:
    """The path of the CLS-pooled variant of the default model (made on first use)."""
    source = Path(resolve_model("all-MiniLM-L6-v2"))
    target = cache_root() / "test-models" / "minilm-cls"
    pooling = target / "1_Pooling" / "config.json"
    if not pooling.exists():
        target.mkdir(parents=True, exist_ok=True)
        for item in source.iterdir():
            if item.is_file() and not (target / item.name).exists():
                (target / item.name).symlink_to(item)
        config = json.loads((source / "1_Pooling" / "config.json").read_text())
        config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
        pooling.parent.mkdir(exist_ok=True)
        tmp = pooling.with_suffix(".tmp")
        tmp.write_text(json.dumps(config))
        tmp.replace(pooling)
    return str(target)
