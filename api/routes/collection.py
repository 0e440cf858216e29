"""GET and PATCH /speakers: who speaks in the index, under which names, and how much."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import IndexDep
from api.schemas.fields import ErrorOut
from api.schemas.speakers import SpeakerOut, SpeakersPatch
from rag.index import Index
from rag.models import NARRATOR

router = APIRouter(tags=["collection"])


@router.get("/speakers", response_model=list[SpeakerOut], responses={503: {"model": ErrorOut}})
def speakers(index: IndexDep) -> list[dict]:
    return speaker_list(index)


@router.patch(
    "/speakers",
    response_model=list[SpeakerOut],
    responses={code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 413, 422, 503)},
    summary="Rename or merge speakers, without re-embedding anything",
)
def patch_speakers(body: SpeakersPatch, index: IndexDep) -> list[dict]:
    if body.rename:
        index.rename_speaker(body.rename.name, body.rename.to)
    else:
        index.merge_speakers(body.merge.names, body.merge.into)
    return speaker_list(index)


def speaker_list(index: Index) -> list[dict]:
    directory = index.speakers
    people: dict[str, dict] = {}
    for name, count in index.store.speakers():
        if name == NARRATOR:  # narration is no one's words
            continue
        person = people.setdefault(directory.canonical_of(name), {"passages": 0, "aliases": []})
        person["passages"] += count
        person["aliases"].append({"name": name, "passages": count})
    ordered = sorted(people.items(), key=lambda item: (-item[1]["passages"], item[0]))
    return [{"name": name, **person} for name, person in ordered]
