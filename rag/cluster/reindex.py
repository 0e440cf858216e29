"""rag reindex --ray: the re-embedding of each round runs as a Ray Data job over actors holding the new model."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rag.cluster.ingest import Placement
from rag.cluster.pipeline import EmbedTexts
from rag.cluster.runtime import failure_reason, require_ray
from rag.embedding import Embedder
from rag.errors import RagError

ROUND_DOCUMENTS = 5000  # documents per round on a cluster: a round starts its actors (and loads the model) anew
TEXTS_PER_CALL = 256  # segments an actor embeds in one call (and Ray runs again if the actor dies)


class EmbedOnRay:
    """Texts in, the new model's vectors out, in the texts' order, embedded on the cluster's actors."""

    def __init__(self, embedder: Embedder, placement: Placement):
        self.embedder = embedder
        self.placement = placement
        self.progress: Callable[[int], None] | None = None

    def __call__(self, texts: list[str]) -> np.ndarray:
        ray = require_ray()
        out = np.zeros((len(texts), self.embedder.dimension), dtype=np.float32)
        if not texts:
            return out
        pool = ray.data.ActorPoolStrategy(min_size=1, max_size=self.placement.max_actors)
        dataset = ray.data.from_items([{"row": i, "text": text} for i, text in enumerate(texts)]).map_batches(
            EmbedTexts,
            fn_constructor_kwargs={
                "model": self.embedder.name,
                "passage_backend": self.embedder.passage_backend,
                "gpu": bool(self.placement.gpus),
            },
            batch_size=TEXTS_PER_CALL,
            compute=pool,
            **self.placement.remote_args(),
        )
        try:
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                out[batch["row"]] = batch["vector"]
                if self.progress:
                    self.progress(len(batch["row"]))
        except Exception as exc:  # failed for good: Ray has retried lost workers already
            raise RagError(
                f"re-embedding on Ray failed ({failure_reason(exc)}); what was staged stays: run the same command"
                " again to go on",
                field="ray",
            ) from exc
        return out
