"""Rate limits kept in the database: failed sign-ins per account and per client address, and
e-mails per address.

Counting in the database (not in memory) means every worker process, and every replica on one
PostgreSQL, sees the same count. Each attempt is counted before its password is checked, and
forgiven if it was right (a success also clears the account's earlier failures). The account
key is the address as typed, whether or not it has an account, so a refusal says nothing about
which addresses exist. (The table is ``login_failure``; e-mails sent are rows keyed ``mail:``.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inkdigit.service.config import Settings
from inkdigit.service.db.models import LoginFailure


@dataclass(frozen=True)
class Keys:
    account: str
    client: str

    @classmethod
    def of(cls, email: str, client: str | None) -> Keys:
        return cls("account:" + email.strip().lower()[:320], "client:" + (client or "unknown"))


async def retry_after(session: AsyncSession, keys: Keys, settings: Settings, reserved: int = 0) -> int | None:
    """Seconds until sign-in may be tried again with these keys; None when it may be now.

    ``reserved``: attempts of this request already counted (``record_failure`` before the check)."""
    since = datetime.now(UTC) - timedelta(seconds=settings.login_window_s)
    waits = []
    for key, limit in ((keys.account, settings.login_max_failures_account + reserved),
                       (keys.client, settings.login_max_failures_client + reserved)):
        at = (await session.execute(
            select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at >= since)
            .order_by(LoginFailure.at.desc()).limit(1).offset(limit - 1))).scalar_one_or_none()
        if at is not None:  # the limit-th newest failure is in the window: wait until it leaves it
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            waits.append((at - since).total_seconds())
    return max(1, math.ceil(max(waits))) if waits else None


async def record_failure(session: AsyncSession, keys: Keys, settings: Settings) -> list[int]:
    """Count one failed sign-in against both keys (before the password is even checked: parallel
    guesses then see each other, instead of all passing the check before any is counted); the
    rows' ids, for ``forgive`` when it turns out to be right."""
    now = datetime.now(UTC)
    expired = now - timedelta(seconds=max(settings.login_window_s, MAIL_WINDOW_S))
    await session.execute(delete(LoginFailure).where(LoginFailure.at < expired))
    rows = [LoginFailure(key=keys.account, at=now), LoginFailure(key=keys.client, at=now)]
    session.add_all(rows)
    await session.commit()
    return [row.id for row in rows]


async def forgive(session: AsyncSession, keys: Keys, ids: list[int]) -> None:
    """A sign-in that succeeded: its own reservation and the account's earlier failures go."""
    await session.execute(delete(LoginFailure).where(
        (LoginFailure.key == keys.account) | LoginFailure.id.in_(ids)))
    await session.commit()


MAIL_WINDOW_S = 3600


async def may_mail(session: AsyncSession, email: str, settings: Settings) -> bool:
    """Whether another e-mail may go to ``email`` now (at most ``mail_max_per_hour`` an hour), and
    if so, counted: sign-up, confirmation and reset requests cannot flood someone's inbox.

    The row is written first and then ranked among the hour's, so that concurrent requests (other
    tasks, other workers) cannot all pass one count: exactly the first ``mail_max_per_hour`` do."""
    key = "mail:" + email.strip().lower()[:320]
    now = datetime.now(UTC)
    row = LoginFailure(key=key, at=now)
    session.add(row)
    await session.commit()
    rank = (await session.execute(select(func.count()).where(
        LoginFailure.key == key, LoginFailure.at >= now - timedelta(seconds=MAIL_WINDOW_S),
        LoginFailure.id <= row.id))).scalar_one()
    if rank > settings.mail_max_per_hour:
        await session.execute(delete(LoginFailure).where(LoginFailure.id == row.id))
        await session.commit()
        return False
    return True
