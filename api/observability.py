"""Request ids, one JSON log line per request, and Prometheus metrics by route template and status."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from fastapi.routing import iter_route_contexts
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

REQUEST_ID_HEADER = "x-request-id"
# a client's id is echoed into headers and logs, so only a tame shape is taken from it
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
_RECORD_FIELDS = ("method", "route", "path", "status", "duration_ms")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_log = logging.getLogger("api.access")
log = logging.getLogger("api")


class RequestIdFilter(logging.Filter):
    """Stamp each record with the request being served when it was logged (the formatter may run later)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and request fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            out["request_id"] = rid
        for key in _RECORD_FIELDS:
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for the service's loggers; calling it again changes only the level."""
    for name in ("api", "rag"):
        logger = logging.getLogger(name)
        if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(JsonFormatter())
            handler.addFilter(RequestIdFilter())
            logger.addHandler(handler)
        logger.setLevel(level.upper())


class Metrics:
    """The service's metrics in a registry of its own (one per app, so apps in one process do not clash).

    With `shared_dir` (several worker processes, prometheus_client's multiprocess mode), each worker writes
    its counts there and a scrape of any worker sums them all; the index size is read when scraped.
    """

    def __init__(self, index_counts: Callable[[], dict[str, int] | None], shared_dir: Path | None = None):
        self.shared_dir = shared_dir
        self.index_counts = index_counts
        self.registry = CollectorRegistry()
        labels = ["method", "route", "status"]
        self.requests = Counter("http_requests_total", "HTTP requests answered.", labels, registry=self.registry)
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request.",
            labels,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.model_load = Gauge(
            "rag_model_load_seconds",
            "Time it took to load the embedding model.",
            registry=self.registry,
            multiprocess_mode="max",
        )
        self.registry.register(IndexSize(index_counts))

    def exposition(self) -> CollectorRegistry:
        """What a scrape shows: this process's metrics, or every worker's summed, and the index size."""
        if self.shared_dir is None:
            return self.registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.shared_dir))
        registry.register(IndexSize(self.index_counts))
        return registry

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method if method in _METHODS else "OTHER", route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)


class IndexSize(Collector):
    """Documents and passages in the index, read when scraped (the same in every worker)."""

    def __init__(self, counts: Callable[[], dict[str, int] | None]):
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self.counts() or {}
        for what in ("documents", "passages"):
            yield GaugeMetricFamily(f"rag_index_{what}", f"{what.capitalize()} in the index.", counts.get(what, 0))


class ObservabilityMiddleware:
    """Outermost layer: gives each request an id, times it, counts it, logs it, and turns a crash into a 500."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics
        self._templates: list[tuple[str, re.Pattern]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, REQUEST_ID_HEADER)
        rid = given if given and _CLIENT_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        response_started = recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            seconds = time.perf_counter() - started
            route = self.route_template(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            access_log.info(
                "%s %s %s",
                scope["method"],
                route,
                status,
                extra={
                    "request_id": rid,
                    "method": scope["method"],
                    "route": route,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER.encode(), rid.encode())]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record()  # before the last byte leaves: a client holding the answer finds it counted and logged
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"], extra={"request_id": rid})
            if response_started:
                raise
            await error_response(500, f"internal error; the server log has the details (request {rid})")(
                scope, receive, send_with_id
            )
        finally:
            record()
            request_id.reset(token)

    def route_template(self, scope: Scope) -> str:
        """The route's path template (`/documents/{id}`), never the raw path: metrics stay bounded."""
        route = scope.get("route")
        if route is not None and getattr(route, "path", None):
            return route.path
        # answered before routing (a body too large, a CORS preflight): find the template here
        if self._templates is None:
            self._templates = _route_templates(scope.get("app"))
        path = scope.get("path", "")
        return next((template for template, regex in self._templates if regex.match(path)), "unmatched")


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None


def _route_templates(app: object) -> list[tuple[str, re.Pattern]]:
    routes = getattr(app, "routes", ())
    paths = dict.fromkeys(ctx.path for ctx in iter_route_contexts(routes) if ctx.path)
    # mounted apps (the pages' /static files) under one label each, not one per file
    paths.update(dict.fromkeys(f"{route.path}/{{path:path}}" for route in routes if isinstance(route, Mount)))
    return [(path, compile_path(path)[0]) for path in paths]
