"""GET /health: the service is up, and what it serves."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(request: Request) -> dict:
    holder = request.app.state.holder
    out = {"status": "ok", "index": str(holder.settings.index_dir)}
    try:
        index = holder.get()
    except Exception:
        return out
    counts = index.store.counts()
    return {**out, "documents": counts["documents"], "passages": counts["passages"], "model": index.manifest["model"]}
