"""POST /search: the passages that best answer a question."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import IndexDep
from api.limits import within
from api.schemas.fields import ErrorOut
from api.schemas.search import SearchRequest, SearchResponse
from api.security import read_only
from rag.errors import InvalidInputError
from rag.search import search as run_search

router = APIRouter(tags=["search"])


@router.post(
    "/search",
    response_model=SearchResponse,
    responses={code: {"model": ErrorOut} for code in (400, 413, 422, 503)},
    summary="Find who said what about a question",
)
@read_only
async def search(body: SearchRequest, index: IndexDep, request: Request) -> dict:
    settings = request.app.state.settings
    if body.k > settings.max_k:
        raise InvalidInputError(f"k: at most {settings.max_k}", field="k")
    if len(body.query) > settings.max_query_chars:
        raise InvalidInputError(f"query: at most {settings.max_query_chars} characters", field="query")
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
    return result.to_dict()
