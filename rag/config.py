"""Settings read once from the environment (prefix RAG_) and passed down explicitly."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Every knob of the service; each is documented in README.md."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    index_dir: Path = Field(Path("index"), description="Where the index lives on disk.")
    model: str | None = Field(
        None,
        description="sentence-transformers model (name or local path) to build a new index with;"
        f" unset: {DEFAULT_MODEL} (bundled). An existing index must be opened with its own model.",
    )
    host: str = Field("127.0.0.1", description="Address `rag serve` listens on.")
    port: int = Field(8000, description="Port `rag serve` listens on.")
    examples_dir: Path = Field(
        Path("examples"), description="Transcripts the default index is built from when missing."
    )
    max_k: int = Field(100, description="Largest number of results one search may ask for.")
    max_query_chars: int = Field(2000, description="Longest question accepted, in characters.")
