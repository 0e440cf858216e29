"""GET /health (the process is up) and GET /ready (the index and the model are loaded)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request

from api.errors import HTTPError
from api.schemas.fields import ErrorOut
from api.schemas.health import HealthOut, ReadyOut
from api.security import public
from rag.errors import RagError

router = APIRouter(tags=["health"])
log = logging.getLogger("api")


@router.get("/health", response_model=HealthOut, summary="Liveness: the process answers")
@public
def health(request: Request) -> HealthOut:
    holder = request.app.state.holder
    try:
        index = holder.get()
        counts = holder.counts()
    except Exception:
        return HealthOut(index=holder.location)
    return HealthOut(index=holder.location, model=index.manifest.model, **counts)


@router.get(
    "/ready",
    response_model=ReadyOut,
    responses={503: {"model": ErrorOut}},
    summary="Readiness: 200 once the index and the model are loaded, else 503",
)
@public
def ready(request: Request) -> ReadyOut:
    holder = request.app.state.holder
    try:
        index = holder.get()
    except RagError as exc:
        # not ready, whatever the reason (no index yet, another model): a load balancer waits
        raise HTTPError(503, exc.message) from None
    except Exception:
        log.exception("cannot open the index at %s", holder.location)
        raise HTTPError(503, "the index cannot be opened; the server log has the details") from None
    if not holder.ready:
        raise HTTPError(503, holder.load_error or "the model is still loading")
    return ReadyOut(model=index.manifest.model, **holder.counts())
