"""POST /search: the passages that best answer a question."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import IndexDep
from api.limits import check_question, within
from api.schemas.fields import ErrorOut
from api.schemas.search import SearchRequest, SearchResponse
from api.security import read_only
from rag.search import search as run_search

router = APIRouter(tags=["search"])


@router.post(
    "/search",
    response_model=SearchResponse,
    responses={code: {"model": ErrorOut} for code in (400, 413, 422, 503)},
    summary="Find who said what about a question",
)
@read_only
async def search(body: SearchRequest, index: IndexDep, request: Request) -> JSONResponse:
    settings = request.app.state.settings
    check_question(settings, body.k, [("query", body.query)])
    result = await within(
        settings.request_timeout_s,
        run_search,
        index,
        body.query,
        k=body.k,
        offset=body.offset,
        filters=body.filters.to_filters() if body.filters else None,
        mode=body.mode,
    )
    # the library's shape as it is, not validated again against SearchResponse (which documents it, and
    # which the schema tests hold it to): that costs more than the rest of the answer
    return JSONResponse(result.to_dict())
