"""create_app(settings): the FastAPI application, with the index loaded once at start-up."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from api import errors, observability, openapi
from api.deps import IndexHolder
from api.limits import BodyLimitMiddleware
from api.observability import Metrics, ObservabilityMiddleware
from api.routes import collection, context, documents, health, metrics, pages, search
from api.schemas.documents import TranscriptIn, UploadIn
from api.security import ApiKeys, SecurityHeadersMiddleware, authorize
from rag.config import Settings
from rag.embedding import Embedder
from rag.errors import RagError

log = logging.getLogger("api")


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """The service; `embedder` lets a caller that has the model loaded already share it."""
    settings = settings or Settings()
    observability.configure_logging(settings.log_level)
    keys = ApiKeys.from_settings(settings)
    if settings.protect_reads and not keys:
        raise RagError("RAG_PROTECT_READS needs keys: set RAG_API_KEYS or RAG_API_KEYS_FILE", field="protect_reads")
    holder = IndexHolder(settings, embedder)
    app_metrics = Metrics(holder.counts_if_reachable, settings.metrics_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not keys:
            log.warning(
                "no API keys configured (RAG_API_KEYS, RAG_API_KEYS_FILE): anyone who can reach this server"
                " may add, replace and delete documents"
            )
        await run_in_threadpool(holder.load)
        if holder.model_load_seconds is not None:
            app_metrics.model_load.set(holder.model_load_seconds)
        yield
        await run_in_threadpool(holder.close)  # a database's connections are the app's, closed with it

    app = FastAPI(
        title="Transcript search",
        version="0.1.0",
        description="Ask who said what about X across speech transcripts; get the exact passages, attributed.",
        lifespan=lifespan,
        dependencies=[Depends(authorize)],
    )
    app.state.settings = settings
    app.state.holder = holder
    app.state.keys = keys
    app.state.metrics = app_metrics
    errors.install(app)
    for module in (search, context, documents, collection, health, metrics):
        app.include_router(module.router)
    pages.install(app)  # after the API's routes: /documents and /speakers stay theirs
    openapi.install(app, extra_models=[TranscriptIn, UploadIn], settings=settings, keyed=bool(keys))

    # added innermost first: the body limit sits inside CORS (so a 413 carries CORS headers),
    # and observability outside everything (so every answer has a request id and a log line)
    app.add_middleware(
        BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "X-Total-Count", "Location"],
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(ObservabilityMiddleware, metrics=app_metrics)
    return app
