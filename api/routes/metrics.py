"""GET /metrics: Prometheus text format (requests by route and status, index size, model load time)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.security import public

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
    summary="Prometheus metrics",
)
@public
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.exposition()), media_type=CONTENT_TYPE_LATEST)
