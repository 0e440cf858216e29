"""GET and PATCH /speakers: who speaks in the index, under which names, and how much."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import IndexDep
from api.schemas.fields import ErrorOut
from api.schemas.speakers import SpeakerOut, SpeakersPatch
from rag.models import Person

router = APIRouter(tags=["collection"])


@router.get("/speakers", response_model=list[SpeakerOut], responses={503: {"model": ErrorOut}})
def speakers(index: IndexDep) -> list[Person]:
    return index.people()


@router.patch(
    "/speakers",
    response_model=list[SpeakerOut],
    responses={code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 413, 422, 503)},
    summary="Rename or merge speakers, without re-embedding anything",
)
def patch_speakers(body: SpeakersPatch, index: IndexDep) -> list[Person]:
    if body.rename:
        index.rename_speaker(body.rename.name, body.rename.to)
    else:
        index.merge_speakers(body.merge.names, body.merge.into)
    return index.people()
