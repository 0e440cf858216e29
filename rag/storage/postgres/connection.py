"""Connections to a collection's database: a pool with timeouts, transactions, and errors in the library's terms.

A read is one REPEATABLE READ READ ONLY transaction and a write one READ COMMITTED transaction, each on a
connection borrowed from a psycopg_pool pool. The pool checks a connection before lending it and replaces
broken ones, so a server carries on by itself once a database that went away is back. Every transaction
sets its search path and timeouts itself (SET LOCAL), so a transaction-pooling proxy in between is fine.

A database that cannot be reached, or a statement cut off by the statement timeout, is a
StorageUnavailableError naming the database (password masked), which the API answers 503.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from rag.errors import IndexBusyError, InvalidInputError, StorageUnavailableError
from rag.storage.postgres import schema
from rag.storage.postgres.options import DatabaseOptions

log = logging.getLogger("rag.storage")

# libpq's connect_timeout is whole seconds, and it treats 1 as 2
MIN_CONNECT_TIMEOUT_S = 2
# halfvec (0.7) and iterative index scans (0.8), which filtered searches rely on
PGVECTOR_MIN = (0, 8, 0)


class Database:
    """A database reached through a pool; open with `Database.connect()`, close with `close()`."""

    def __init__(self, options: DatabaseOptions):
        self.options = options
        self.location = options.location
        self.search_path = schema.SCHEMA
        self._pool: ConnectionPool | None = None

    # ------------------------------------------------------------------ connecting

    def _kwargs(self) -> dict:
        # bound how long a dead host can hold a connection attempt or an unanswered query (TCP only)
        timeout = max(MIN_CONNECT_TIMEOUT_S, round(self.options.connect_timeout_s))
        user_timeout_ms = int(1000 * (self.options.statement_timeout_s + self.options.connect_timeout_s))
        return {
            "autocommit": True,
            "connect_timeout": timeout,
            "tcp_user_timeout": user_timeout_ms,
            "keepalives": 1,
            "keepalives_idle": 30,
            "application_name": "rag",
        }

    def connect_once(self) -> psycopg.Connection:
        """One connection outside the pool (migrations, maintenance), autocommit."""
        with self.errors():
            return psycopg.connect(self.options.url.get_secret_value(), **self._kwargs())

    def open_pool(self) -> None:
        """Start the pool (after the schema is current: each connection learns the vector type)."""
        with self.errors():
            with self.connect_once() as conn:
                extension = conn.execute(
                    "SELECT n.nspname, e.extversion FROM pg_extension e"
                    " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'"
                ).fetchone()
            if extension is None or _version(extension[1]) < PGVECTOR_MIN:
                found = f"pgvector {extension[1]}" if extension else "no pgvector"
                raise StorageUnavailableError(
                    f"the database {self.location} has {found}; this program needs pgvector"
                    f" {'.'.join(map(str, PGVECTOR_MIN))} or later (ALTER EXTENSION vector UPDATE)",
                    field="database_url",
                )
            paths = [schema.SCHEMA, extension[0], "public"]
            self.search_path = ", ".join(dict.fromkeys(f'"{p}"' for p in paths))
        self._pool = ConnectionPool(
            self.options.url.get_secret_value(),
            kwargs=self._kwargs(),
            min_size=1,
            max_size=max(1, self.options.pool_size),
            open=False,
            configure=self._configure,
            check=ConnectionPool.check_connection,
            timeout=self.options.connect_timeout_s,
            # the pool retries a lost connection with growing pauses; giving up after a few lets the next
            # request start afresh, so a server is back at its first request after a long outage ends
            reconnect_timeout=2 * self.options.connect_timeout_s,
            name="rag",
        )
        self._pool.open(wait=False)

    def _configure(self, conn: psycopg.Connection) -> None:
        from pgvector.psycopg import register_vector

        conn.execute(f"SET search_path = {self.search_path}")
        register_vector(conn)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def reading(self) -> Iterator[psycopg.Connection]:
        """A read-only transaction on one snapshot: every statement in it sees the same state."""
        with self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", None) as conn:
            yield conn

    @contextmanager
    def writing(self) -> Iterator[psycopg.Connection]:
        """A write transaction; waiting longer than the lock timeout for another writer is an IndexBusyError."""
        with self._transaction("BEGIN", self.options.lock_timeout_s) as conn:
            yield conn

    @contextmanager
    def _transaction(self, begin: str, lock_timeout_s: float | None) -> Iterator[psycopg.Connection]:
        if self._pool is None:
            raise StorageUnavailableError(f"the database {self.location} is closed")
        with self.errors():
            conn = self._pool.getconn()
            try:
                statement_ms = int(1000 * self.options.statement_timeout_s)
                lock_ms = 0 if lock_timeout_s is None else max(1, int(1000 * lock_timeout_s))
                conn.execute(
                    f"{begin}; SET LOCAL search_path = {self.search_path};"
                    f" SET LOCAL statement_timeout = {statement_ms}; SET LOCAL lock_timeout = {lock_ms}"
                )
                try:
                    yield conn
                except BaseException:
                    _rollback(conn)
                    raise
                conn.execute("COMMIT")
            finally:
                self._pool.putconn(conn)

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Database failures raised inside become the library's errors, naming the database (masked)."""
        try:
            yield
        except psycopg.DataError as exc:
            if "NUL" not in str(exc):
                raise
            # the API refuses NUL characters where it reads text; whatever else sends one is told so
            raise InvalidInputError("text must not contain NUL characters") from None
        except pg_errors.ReadOnlySqlTransaction:
            raise StorageUnavailableError(
                f"the database {self.location} is read-only (a replica?): writes go to the primary",
                field="database_url",
            ) from None
        except pg_errors.SerializationFailure as exc:
            # on a hot standby, a read the replay of the primary's changes had to cancel: worth trying again
            raise StorageUnavailableError(
                f"the database {self.location} cancelled the read: {self.options.scrub(str(exc).splitlines()[0])}",
                field="database_url",
            ) from None
        except pg_errors.LockNotAvailable:
            raise IndexBusyError(
                f"another writer has held the collection in {self.location} longer than the write may wait",
                field="database_url",
            ) from None
        except pg_errors.QueryCanceled:
            raise StorageUnavailableError(
                f"the database {self.location} did not answer within"
                f" {self.options.statement_timeout_s:g} s (statement timeout)",
                field="database_url",
            ) from None
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
            reason = self.options.scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            log.warning("the database %s is unavailable: %s", self.location, reason)
            raise StorageUnavailableError(
                f"the database {self.location} is unavailable: {reason}", field="database_url"
            ) from None


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _rollback(conn: psycopg.Connection) -> None:
    """Roll back what failed; a connection that is gone has nothing to roll back (the pool drops it)."""
    with suppress(psycopg.Error):
        conn.execute("ROLLBACK")
