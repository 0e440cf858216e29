# Set-up and the two everyday jobs. Everything installs into .venv; nothing else is needed.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
RAY_STAMP := $(VENV)/.installed-ray

.PHONY: serve test test-ray lint setup screenshots

serve: $(STAMP)  ## serve the default index, building it from examples/ when missing
	$(VENV)/bin/rag serve

# the HTTP tests once more, against `rag serve --workers 2` in a subprocess
HTTP_TESTS := tests/api/test_api.py tests/api/test_context_api.py tests/api/test_openapi_fields.py \
	tests/api/test_operability.py tests/api/test_security.py

test: $(STAMP)  ## run the test suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q
	$(VENV)/bin/pytest -q --server-workers 2 $(HTTP_TESTS)

# the tests marked ray (left out of `make test`): a local Ray cluster of 2 CPUs started by the fixtures
test-ray: $(RAY_STAMP)  ## ingest, reindex and serve on Ray
	$(VENV)/bin/pytest -q -m ray

lint: $(STAMP)
	$(VENV)/bin/ruff check .

screenshots: $(STAMP)  ## docs/web-*.png: the web pages in Debian's Chromium, over the bundled examples
	$(VENV)/bin/python -m bench.screenshots

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(RAY_STAMP): $(STAMP)
	$(VENV)/bin/pip install --quiet -e '.[dev,ray]'
	touch $(RAY_STAMP)
