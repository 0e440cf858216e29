"""create_app(settings): the FastAPI application, with the index loaded once at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api import errors
from api.deps import IndexHolder
from api.routes import collection, health, search
from rag.config import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    holder = IndexHolder(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(holder.load)
        yield

    app = FastAPI(
        title="Transcript search",
        version="0.1.0",
        description="Ask who said what about X across speech transcripts; get the exact passages, attributed.",
        lifespan=lifespan,
    )
    app.state.holder = holder
    errors.install(app)
    for module in (search, collection, health):
        app.include_router(module.router)
    return app
