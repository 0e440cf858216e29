"""GET /documents and GET /speakers: what the index holds."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import IndexDep
from api.schemas import DocumentOut, ErrorOut, SpeakerOut

router = APIRouter(tags=["collection"])


@router.get("/documents", response_model=list[DocumentOut], responses={503: {"model": ErrorOut}})
def documents(
    index: IndexDep,
    offset: int = Query(0, ge=0, description="Documents to skip."),
    limit: int = Query(100, ge=1, le=1000, description="Documents to return."),
) -> list[dict]:
    return [
        {
            "id": d.id,
            "title": d.title,
            "date": d.date,
            "place": d.place,
            "source": d.source,
            "turns": d.turns,
            "passages": d.passages,
        }
        for d in index.store.documents(offset=offset, limit=limit)
    ]


@router.get("/speakers", response_model=list[SpeakerOut], responses={503: {"model": ErrorOut}})
def speakers(index: IndexDep) -> list[dict]:
    return [{"name": name, "passages": count} for name, count in index.store.speakers()]
