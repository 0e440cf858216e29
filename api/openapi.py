"""The OpenAPI document: bodies FastAPI cannot declare itself (JSON or a file on one route) and who needs a key."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel

from api.schemas.fields import ErrorOut
from api.security import needs_key
from rag.config import Settings

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer KEY"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}
_AUTH_ERRORS = {
    "401": "No API key was sent.",
    "403": "The API key is not valid.",
}


def install(app: FastAPI, *, extra_models: list[type[BaseModel]], settings: Settings, keyed: bool) -> None:
    """Replace app.openapi: add `extra_models`, the configured limits, and security where a key is needed."""

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in extra_models:
            definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, nested in definition.pop("$defs", {}).items():
                components.setdefault(name, nested)
            components[model.__name__] = definition
        _set_limits(components, settings)
        if keyed:
            schema["components"]["securitySchemes"] = SECURITY_SCHEMES
            for route in iter_route_contexts(app.routes):
                operations = schema["paths"].get(route.path_format or "", {})
                for method in route.methods or ():
                    if method.lower() in operations and needs_key(method, route.endpoint, settings.protect_reads):
                        _require_key(operations[method.lower()])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _set_limits(components: dict, settings: Settings) -> None:
    """The limits read from the settings, where the schema can say them: clients see what is enforced."""
    limits = [
        ("SearchRequest", "query", "maxLength", settings.max_query_chars),
        ("SearchRequest", "k", "maximum", settings.max_k),
        ("ContextRequest", "question", "maxLength", settings.max_query_chars),
        ("ContextRequest", "k", "maximum", settings.max_k),
        ("TranscriptIn", "turns", "maxItems", settings.max_turns),
        ("TurnIn", "text", "maxLength", settings.max_text_chars),
    ]
    for model, field, keyword, value in limits:
        prop = components.get(model, {}).get("properties", {}).get(field)
        if prop is not None:
            prop[keyword] = min(value, prop.get(keyword, value))
    history = components.get("ContextRequest", {}).get("properties", {}).get("history")
    if history is not None:  # each earlier question is held to the same length as the question
        history.setdefault("items", {})["maxLength"] = settings.max_query_chars


def _require_key(operation: dict) -> None:
    operation["security"] = [{name: []} for name in SECURITY_SCHEMES]
    responses = operation.setdefault("responses", {})
    for code, description in _AUTH_ERRORS.items():
        responses.setdefault(
            code,
            {
                "description": description,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorOut.__name__}"}}},
            },
        )
