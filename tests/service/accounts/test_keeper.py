"""Group commit of history rows and shared token lookups (keeper.py, accounts/auth.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, select

from inkdigit.service.accounts.auth import TokenLookups
from inkdigit.service.db.migrate import upgrade
from inkdigit.service.db.models import AccessToken, Reading, User
from inkdigit.service.db.session import Database, database_url
from inkdigit.service.keeper import HistoryKeeper, Row


def _row(user_id: uuid.UUID, n: int) -> Row:
    return Row(user_id=user_id, created_at=datetime.now(UTC), kind="digit", source="api", model="m",
               answer=str(n % 10), confidence=0.5, is_digit=True, elapsed_ms=1.0, result={"n": n},
               media_type="image/png", image=b"png%d" % n)


async def _users(db: Database, n: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(n)]
    async with db.sessions() as session:
        session.add_all([User(id=i, email=f"{i}@example.com", hashed_password="x", is_active=True,
                              is_verified=True, is_superuser=False) for i in ids])
        await session.commit()
    return ids


def _database(db_url: str, tmp_path) -> Database:  # type: ignore[no-untyped-def]
    url = database_url(db_url, tmp_path)
    upgrade(url)
    return Database(url)


def test_concurrent_rows_share_transactions_and_a_bad_row_fails_alone(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        db = _database(db_url, tmp_path)
        keeper = HistoryKeeper(db.engine)
        alive, gone = await _users(db, 2)
        async with db.sessions() as session:  # deleted between its sign-in check and its write
            await session.execute(User.__table__.delete().where(User.__table__.c.id == gone))
            await session.commit()
        rows = [_row(gone if n == 7 else alive, n) for n in range(40)]
        results = await asyncio.gather(*(keeper.keep(r) for r in rows), return_exceptions=True)
        failed = [n for n, r in enumerate(results) if isinstance(r, Exception)]
        assert failed == [7]
        ids = [r for r in results if isinstance(r, int)]
        assert len(set(ids)) == 39
        async with db.sessions() as session:
            kept = (await session.execute(select(Reading.id, Reading.result).order_by(Reading.id))).all()
        assert [r.id for r in kept] == sorted(ids)
        # each id is its own row's (the order of a multi-row insert is kept)
        assert {r.id: r.result["n"] for r in kept} == {i: n for n, i in enumerate(results) if isinstance(i, int)}
        await db.dispose()

    asyncio.run(main())


def test_concurrent_rows_are_committed_together(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        db = _database(db_url, tmp_path)
        commits: list[int] = []
        event.listen(db.engine.sync_engine, "commit", lambda _conn: commits.append(1))
        keeper = HistoryKeeper(db.engine)
        (user,) = await _users(db, 1)
        commits.clear()
        ids = await asyncio.gather(*(keeper.keep(_row(user, n)) for n in range(40)))
        assert len(set(ids)) == 40
        assert len(commits) <= 2, len(commits)  # the first row alone, then the 39 that queued behind it
        await db.dispose()

    asyncio.run(main())


def test_shared_lookups_give_each_token_its_owner(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        db = _database(db_url, tmp_path)
        users = await _users(db, 3)
        now = datetime.now(UTC)
        async with db.sessions() as session:
            session.add_all([AccessToken(token=f"s.t{n}", user_id=u, created_at=now) for n, u in enumerate(users)])
            session.add(AccessToken(token="s.old", user_id=users[0], created_at=now - timedelta(days=30)))
            await session.commit()
            count = (await session.execute(select(func.count()).select_from(AccessToken))).scalar_one()
        assert count == 4
        lookups = TokenLookups(db.engine)
        since = now - timedelta(days=1)
        asked = ["s.t0", "s.t1", "s.t2", "s.t1", "s.nope", "s.old"] * 5
        owners = await asyncio.gather(*(lookups.owner(t, since) for t in asked))
        expected = {"s.t0": users[0], "s.t1": users[1], "s.t2": users[2], "s.nope": None, "s.old": None}
        assert owners == [expected[t] for t in asked]
        await db.dispose()

    asyncio.run(main())


def test_tokens_are_kept_as_digests_and_old_rows_are_converted(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The database holds no usable token: new tokens are stored as their digest, and migration
    0002 turns the tokens rows held before it into digests (their sessions stay signed in)."""
    from sqlalchemy import create_engine, text

    from inkdigit.service.accounts.manager import session_tokens, token_digest
    from inkdigit.service.db.session import sync_url

    url = database_url(db_url, tmp_path)
    upgrade(url, "0001")
    engine = create_engine(sync_url(url))
    user_id = uuid.uuid4()
    with engine.begin() as c:
        c.execute(User.__table__.insert().values(id=user_id, email="old@example.com", hashed_password="x",
                                                 is_active=True, is_verified=True, is_superuser=False,
                                                 created_at=datetime.now(UTC)))
        c.execute(AccessToken.__table__.insert().values(token="s." + "a" * 40, user_id=user_id,
                                                        created_at=datetime.now(UTC)))
    upgrade(url)
    with engine.connect() as c:
        assert c.execute(text("SELECT token FROM accesstoken")).scalars().all() == [token_digest("s." + "a" * 40)]
    engine.dispose()

    async def main() -> None:
        db = Database(url)
        async with db.sessions() as session:
            user = await session.get(User, user_id)
            tokens = session_tokens(session, 3600)
            issued = await tokens.write_token(user)
            stored = (await session.execute(select(AccessToken.token))).scalars().all()
            assert issued not in stored and token_digest(issued) in stored
            assert (await tokens.read_token(issued, _Users(session))) is not None
            assert (await tokens.read_token("s." + "a" * 40, _Users(session))) is not None  # converted by 0002
            assert (await tokens.read_token(token_digest(issued), _Users(session))) is None  # a stolen digest
        await db.dispose()

    asyncio.run(main())


class _Users:
    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        self.session = session

    def parse_id(self, value: object) -> object:
        return value

    async def get(self, user_id: object) -> User:
        user = await self.session.get(User, user_id)
        assert user is not None
        return user
