"""Connections: one async engine per process, and what each connection is set up with.

SQLite is opened in WAL mode (readers never wait for the writer, so several server workers share
one file) with ``synchronous=FULL`` (a commit that returned is on disk: an acknowledged write
survives ``kill -9`` and a power cut), foreign keys on (SQLite's default is off, and account
deletion relies on cascades) and a busy timeout (a writer waits for another worker's commit
instead of failing with "database is locked").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000


def database_url(configured: str | None, home: Path) -> URL:
    """The URL to connect to, with the async driver each backend is used with here.

    ``configured`` is ``INKDIGIT_DATABASE_URL``: ``postgresql://…`` (psycopg 3 is chosen) or
    ``sqlite:///path``; unset means ``home/inkdigit.db``.
    """
    if not configured:
        return make_url(f"sqlite+aiosqlite:///{home / 'inkdigit.db'}")
    url = make_url(configured)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    raise ValueError(f"INKDIGIT_DATABASE_URL: {backend!r} is not supported (use postgresql:// or sqlite:///)")


def sync_url(url: URL) -> URL:
    """The same database through a blocking driver (migrations run with one)."""
    return url.set(drivername="sqlite") if url.get_backend_name() == "sqlite" else url


def sqlite_path(url: URL) -> Path | None:
    """The file of an SQLite database (None for another backend or an in-memory one)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def configure_sqlite(dbapi_connection: Any, _record: object = None) -> None:
    """Set up one new SQLite connection (see the module's docstring for why each pragma)."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


class Database:
    """The process's engine and session factory for one database URL."""

    def __init__(self, url: URL) -> None:
        self.url = url
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"pool_pre_ping": url.get_backend_name() != "sqlite"}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if url.get_backend_name() == "sqlite":
            event.listen(self.engine.sync_engine, "connect", configure_sqlite)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for one request (a FastAPI dependency), closed when the response is sent."""
        async with self.sessions() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
