"""/documents: add, replace, show, list and delete transcripts while searches go on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import IndexDep, LimitsDep, WritableIndexDep
from api.schemas.documents import DocumentDetailOut, DocumentOut, DocumentWriteOut
from api.schemas.fields import ErrorOut, IsoDate, StoredText
from api.uploads import MULTIPART, read_transcript
from rag.documents import (
    DocumentDetail,
    DocumentWrite,
    check_document_id,
    delete_document,
    get_document,
    list_documents,
    put_document,
)
from rag.models import Document

router = APIRouter(tags=["documents"])

DocumentId = Annotated[str, Path(alias="id", description="The document's id.", examples=["transport_briefing"])]

TRANSCRIPT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A transcript in our JSON format, or a file upload (any supported format).",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/TranscriptIn"}},
            MULTIPART: {"schema": {"$ref": "#/components/schemas/UploadIn"}},
        },
    }
}
_ERROR = {"model": ErrorOut}
WRITE_RESPONSES = {
    200: {"model": DocumentWriteOut, "description": "The same content was already indexed: nothing written."},
    **{code: _ERROR for code in (400, 409, 413, 415, 422, 503)},
}
READ_RESPONSES = {code: _ERROR for code in (422, 503)}


@router.post(
    "/documents",
    status_code=201,
    response_model=DocumentWriteOut,
    responses=WRITE_RESPONSES,
    openapi_extra=TRANSCRIPT_BODY,
    summary="Add a transcript, or replace the one with its id",
)
async def add_document(request: Request, index: WritableIndexDep, limits: LimitsDep) -> JSONResponse:
    doc_id, transcript = await read_transcript(request, limits)
    return _written(await run_in_threadpool(put_document, index, doc_id, transcript))


@router.put(
    "/documents/{id}",
    status_code=201,
    response_model=DocumentWriteOut,
    responses=WRITE_RESPONSES,
    openapi_extra=TRANSCRIPT_BODY,
    summary="Put a transcript under this id",
)
async def replace_document(
    doc_id: DocumentId, request: Request, index: WritableIndexDep, limits: LimitsDep
) -> JSONResponse:
    check_document_id(doc_id)
    _, transcript = await read_transcript(request, limits, path_id=doc_id)
    return _written(await run_in_threadpool(put_document, index, doc_id, transcript))


@router.get(
    "/documents",
    response_model=list[DocumentOut],
    responses=READ_RESPONSES,
    summary="List documents, by date then id; the total is in X-Total-Count",
)
def documents(
    index: IndexDep,
    response: Response,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="Documents to skip.", examples=[0])] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Documents to return.", examples=[100])] = 100,
    date_from: Annotated[
        IsoDate | None, Query(description="Only documents dated on or after.", examples=["2025-01-01"])
    ] = None,
    date_to: Annotated[
        IsoDate | None, Query(description="Only documents dated on or before.", examples=["2025-12-31"])
    ] = None,
    speaker: Annotated[
        list[StoredText] | None,
        Query(description="Only documents where one of these speakers has a turn.", examples=[["Sergey Lavrov"]]),
    ] = None,
) -> list[Document]:
    docs, total = list_documents(
        index,
        offset=offset,
        limit=limit,
        date_from=date_from.isoformat() if date_from else None,
        date_to=date_to.isoformat() if date_to else None,
        speakers=speaker or (),
    )
    response.headers["X-Total-Count"] = str(total)
    return docs


@router.get(
    "/documents/{id}",
    response_model=DocumentDetailOut,
    responses={404: _ERROR, **READ_RESPONSES},
    summary="A document's metadata and its turns, with where each passage lies",
)
def document(doc_id: DocumentId, index: IndexDep) -> DocumentDetail:
    return get_document(index, doc_id)


@router.delete(
    "/documents/{id}",
    status_code=204,
    response_class=Response,
    responses={404: _ERROR, 409: _ERROR, **READ_RESPONSES},
    summary="Delete a document; searches stop finding it when this returns",
)
def remove_document(doc_id: DocumentId, index: IndexDep) -> Response:
    delete_document(index, doc_id)
    return Response(status_code=204)


def _written(written: DocumentWrite) -> JSONResponse:
    body = DocumentWriteOut.model_validate(written, from_attributes=True).model_dump(mode="json")
    if written.status == "unchanged":
        return JSONResponse(body, status_code=200)
    return JSONResponse(body, status_code=201, headers={"Location": f"/documents/{written.id}"})
