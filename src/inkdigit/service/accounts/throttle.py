"""Rate-limited sign-in: failures counted per account and per client address, in the database.

Counting in the database (not in memory) means every worker process, and every replica on one
PostgreSQL, sees the same count. Only failures count; a success clears the account's. The
account key is the address as typed, whether or not it has an account, so a refusal says
nothing about which addresses exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
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


async def retry_after(session: AsyncSession, keys: Keys, settings: Settings) -> int | None:
    """Seconds until sign-in may be tried again with these keys; None when it may be now."""
    since = datetime.now(UTC) - timedelta(seconds=settings.login_window_s)
    waits = []
    for key, limit in ((keys.account, settings.login_max_failures_account),
                       (keys.client, settings.login_max_failures_client)):
        at = (await session.execute(
            select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at >= since)
            .order_by(LoginFailure.at.desc()).limit(1).offset(limit - 1))).scalar_one_or_none()
        if at is not None:  # the limit-th newest failure is in the window: wait until it leaves it
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            waits.append((at - since).total_seconds())
    return max(1, math.ceil(max(waits))) if waits else None


async def record_failure(session: AsyncSession, keys: Keys, settings: Settings) -> None:
    now = datetime.now(UTC)
    expired = now - timedelta(seconds=settings.login_window_s)
    await session.execute(delete(LoginFailure).where(LoginFailure.at < expired))
    session.add_all([LoginFailure(key=keys.account, at=now), LoginFailure(key=keys.client, at=now)])
    await session.commit()


async def clear_account(session: AsyncSession, keys: Keys) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.key == keys.account))
    await session.commit()
