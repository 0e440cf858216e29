"""GET /speakers: who speaks in the index, and how much."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import IndexDep
from api.schemas import ErrorOut, SpeakerOut

router = APIRouter(tags=["collection"])


@router.get(
    "/speakers",
    response_model=list[SpeakerOut],
    responses={code: {"model": ErrorOut} for code in (503,)},
)
def speakers(index: IndexDep) -> list[dict]:
    return [{"name": name, "passages": count} for name, count in index.store.speakers()]
