"""The `rag` command line; each module registers its commands on the shared app."""

from __future__ import annotations

import sys

from rag.cli import database, indexing, querying, scaling, serving  # noqa: F401 - importing registers the commands
from rag.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    sys.exit(app())
