"""What a real server process does with history writes when it dies or has company.

- ``kill -9`` of ``inkdigit serve`` during a stream of signed-in readings loses no reading whose
  answer (with its id) had reached the client: after a restart on the same database every
  acknowledged id is listed, with its image (SQLite and PostgreSQL).
- ``--workers 2`` on one SQLite file: concurrent signed-in writes from several threads all succeed
  (no "database is locked").
- Migrations: ``upgrade`` on a fresh database creates the schema the models describe, a second run
  changes nothing, and several processes upgrading at once all succeed.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import create_engine, event, inspect, text

from inkdigit.service.db import migrate
from inkdigit.service.db.models import Base
from inkdigit.service.db.session import configure_sqlite, database_url, sync_url
from tests.conftest import png_bytes, render
from tests.service.accounts.conftest import PASSWORD, Inbox, account_env, token_in
from tests.service.conftest import BIN, free_port

SECRET = "durability-test-secret-key-0123456789abcdef"


@dataclass
class Server:
    """A real ``inkdigit serve`` process (its pid is ``proc.pid``) and where it logs."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serving(env: dict[str, str], log: Path, workers: int = 1, port: int | None = None) -> Iterator[Server]:
    """Start ``inkdigit serve`` with ``env`` and wait until it is ready (every worker, with several);
    stopped afterwards unless the test killed it. Output goes to ``log``, never to a pipe nobody reads."""
    port = port or free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(BIN), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
             "--log-level", "warning"],
            env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + 90
        # each worker loads its own model: with several, wait until many fresh connections in a row
        # (each handed to some worker) find a ready one
        needed, streak = (1 if workers == 1 else 8 * workers), 0
        while streak < needed:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited early ({proc.returncode}):\n{server.output()}")
            try:
                streak = streak + 1 if httpx.get(server.url + "/readyz", timeout=2).status_code == 200 else 0
                if streak:
                    continue
            except httpx.TransportError:
                streak = 0
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not become ready in 90 s:\n{server.output()}")
            time.sleep(0.1)
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def server_env(db_url: str, smtp_port: int, home: Path) -> dict[str, str]:
    return account_env(db_url, smtp_port, home, INKDIGIT_SECRET_KEY=SECRET, INKDIGIT_ACCESS_LOG="false")


def bearer(url: str, inbox: Inbox, email: str) -> dict[str, str]:
    """Register ``email`` through HTTP, confirm it from the e-mail, and get a bearer token."""
    with httpx.Client(base_url=url, timeout=30) as http:
        r = http.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert r.status_code == 201, r.text
        r = http.post("/api/v1/auth/verify", json={"token": token_in(inbox.wait_for(email, "confirm", timeout=30))})
        assert r.status_code == 200, r.text
        r = http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"authorization": f"Bearer {r.json()['access_token']}"}


