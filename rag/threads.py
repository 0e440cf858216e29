"""Thread counts for serving on a small machine, set before the numeric runtimes load.

One process holds three thread pools that do not know of each other: FAISS's OpenMP, ONNX Runtime's (or
torch's) and OpenBLAS's (numpy). On 2 cores, letting each use every core oversubscribes the machine and
a busy neighbour process turns a 15 ms question into a 500 ms one. The service therefore runs each of
them on one thread per request (`RAG_FAISS_THREADS`, `RAG_EMBED_THREADS`, default 1) and gets its
parallelism from concurrent requests instead: uvicorn's event loop and the search threads take the other
core. The environment defaults below reach libraries that read them once at load (OpenBLAS, OpenMP, MKL);
FAISS's per-thread setting is made in the searching thread itself (rag.vectors), and ONNX Runtime's per
session (rag.onnx_embed). Variables already set are left alone.
"""

from __future__ import annotations

import os

SERVING_DEFAULTS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def configure_serving() -> dict[str, str]:
    """Set the defaults (before numpy, faiss or torch is imported); returns what is in force."""
    return {name: os.environ.setdefault(name, value) for name, value in SERVING_DEFAULTS.items()}
