"""Settings: the only reader of the environment (prefix RAG_); everything else is given them as arguments."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rag.embedding import PASSAGE_BACKENDS, PRECISIONS, QUERY_BACKENDS, EmbedderOptions
from rag.models import DEFAULT_MODEL, MAX_K, Limits

if TYPE_CHECKING:
    from rag.storage.embedded.collection import EmbeddedOptions
    from rag.storage.postgres import DatabaseOptions

MIB = 1024 * 1024


def _default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "transcript-rag"


class Settings(BaseSettings):
    """Every knob of the service; each is documented in docs/settings.md (a test keeps the two in step)."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    index_dir: Path = Field(Path("index"), description="Where the index lives on disk.")
    database_url: SecretStr | None = Field(
        None,
        description="PostgreSQL database holding the collection (postgresql://user:password@host/db, needs the"
        " postgres extra); set: the index directory is not used. Shown and logged only with its password masked.",
    )
    database_pool_size: int = Field(10, ge=1, description="Most connections one process keeps to the database.")
    database_connect_timeout_s: float = Field(
        5.0, gt=0, description="How long connecting to the database (or waiting for a free connection) may take."
    )
    database_statement_timeout_s: float = Field(
        20.0, gt=0, description="How long one database statement may run before it is cancelled (a 503)."
    )
    model: str | None = Field(
        None,
        description="sentence-transformers model (name or local path) to build a new index with;"
        f" unset: {DEFAULT_MODEL} (bundled). An existing index must be opened with its own model.",
    )
    host: str = Field("127.0.0.1", description="Address `rag serve` listens on.")
    port: int = Field(8000, description="Port `rag serve` listens on.")
    workers: int | None = Field(
        None, ge=1, description="Worker processes of `rag serve` (each a whole service); unset: one per core."
    )
    metrics_dir: Path | None = Field(
        None,
        description="Where worker processes share their Prometheus metrics, so that a scrape sums them all;"
        " `rag serve` with several workers sets it (with PROMETHEUS_MULTIPROC_DIR) to a directory of its own.",
    )
    examples_dir: Path = Field(
        Path("examples"), description="Transcripts the default index is built from when missing."
    )
    max_k: int = Field(MAX_K, ge=1, le=MAX_K, description="Largest number of results one search may ask for.")
    max_query_chars: int = Field(2000, description="Longest question accepted, in characters.")

    # NoDecode: a comma-separated list, not the JSON that pydantic-settings expects for lists
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Keys that may write (comma-separated); none: writes are open."
    )
    api_keys_file: Path | None = Field(None, description="File of keys, one per line ('#' starts a comment).")
    protect_reads: bool = Field(False, description="Require a key for searches and listings too.")
    max_body_bytes: int = Field(10 * MIB, ge=1, description="Largest request body accepted, in bytes.")
    max_upload_bytes: int = Field(10 * MIB, ge=1, description="Largest uploaded transcript file, in bytes.")
    max_turns: int = Field(10_000, ge=1, description="Most speaker turns one transcript may have.")
    max_text_chars: int = Field(200_000, ge=1, description="Longest text of one turn, in characters.")
    request_timeout_s: float = Field(30.0, gt=0, description="A search taking longer is answered 503.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed by CORS (comma-separated, or *); none: CORS off."
    )
    log_level: str = Field("INFO", description="Level of the service's JSON log lines.")
    rebuild_after: int | None = Field(
        None,
        ge=1,
        description="Embedded index: segments written or deleted since its searchable files were built that"
        " make them be built again (a tenth of the collection when that is more, at most 50,000);"
        " unset: the backend's default, 4096.",
    )
    write_wait_s: float = Field(
        10.0,
        ge=0,
        description="How long a write waits while another process (a running rag ingest) writes to the index;"
        " then it is answered 409.",
    )

    # speed: how the model and the vector search run (docs/speed.md says why these defaults)
    embed_backend: Literal[QUERY_BACKENDS] = Field("onnx", description="What embeds questions.")
    passage_backend: Literal[PASSAGE_BACKENDS] = Field("onnx", description="What embeds passages in fp32.")
    embed_precision: Literal[PRECISIONS] = Field(
        "auto",
        description="Passages' precision: auto is bf16 for bulk ingests on a CPU with native bf16, fp32 otherwise.",
    )
    embed_threads: int = Field(1, ge=1, description="Threads embedding one batch of questions.")
    passage_threads: int | None = Field(
        None, ge=1, description="Workers (one thread each) embedding passages; unset: one per core."
    )
    query_cache_size: int = Field(1024, ge=0, description="Questions whose vectors are kept; 0: none.")
    query_batch: int = Field(32, ge=1, description="Most questions embedded in one call.")
    query_batches: int | None = Field(
        None, ge=1, description="Batches of questions embedded at once; unset: one per core."
    )
    query_batch_wait_ms: float = Field(
        0.0, ge=0, description="How long a batch of questions waits for more before it is embedded."
    )
    faiss_threads: int = Field(1, ge=1, description="Threads of one vector search (embedded index).")
    vector_batch: bool = Field(
        True, description="Join concurrent exact vector searches into one call (embedded index)."
    )
    vector_mmap: bool = Field(
        True, description="Memory-map vector files (shared by all workers); false: read them into memory."
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Where models exported to ONNX are kept (default under XDG_CACHE_HOME or ~/.cache).",
    )

    @field_validator("database_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def embedder_options(self) -> EmbedderOptions:
        """How the model runs."""
        return EmbedderOptions(
            backend=self.embed_backend,
            passage_backend=self.passage_backend,
            precision=self.embed_precision,
            query_threads=self.embed_threads,
            passage_threads=self.passage_threads,
            cache_dir=self.cache_dir,
            query_cache_size=self.query_cache_size,
            query_batch=self.query_batch,
            query_batches=self.query_batches,
            query_batch_wait_ms=self.query_batch_wait_ms,
        )

    def embedded_options(self, *, background: bool = False) -> EmbeddedOptions:
        """How an embedded collection runs; `background`: a server's (new bases built in a thread)."""
        from rag.storage.embedded.collection import REBUILD_AFTER, EmbeddedOptions
        from rag.storage.embedded.vectors import SearchOptions

        search = SearchOptions(faiss_threads=self.faiss_threads, batch=self.vector_batch, mmap=self.vector_mmap)
        return EmbeddedOptions(background, self.rebuild_after or REBUILD_AFTER, search)

    def limits(self) -> Limits:
        """How big one transcript may be."""
        return Limits(self.max_turns, self.max_text_chars, self.max_upload_bytes)

    def database(self, url: str | None = None) -> DatabaseOptions | None:
        """How to reach the collection's database: `url` (a command's --database-url) or RAG_DATABASE_URL;
        None when neither is set (the collection is the index directory)."""
        from rag.storage.postgres import DatabaseOptions

        secret = SecretStr(url) if url else self.database_url
        if secret is None:
            return None
        return DatabaseOptions(
            url=secret,
            pool_size=self.database_pool_size,
            connect_timeout_s=self.database_connect_timeout_s,
            statement_timeout_s=self.database_statement_timeout_s,
        )

    ray_address: str | None = Field(
        None,
        description="Ray cluster that rag ingest, rag reindex and rag serve --replicas use (needs the ray extra):"
        " `auto` (the cluster this machine belongs to), `local` (a Ray started inside the command, for one"
        " machine) or the head's address (host:6379, or ray://host:10001 for Ray Client); unset: no Ray.",
    )
    ray_gpus: int | None = Field(
        None,
        ge=0,
        description="GPUs that embed on the Ray cluster, one model each; unset: every GPU it has; 0: CPUs only.",
    )
    ray_actor_cpus: int = Field(
        1,
        ge=1,
        description="CPUs (and threads) each embedding actor takes when embedding on CPUs; one model per actor.",
    )

    @field_validator("embed_backend", "passage_backend", "embed_precision", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("ray_address", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
