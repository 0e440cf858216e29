"""API keys for writes (and reads when asked), compared in constant time and never logged."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import HTTPError
from rag.config import Settings
from rag.errors import RagError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READ_ONLY = "__rag_read_only__"
_PUBLIC = "__rag_public__"
_PAGE = "__rag_page__"

# The web pages run only the scripts and styles the service itself serves: text from a transcript
# can never run as script, even if it reached the page as HTML. Recordings may live elsewhere (media-src);
# the pages talk to this service's JSON API only (connect-src).
PAGE_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' http: https:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class ApiKeys:
    """The keys that may call protected endpoints; an empty set means the endpoints are open."""

    def __init__(self, keys: list[str]):
        self._keys = [key.encode() for key in dict.fromkeys(keys) if key]

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiKeys:
        keys = [secret.get_secret_value().strip() for secret in settings.api_keys]
        if settings.api_keys_file is not None:
            keys.extend(_read_keys_file(settings.api_keys_file))
        return cls(keys)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"ApiKeys({len(self._keys)} keys)"  # never the keys themselves

    def accepts(self, presented: str) -> bool:
        given = presented.encode()
        # every key is compared, so the time taken does not tell which key came close
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(given, key)
        return matched


def _read_keys_file(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"cannot read the API keys file {path}: {exc}", field="api_keys_file") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def read_only(endpoint: Callable) -> Callable:
    """Mark a POST (or other unsafe method) that changes nothing, like /search, as a read."""
    setattr(endpoint, _READ_ONLY, True)
    return endpoint


def public(endpoint: Callable) -> Callable:
    """Mark a probe (/health, /ready, /metrics) that load balancers and scrapers call without a key."""
    setattr(endpoint, _PUBLIC, True)
    return endpoint


def page(endpoint: Callable) -> Callable:
    """Mark a web page's shell: open without a key (it holds no data; its API calls carry the key) and sent with
    the pages' Content-Security-Policy."""
    setattr(endpoint, _PAGE, True)
    return public(endpoint)


def needs_key(method: str, endpoint: Callable | None, protect_reads: bool) -> bool:
    if getattr(endpoint, _PUBLIC, False):
        return False
    return protect_reads or is_write(method, endpoint)


def is_write(method: str, endpoint: Callable | None) -> bool:
    """Every endpoint that is not GET/HEAD/OPTIONS is a write unless marked read_only: new ones are protected."""
    return method not in SAFE_METHODS and not getattr(endpoint, _READ_ONLY, False)


def presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = request.headers.get("x-api-key", "").strip()
    return key or None


async def authorize(request: Request) -> None:
    """A dependency of every route: with keys configured, writes need one, and reads too when protect_reads."""
    keys: ApiKeys = request.app.state.keys
    if not keys or not needs_key(
        request.method, request.scope.get("endpoint"), request.app.state.settings.protect_reads
    ):
        return
    presented = presented_key(request)
    if presented is None:
        raise HTTPError(
            401,
            "an API key is required: send Authorization: Bearer KEY or X-API-Key: KEY",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not keys.accepts(presented):
        raise HTTPError(403, "the API key is not valid")


class SecurityHeadersMiddleware:
    """Headers that stop a browser from reading a JSON answer as a page, or caching a private one; on the web
    pages, a Content-Security-Policy that lets only the service's own script files run."""

    HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
    PAGE_HEADERS = ((b"content-security-policy", PAGE_CSP.encode()),)

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
                # routing has run by now and named the endpoint in the (shared) scope
                if getattr(scope.get("endpoint"), _PAGE, False):
                    message["headers"].extend(self.PAGE_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
