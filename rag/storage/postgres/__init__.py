"""The postgres backend: a collection in one PostgreSQL database (pgvector), shared by many servers.

Importing this package needs nothing beyond the core install; its functions need the `postgres` extra
(psycopg, psycopg_pool, pgvector), and say so when it is missing.
"""

from __future__ import annotations

from rag.errors import StorageUnavailableError
from rag.storage.postgres.options import DatabaseOptions, masked_url

EXTRA = "pip install -e '.[postgres]'"

__all__ = ["EXTRA", "DatabaseOptions", "check", "masked_url", "open_collection", "repair", "require_driver", "upgrade"]


def require_driver() -> None:
    """A StorageUnavailableError naming the extra to install when the PostgreSQL driver is missing."""
    try:
        import pgvector.psycopg  # noqa: F401
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        raise StorageUnavailableError(
            f"a database URL is set but PostgreSQL support is not installed ({exc.name} is missing):"
            f" install it with {EXTRA}",
            field="database_url",
        ) from None


def open_collection(options: DatabaseOptions, **kwargs):
    """PostgresCollection.open(options, **kwargs), once the driver is known to be there."""
    require_driver()
    from rag.storage.postgres.collection import PostgresCollection

    return PostgresCollection.open(options, **kwargs)


def upgrade(options: DatabaseOptions) -> tuple[list[int], list[tuple[int, str, str]]]:
    """Apply the migrations the database lacks: (versions applied now, every migration applied)."""
    require_driver()
    from rag.storage.postgres import schema
    from rag.storage.postgres.connection import Database

    database = Database(options)
    with database.connect_once() as conn, database.errors():
        done = schema.upgrade(conn, database.location)
        return done, schema.applied(conn)


def check(options: DatabaseOptions):
    require_driver()
    from rag.storage.postgres.integrity import check as check_database

    return check_database(options)


def repair(options: DatabaseOptions, *, model: str | None = None):
    require_driver()
    from rag.storage.postgres.integrity import repair as repair_database

    return repair_database(options, model=model)
