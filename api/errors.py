"""Every error the API returns has one shape: {"error": message, "field": name}."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.errors import (
    IndexBusyError,
    IndexMismatchError,
    InvalidInputError,
    NoIndexError,
    NotFoundError,
    ParseError,
    RagError,
    StorageUnavailableError,
    TooLargeError,
)

_STATUS = [
    (NoIndexError, 503),
    (StorageUnavailableError, 503),
    (NotFoundError, 404),
    (InvalidInputError, 422),
    (ParseError, 422),
    (TooLargeError, 413),
    (IndexBusyError, 409),
    (IndexMismatchError, 409),
]


def error_response(
    status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message, "field": field}, headers=headers)


def status_of(exc: RagError) -> int:
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)


class HTTPError(StarletteHTTPException):
    """An error the API itself raises (auth, limits, timeouts), with the field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(status, message, headers)
        self.field = field


def install(app: FastAPI) -> None:
    @app.exception_handler(RagError)
    async def _rag_error(request: Request, exc: RagError) -> JSONResponse:
        return error_response(status_of(exc), exc.message, exc.field)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(part) for part in first.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:]  # where the field was sent, not which field
        field = ".".join(loc) or "body"
        message = first.get("msg", "invalid request").removeprefix("Value error, ")
        if first.get("type") == "json_invalid":
            return error_response(400, f"malformed JSON: {first.get('ctx', {}).get('error', message)}", "body")
        return error_response(422, f"{field}: {message}", field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "field", None), exc.headers)

    # anything else is answered 500 by api.observability, which logs it with the request id
