"""The served OpenAPI schema gives every field a description and an example: clients and tool schemas come from it."""

from __future__ import annotations

from collections.abc import Iterator


def _properties(schema: object, where: str) -> Iterator[tuple[str, dict]]:
    """Every property of every object schema nested anywhere in `schema`, with a dotted location."""
    if isinstance(schema, dict):
        for name, prop in (schema.get("properties") or {}).items():
            yield f"{where}.{name}", prop
        for key, value in schema.items():
            if key != "examples":  # example values are data, not schemas
                yield from _properties(value, f"{where}.{key}" if key != "properties" else where)
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            yield from _properties(item, f"{where}[{i}]")


def _has_example(node: dict) -> bool:
    return "example" in node or bool(node.get("examples"))


def test_every_property_of_every_schema_has_a_description_and_an_example(http):
    schema = http.get("/openapi.json").json()
    missing = [
        f"{where}: {', '.join(lack)}"
        for where, prop in _properties(schema, "#")
        if (
            lack := [k for k, ok in (("description", "description" in prop), ("example", _has_example(prop))) if not ok]
        )
    ]
    assert not missing, "\n".join(missing)


def test_every_parameter_has_a_description_and_an_example(http):
    paths = http.get("/openapi.json").json()["paths"]
    missing = [
        f"{method.upper()} {path} {param['name']}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        for param in operation.get("parameters", [])
        if "description" not in param or not (_has_example(param) or _has_example(param.get("schema", {})))
    ]
    assert not missing, missing


def test_the_walk_finds_the_properties_of_request_and_response_models(http):
    schemas = http.get("/openapi.json").json()["components"]["schemas"]
    found = {where for where, _ in _properties({"components": {"schemas": schemas}}, "#")}
    for model in ("SearchRequest", "SearchResultOut", "ContextRequest", "ContextResponse", "CitationOut", "ErrorOut"):
        assert any(where.startswith(f"#.components.schemas.{model}.") for where in found), model