def all_history(url: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    """Every entry of a user's history, page by page."""
    items: list[dict[str, Any]] = []
    with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
        while True:
            r = http.get("/api/v1/history", params={"offset": len(items), "limit": 200})
            assert r.status_code == 200, r.text
            page = r.json()
            items += page["items"]
            if not page["items"] or len(items) >= page["total"]:
                return items


@dataclass
class Stream:
    """Client threads posting signed-in readings until told to stop or the server goes away."""

    url: str
    auth: dict[str, str]
    images: list[bytes]
    acked: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # anything but 200 or a broken connection
    broken: int = 0  # requests the dead server never answered
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def post(self, worker: int) -> None:
        with httpx.Client(base_url=self.url, headers=self.auth, timeout=30) as http:
            n = 0
            while not self.stop.is_set():
                image = self.images[(worker + n) % len(self.images)]
                n += 1
                try:
                    r = http.post("/api/v1/predict", content=image, headers={"content-type": "image/png"})
                except httpx.TransportError:
                    with self.lock:
                        self.broken += 1
                    if self.stop.is_set():
                        return
                    time.sleep(0.01)
                    continue
                with self.lock:
                    if r.status_code == 200 and isinstance(r.json().get("id"), int):
                        self.acked.append(r.json()["id"])
                    else:
                        self.failures.append(f"{r.status_code} {r.text[:300]}")

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            assert not self.failures, self.failures[:3]
            assert time.monotonic() < deadline, f"only {len(self.acked)} readings in {timeout} s"
            time.sleep(0.005)


@pytest.fixture(scope="module")
def small_pngs(mnist_test: Any) -> list[bytes]:
    return [png_bytes(render(mnist_test.images[i], canvas=140, size=100)) for i in range(16)]


def test_kill_9_loses_no_acknowledged_reading(db_url: str, smtp: tuple[Inbox, int], tmp_path: Path,
                                              small_pngs: list[bytes]) -> None:
    """SIGKILL of the server mid-stream, restart on the same database: every reading the client got
    a 200 and an id for is in the history, with its image."""
    inbox, smtp_port = smtp
    env, log = server_env(db_url, smtp_port, tmp_path / "home"), tmp_path / "server.log"
    with serving(env, log) as first:
        auth = bearer(first.url, inbox, "durable@example.com")
        stream = Stream(first.url, auth, small_pngs)
        threads = [threading.Thread(target=stream.post, args=(i,), daemon=True) for i in range(6)]
        for t in threads:
            t.start()
        try:
            stream.wait_for(60)
            os.kill(first.proc.pid, signal.SIGKILL)  # mid-stream: six requests in flight at any moment
            assert first.proc.wait(timeout=10) == -signal.SIGKILL
            time.sleep(0.2)  # the requests in flight fail
        finally:
            stream.stop.set()
            for t in threads:
                t.join(timeout=30)
    assert not stream.failures, stream.failures[:3]
    assert stream.broken > 0  # some requests were cut off: the kill came mid-stream
    # every answer that reached the client, even one read after the kill, is acknowledged
    acked = stream.acked
    assert len(set(acked)) == len(acked) >= 60

    with serving(env, log) as second, httpx.Client(base_url=second.url, headers=auth, timeout=30) as http:
        kept = {item["id"] for item in all_history(second.url, auth)}
        lost = set(acked) - kept
        assert not lost, f"{len(lost)} acknowledged readings lost: {sorted(lost)[:10]}"
        sent = set(small_pngs)
        for entry_id in acked:  # each reading's image was committed with it
            r = http.get(f"/api/v1/history/{entry_id}/image")
            assert r.status_code == 200 and r.content in sent, entry_id
        # and the restarted server keeps new readings
        r = http.post("/api/v1/predict", content=small_pngs[0], headers={"content-type": "image/png"})
        assert r.status_code == 200 and r.json()["id"] not in kept


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'workers.db'}"


def test_two_workers_share_one_sqlite_file_under_concurrent_writes(
        sqlite_url: str, smtp: tuple[Inbox, int], tmp_path: Path, small_pngs: list[bytes]) -> None:
    """``--workers 2`` on SQLite: readings and corrections from eight threads at once (two users)
    all succeed, and every one is kept."""
    inbox, smtp_port = smtp
    env = server_env(sqlite_url, smtp_port, tmp_path / "home")
    with serving(env, tmp_path / "server.log", workers=2) as server:
        users = [bearer(server.url, inbox, f"worker{n}@example.com") for n in range(2)]
        per_thread, results = 25, {}
        errors: list[str] = []

        def write(n: int) -> None:
            auth, ids = users[n % 2], []
            # a fresh connection now and then, so both workers get writes
            for i in range(per_thread):
                with httpx.Client(base_url=server.url, headers=auth, timeout=60) as http:
                    r = http.post("/api/v1/predict", content=small_pngs[(n + i) % len(small_pngs)],
                                  headers={"content-type": "image/png"})
                    if r.status_code != 200:
                        errors.append(f"predict {r.status_code} {r.text[:300]}")
                        continue
                    ids.append(r.json()["id"])
                    c = http.put(f"/api/v1/history/{ids[-1]}/correction", json={"label": str(i % 10)})
                    if c.status_code != 200:
                        errors.append(f"correction {c.status_code} {c.text[:300]}")
            results[n] = ids

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors[:5]
        assert "database is locked" not in server.output()
        for u, auth in enumerate(users):
            mine = [i for n, ids in results.items() if n % 2 == u for i in ids]
            assert len(mine) == 4 * per_thread
            kept = all_history(server.url, auth)
            assert sorted(e["id"] for e in kept) == sorted(mine)
            assert all(e["label"] is not None for e in kept)


# --- migrations ---------------------------------------------------------------------------------

