"""`rag db`: the schema of a collection's PostgreSQL database (migrations)."""

from __future__ import annotations

import typer

from rag.cli.common import DatabaseUrlOption, app, out, read_settings, translate_errors
from rag.errors import RagError

db = typer.Typer(
    help="The PostgreSQL database of a collection (RAG_DATABASE_URL or --database-url).", no_args_is_help=True
)
app.add_typer(db, name="db")


@db.command()
@translate_errors
def upgrade(database_url: DatabaseUrlOption = None) -> None:
    """Apply the schema migrations the database lacks (each in one transaction); safe to run again.

    Every command and server applies them too when it opens the collection; run this where that cannot
    happen (a read replica is upgraded through its primary) or before a deployment.
    """
    from rag.storage import postgres

    database = read_settings().database(database_url)
    if database is None:
        raise RagError("rag db upgrade needs a database: --database-url or RAG_DATABASE_URL", field="database_url")
    applied_now, history = postgres.upgrade(database)
    for version, name, when in history:
        marker = "applied now" if version in applied_now else f"applied {when}"
        out.print(f"{version:>3}  {name}  ({marker})", highlight=False)
    version = history[-1][0] if history else 0
    out.print(f"{database.location}: schema at version {version}", highlight=False)
