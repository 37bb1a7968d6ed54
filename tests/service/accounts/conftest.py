"""Accounts on a real database and a real SMTP server.

``db_url`` runs each test that uses it twice: on an SQLite file and on PostgreSQL. PostgreSQL is
the server named by ``INKDIGIT_TEST_POSTGRES_URL`` (``.ci/run`` starts one and sets it); each test
gets a database of its own, dropped afterwards. Without the variable the PostgreSQL half is
skipped, except under CI, where it fails: CI must run both.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.service.accounts.oidc_provider import LocalProvider, Running
from tests.service.conftest import free_port

PG_ENV = "INKDIGIT_TEST_POSTGRES_URL"
PASSWORD = "correct horse battery"


def postgres_admin_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set: CI must run the database tests on PostgreSQL too")
        pytest.skip(f"{PG_ENV} is not set (PostgreSQL half of the database tests)")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    admin = make_url(postgres_admin_url()).set(drivername="postgresql+psycopg")
    name = f"inkdigit_test_{secrets.token_hex(6)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        drop_database(engine, name)
        engine.dispose()


def drop_database(engine: Engine, name: str, attempts: int = 20) -> None:
    """Drop a test database whatever is still connected to it.

    Not ``WITH (FORCE)``: that must be allowed to signal *every* backend on the database, and an
    autovacuum worker (which a test with many writes wakes) belongs to no role the CI role is a
    member of, so PostgreSQL refuses it ("must be a member of the role whose process is being
    terminated"). The test's own leftover connections are ended here (a role may end its own),
    and a plain ``DROP DATABASE`` stops autovacuum workers itself; it is retried while a
    terminated backend is still on its way out.
    """
    for attempt in range(attempts):
        with engine.connect() as c:
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = :name AND pid <> pg_backend_pid() "
                           "AND usename = current_user"), {"name": name})
            try:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                return
            except OperationalError as e:  # "is being accessed by other users"
                if attempt == attempts - 1 or getattr(e.orig, "sqlstate", None) != "55006":
                    raise
        time.sleep(0.25)


@dataclass
class Inbox:
    """Messages a real local SMTP server (aiosmtpd) received."""

    messages: list[Message] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
            self.lock.notify_all()
        return "250 OK"

    def wait_for(self, to: str, subject: str, timeout: float = 10.0, after: int = 0) -> Message:
        """The first message to ``to`` whose subject contains ``subject`` (of those from ``after`` on)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for m in self.messages[after:]:
                    if m["To"] == to and subject.lower() in str(m["Subject"]).lower():
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no e-mail to {to} about {subject!r}; got "
                                         f"{[(m['To'], m['Subject']) for m in self.messages]}")
                self.lock.wait(left)

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


def token_in(message: Message) -> str:
    """The ``token=`` of the link in a message's body."""
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    match = re.search(r"[?&]token=([A-Za-z0-9._~-]+)", body.decode())
    assert match, body
    return match.group(1)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a loopback port, and what it receives."""
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def account_env(db_url: str, smtp_port: int, home: Path, **extra: str) -> dict[str, str]:
    """The settings of a server with accounts on ``db_url`` mailing through the test SMTP server."""
    return {"INKDIGIT_HOME": str(home), "INKDIGIT_DATABASE_URL": db_url, "INKDIGIT_SMTP_HOST": "127.0.0.1",
            "INKDIGIT_SMTP_PORT": str(smtp_port), "INKDIGIT_SMTP_SECURITY": "none",
            "INKDIGIT_PUBLIC_URL": "http://inkdigit.test", **extra}


CLIENT_HEADER = "x-test-client"


def client_address_from_header(app: ASGIApp) -> ASGIApp:
    """``app`` seeing each request as coming from the address in its ``x-test-client`` header (when
    sent): TestClient's requests all come from one address, and the rate limits count per address."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == CLIENT_HEADER.encode():
                    scope = {**scope, "client": (value.decode(), 50000)}
        await app(scope, receive, send)

    return wrapped


AccountsFactory = Callable[..., "Accounts"]


@pytest.fixture
def make_accounts(db_url: str, smtp: tuple[Inbox, int], tmp_path: Path) -> Iterator[AccountsFactory]:
    """Start the app in-process on ``db_url`` with these ``Settings`` overrides (each call starts
    another app, all sharing the database and the inbox); every one is stopped after the test."""
    from fastapi.testclient import TestClient

    from inkdigit.service.app import create_app
    from inkdigit.service.config import Settings

    inbox, port = smtp
    stack = ExitStack()

    def make(**overrides: Any) -> Accounts:
        settings = Settings(**{"home": tmp_path / "home", "database_url": db_url, "smtp_host": "127.0.0.1",
                               "smtp_port": port, "smtp_security": "none", "public_url": "http://inkdigit.test",
                               **overrides})
        client = stack.enter_context(TestClient(client_address_from_header(create_app(settings))))
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:  # the models load in the background
            assert time.monotonic() < deadline, "the models did not load in 60 s"
            time.sleep(0.05)
        return Accounts(client, inbox, settings)

    with stack:
        yield make


@pytest.fixture
def accounts(make_accounts: AccountsFactory) -> Accounts:
    """The app in-process (its lifespan run: migrations applied) on ``db_url``, mailing to ``smtp``."""
    return make_accounts()


@dataclass
class Accounts:
    """A client of the app and the inbox of its mail, with the steps most tests begin with."""

    client: object  # fastapi.testclient.TestClient
    inbox: Inbox
    settings: Any = None  # inkdigit.service.config.Settings

    @property
    def http(self):  # type: ignore[no-untyped-def]
        return self.client

    def register(self, email: str, password: str = PASSWORD) -> None:
        r = self.http.post("/api/v1/auth/register", json={"email": email, "password": password})
        assert r.status_code == 201, r.text

    def verify(self, email: str) -> None:
        token = token_in(self.inbox.wait_for(email, "confirm"))
        r = self.http.post("/api/v1/auth/verify", json={"token": token})
        assert r.status_code == 200, r.text

    def bearer(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        """Sign in as a program: the ``Authorization`` header of a fresh bearer token."""
        r = self.http.post("/api/v1/auth/token", data={"username": email, "password": password})
        assert r.status_code == 200, r.text
        return {"authorization": f"Bearer {r.json()['access_token']}"}

    def user(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        """A registered, confirmed account; its bearer header."""
        self.register(email, password)
        self.verify(email)
        return self.bearer(email, password)

    def browser_login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        """Sign the client in with the session cookie; the CSRF header its writes must send."""
        r = self.http.post("/api/v1/auth/login", data={"username": email, "password": password})
        assert r.status_code == 200, r.text
        return {"x-csrf-token": self.http.cookies["inkdigit_csrf"]}


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    with Running(LocalProvider()) as p:
        yield p


@pytest.fixture
def oidc_accounts(db_url: str, smtp, tmp_path: Path, provider: LocalProvider) -> Iterator[Accounts]:
    """The app with the local provider configured as ``testid``."""
    from fastapi.testclient import TestClient

    from inkdigit.service.app import create_app
    from inkdigit.service.config import Settings

    inbox, port = smtp
    discovery = f"{provider.url}/.well-known/openid-configuration"
    settings = Settings(home=tmp_path / "home", database_url=db_url, smtp_host="127.0.0.1", smtp_port=port,
                        smtp_security="none", public_url="http://testserver",
                        oidc_providers={"testid": {"client_id": provider.client_id, "label": "Test ID",
                                                   "client_secret": provider.client_secret,
                                                   "discovery_url": discovery}})
    with TestClient(create_app(settings)) as client:
        yield Accounts(client, inbox)
