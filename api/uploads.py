"""Transcript request bodies: our JSON format, or a multipart file upload, read in memory only."""

from __future__ import annotations

import json
import sys

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from api.errors import HTTPError
from api.schemas.documents import TranscriptIn
from rag.documents import content_id, transcript_from_body, transcript_from_upload
from rag.models import FORMATS, Limits, Transcript

JSON_TYPES = ("application/json",)
MULTIPART = "multipart/form-data"


class InMemoryMultiPartParser(MultiPartParser):
    # Starlette spools files over 1 MB to a temporary file; the body limit already bounds the
    # size, so an upload never touches the disk outside the index
    spool_max_size = sys.maxsize


async def read_transcript(request: Request, limits: Limits, path_id: str | None = None) -> tuple[str, Transcript]:
    """The (id, transcript) a POST or PUT carries; `path_id` (PUT) wins over any id in the body."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == MULTIPART:
        return await _from_upload(request, limits, path_id)
    if media_type in JSON_TYPES or media_type.endswith("+json"):
        return await _from_json(request, limits, path_id)
    raise HTTPError(415, f"send the transcript as application/json or {MULTIPART} (a file in the field 'file')", "body")


async def _from_json(request: Request, limits: Limits, path_id: str | None) -> tuple[str, Transcript]:
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPError(400, f"malformed JSON: {exc}", "body") from None
    try:
        body = TranscriptIn.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    transcript = await run_in_threadpool(
        transcript_from_body, body.model_dump(mode="json", exclude_none=True, exclude={"id"}), limits
    )
    return path_id or body.id or content_id(transcript), transcript


async def _from_upload(request: Request, limits: Limits, path_id: str | None) -> tuple[str, Transcript]:
    parser = InMemoryMultiPartParser(request.headers, request.stream(), max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise HTTPError(400, f"malformed multipart body: {exc.message}", "body") from None
    try:
        fmt = form.get("format")
        if fmt is not None and fmt not in FORMATS:
            raise HTTPError(422, f"format: one of {', '.join(FORMATS)}", "format")
        upload = form.get("file")
        if upload is None:
            raise HTTPError(422, "file: a transcript file is required in the field 'file'", "file")
        if isinstance(upload, UploadFile):
            data, filename = await upload.read(), upload.filename
        else:  # a plain form field: its text is the transcript, its format found from the content
            data, filename = upload.encode("utf-8", "surrogateescape"), None
    finally:
        await form.close()
    doc_id, transcript = await run_in_threadpool(transcript_from_upload, data, filename, limits, fmt)
    return path_id or doc_id, transcript
