"""Bring a database to the newest schema (``inkdigit db upgrade``, and every server at start-up).

Several processes may start at once (``inkdigit serve --workers N``, several replicas on one
PostgreSQL), so the upgrade runs under a lock that every one of them takes: an advisory lock on
PostgreSQL, a file lock beside the SQLite file. Whoever comes second finds the work done.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import URL

from inkdigit.service.db.session import configure_sqlite, sqlite_path, sync_url

MIGRATIONS = Path(__file__).with_name("migrations")
_PG_LOCK = 0x696E6B64  # "inkd": the advisory lock key every inkdigit process upgrades under


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest revision this code knows."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: URL, revision: str = "head") -> tuple[str | None, str]:
    """Migrate the database at ``url`` to ``revision``; answers (revision before, revision after)."""
    engine = create_engine(sync_url(url))
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", configure_sqlite)
    try:
        with _lock(url), engine.connect() as connection:
            if url.get_backend_name() == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK})
                connection.commit()
            try:
                before = current(connection)
                if before != head() or revision != "head":
                    config = alembic_config()
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
                    connection.commit()
                return before, current(connection) or ""
            finally:
                if url.get_backend_name() == "postgresql":
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK})
                    connection.commit()
    finally:
        engine.dispose()


@contextmanager
def _lock(url: URL) -> Iterator[None]:
    path = sqlite_path(url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".migrate-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
