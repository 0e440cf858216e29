"""POST /context: a language model's context for a question, with citations."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import IndexDep
from api.limits import check_question, within
from api.schemas.context import ContextRequest, ContextResponse
from api.schemas.fields import ErrorOut
from api.security import read_only
from rag.context import build_context

router = APIRouter(tags=["chat"])


@router.post(
    "/context",
    response_model=ContextResponse,
    responses={code: {"model": ErrorOut} for code in (400, 413, 422, 503)},
    summary="Numbered, attributed quotes answering a question, within a token budget, for a chat model's prompt",
)
@read_only
async def context(body: ContextRequest, index: IndexDep, request: Request) -> dict:
    settings = request.app.state.settings
    check_question(
        settings, body.k, [("question", body.question), *((f"history.{i}", h) for i, h in enumerate(body.history))]
    )
    result = await within(
        settings.request_timeout_s,
        build_context,
        index,
        body.question,
        k=body.k,
        max_tokens=body.max_tokens,
        filters=body.filters.to_filters() if body.filters else None,
        history=body.history,
    )
    return result.to_dict()
