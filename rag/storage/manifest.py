"""Manifest: how a collection was built (format, model, dimension, segment sizes); opening it otherwise is an error."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from rag.errors import IndexMismatchError

FORMAT_VERSION = 3
DEFAULT_SEGMENT_TOKENS = 128
DEFAULT_OVERLAP_TOKENS = 24
REQUIRED = ("model", "dimension", "segment_tokens", "overlap_tokens")


@dataclass(frozen=True)
class Manifest:
    """What every vector and passage of a collection was made with; fixed when the collection is created."""

    model: str
    dimension: int
    segment_tokens: int = DEFAULT_SEGMENT_TOKENS
    overlap_tokens: int = DEFAULT_OVERLAP_TOKENS
    format_version: int = FORMAT_VERSION
    created_at: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: object, where: str) -> Manifest:
        """Read a stored manifest; one of another format version, or lacking a field, is an IndexMismatchError."""
        if not isinstance(data, dict):
            raise IndexMismatchError(f"the manifest of {where} is not a JSON object")
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"the collection at {where} has format version {data.get('format_version')}, this program reads"
                f" {FORMAT_VERSION}: rebuild it with rag ingest"
            )
        missing = [key for key in REQUIRED if key not in data]
        if missing:
            raise IndexMismatchError(f"the manifest of {where} lacks {', '.join(missing)}")
        return cls(
            model=str(data["model"]),
            dimension=int(data["dimension"]),
            segment_tokens=int(data["segment_tokens"]),
            overlap_tokens=int(data["overlap_tokens"]),
            created_at=str(data.get("created_at", "")),
        )

    def check_compatible(
        self, where: str, *, model: str | None = None, segment_tokens: int | None = None
    ) -> None:
        """Opening with another model or segment size than the collection's is an IndexMismatchError."""
        if model is not None and model != self.model:
            raise IndexMismatchError(
                f"the collection at {where} was built with model {self.model!r}, not {model!r};"
                " use another index (--index or --database-url) or the same model",
                field="model",
            )
        if segment_tokens is not None and segment_tokens != self.segment_tokens:
            raise IndexMismatchError(
                f"the collection at {where} was built with segments of {self.segment_tokens} tokens,"
                f" not {segment_tokens}; use another index",
                field="segment_tokens",
            )


def model_problems(manifest: Manifest) -> list[str]:
    """What is wrong with the manifest's model here: not found offline, or making vectors of another dimension."""
    from pathlib import Path

    from rag.embedding import model_dimension, resolve_model
    from rag.errors import RagError

    try:
        location = Path(resolve_model(manifest.model))
    except RagError as exc:
        return [f"model {manifest.model!r}: {exc.message}"]
    if not location.exists():
        return [f"model {manifest.model!r} is neither installed nor a local path"]
    dimension = model_dimension(location)
    if dimension is not None and dimension != manifest.dimension:
        return [
            f"model {manifest.model!r} makes vectors of dimension {dimension}, the manifest says {manifest.dimension}"
        ]
    return []


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
