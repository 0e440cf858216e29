"""Schemathesis over the live service's OpenAPI schema: no generated request is answered with a 500.

Schemathesis's pytest plugin does not run under pytest 9, so its Python API is driven from
Hypothesis here: one test per operation and generation mode, a bounded number of examples each.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from api.main import create_app
from rag.config import Settings
from rag.ingest import ingest_paths
from tests.conftest import SEED, LiveServer

KEY = "schemathesis-key"
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}
# the operations, read from the app itself so that a new endpoint is fuzzed without editing this file;
# negative data only where there is something to make invalid (parameters or a body)
_PATHS = create_app(Settings(index_dir="unused")).openapi()["paths"]
CASES = sorted(
    (method.upper(), path, mode)
    for path, operations in _PATHS.items()
    for method, operation in operations.items()
    for mode in EXAMPLES
    if mode is GenerationMode.POSITIVE or operation.get("parameters") or operation.get("requestBody")
)
# A file upload is schema-valid whatever its bytes, but only a transcript is accepted; and a JSON
# transcript has rules no schema states (a turn may not end before it starts): for these writes a
# 422 on schema-valid data is the right answer, so that one check is left out there.
SEMANTIC_422 = {("POST", "/documents"), ("PUT", "/documents/{id}")}
# A query string carries only text: the "invalid" `?speaker=true` schemathesis sends (meant as a
# boolean) is a valid speaker name, so accepting it is right (bad dates are tested in test_documents_api).
TEXT_ONLY_QUERY = {("GET", "/documents")}


@pytest.fixture(scope="module")
def fuzzed_server(new_place, embedder):
    """A writable index of its own, small limits, and keys, so writes are exercised with a valid key."""
    place = new_place("schemathesis")
    ingest_paths(place.open(create=True, embedder=embedder), [SEED])
    config = place.settings(
        api_keys=KEY,
        max_turns=20,
        max_text_chars=2_000,
        max_upload_bytes=50_000,
        max_body_bytes=1_000_000,  # above what the schema's limits allow, so a valid body is never a 413
    )
    with LiveServer(config, embedder=embedder) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(fuzzed_server):
    return schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in CASES])
def test_no_generated_request_is_a_server_error(api_schema, fuzzed_server, method, path, mode):
    operation = api_schema[path][method]
    sent = []  # the requests generated, so that an operation the fuzzer never reached fails
    excluded = [positive_data_acceptance] if (method, path) in SEMANTIC_422 else []
    if (method, path) in TEXT_ONLY_QUERY:
        excluded.append(negative_data_rejection)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[mode], deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        sent.append(case)
        case.call_and_validate(
            base_url=fuzzed_server.url, headers={"Authorization": f"Bearer {KEY}"}, excluded_checks=excluded
        )

    try:
        check()
    except Unsatisfiable:
        if mode is GenerationMode.NEGATIVE and not sent:
            pytest.skip(f"{method} {path} takes nothing that could be made invalid")
        raise
    assert sent, f"no request was generated for {method} {path}"