def _tables(url: str) -> dict[str, set[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            inspector = inspect(c)
            return {t: {col["name"] for col in inspector.get_columns(t)} for t in inspector.get_table_names()}
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_is_idempotent(db_url: str, tmp_path: Path) -> None:
    """A fresh database gets every table and column the models declare; a second upgrade is a no-op
    that keeps the data."""
    url = database_url(db_url, tmp_path)
    plain = sync_url(url).render_as_string(hide_password=False)
    before, after = migrate.upgrade(url)
    assert before is None and after == migrate.head()
    tables = _tables(plain)
    expected = {name: {c.name for c in table.columns} for name, table in Base.metadata.tables.items()}
    assert {"user", "accesstoken", "reading", "reading_image", "login_failure"} <= set(expected)
    assert {name: tables.get(name) for name in expected} == expected
    assert "alembic_version" in tables

    engine = create_engine(plain)
    with engine.begin() as c:  # a row that a repeated upgrade must leave alone
        c.execute(text("INSERT INTO login_failure (key, at) VALUES ('email:x@example.com', CURRENT_TIMESTAMP)"))
    assert migrate.upgrade(url) == (after, after)
    assert _tables(plain) == tables
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM login_failure")).scalar_one() == 1
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [after]
    engine.dispose()


def test_the_schema_matches_the_models(db_url: str, tmp_path: Path) -> None:
    """Autogenerate finds nothing to add: the migrations and the models describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = database_url(db_url, tmp_path)
    migrate.upgrade(url)
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as c:
            diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def _upgrade_in_a_process(url: str, home: str, barrier: Any, results: Any) -> None:
    try:
        barrier.wait(timeout=60)
        results.put(("ok", migrate.upgrade(database_url(url, Path(home)))))
    except BaseException as exc:  # reported to the parent, whatever it is
        results.put(("error", repr(exc)))


def test_concurrent_upgrades_all_succeed(db_url: str, tmp_path: Path) -> None:
    """Four processes upgrading one fresh database at the same moment all succeed, and the schema
    is created once (the workers of ``inkdigit serve --workers N`` all start this way)."""
    ctx = multiprocessing.get_context("spawn")
    n = 4
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_upgrade_in_a_process, args=(db_url, str(tmp_path), barrier, results))
             for _ in range(n)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert all(p.exitcode == 0 for p in procs)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    head = migrate.head()
    # exactly one found the database empty; the others found the work done
    assert sorted((str(before) for _, (before, _) in outcomes)) == sorted(["None"] + [head] * (n - 1))
    assert all(after == head for _, (_, after) in outcomes)
    url = sync_url(database_url(db_url, tmp_path)).render_as_string(hide_password=False)
    assert set(Base.metadata.tables) <= set(_tables(url))


def test_deleting_a_user_cascades_to_readings_and_images(db_url: str, tmp_path: Path) -> None:
    """The migrated schema deletes a user's readings and images with the user, on both databases
    (on SQLite with the connection set up as the service sets it up: foreign keys on)."""
    url = database_url(db_url, tmp_path)
    migrate.upgrade(url)
    engine = create_engine(sync_url(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", configure_sqlite)
    uid = str(uuid.UUID(int=1))
    try:
        with engine.begin() as c:
            c.execute(text('INSERT INTO "user" (id, email, hashed_password, is_active, is_superuser, is_verified, '
                           "created_at) VALUES (:id, 'cascade@example.com', 'x', true, false, true, "
                           "CURRENT_TIMESTAMP)"), {"id": uid})
            rid = c.execute(text("INSERT INTO reading (user_id, created_at, kind, source, model, answer, confidence, "
                                 "is_digit, elapsed_ms, result) VALUES (:id, CURRENT_TIMESTAMP, 'digit', 'api', 'm', "
                                 "'7', 0.9, true, 1.0, '{}') RETURNING id"), {"id": uid}).scalar_one()
            c.execute(text("INSERT INTO reading_image (reading_id, media_type, data) VALUES (:r, 'image/png', :d)"),
                      {"r": rid, "d": np.zeros(4, np.uint8).tobytes()})
            c.execute(text('DELETE FROM "user" WHERE id = :id'), {"id": uid})
            assert c.execute(text("SELECT count(*) FROM reading")).scalar_one() == 0
            assert c.execute(text("SELECT count(*) FROM reading_image")).scalar_one() == 0
    finally:
        engine.dispose()
