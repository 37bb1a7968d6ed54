"""Who is asking: the session cookie or bearer token of a request, checked against the database.

Used by FastAPI routes through ``deps.CurrentUser`` and by the plain read routes directly (they
skip FastAPI's dependency solving for speed); a request with neither credential costs nothing.

A cookie-authenticated write must prove it comes from our page (CSRF): it sends the value of the
``inkdigit_csrf`` cookie, which only a page on this origin can read, in the ``X-CSRF-Token`` header
(the double-submit pattern), and a browser's ``Origin``, when sent, must be this server's. The
session cookie is also ``SameSite=Lax``, so other sites' forms do not carry it at all.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, cast
from urllib.parse import urlsplit

from fastapi import Request, Response
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from inkdigit.service.accounts.manager import token_digest, token_lifetime
from inkdigit.service.coalesce import Coalescer
from inkdigit.service.config import Settings
from inkdigit.service.db.models import AccessToken, User
from inkdigit.service.errors import APIError

SESSION_COOKIE = "inkdigit_session"
CSRF_COOKIE = "inkdigit_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Credential:
    token: str
    via: Literal["cookie", "bearer"]


@dataclass(frozen=True)
class SignedIn:
    user: User
    credential: Credential


def credential(request: Request) -> Credential | None:
    """The bearer token (``Authorization: Bearer …``), else the session cookie, else None."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return Credential(value.strip(), "bearer")
    cookie = request.cookies.get(SESSION_COOKIE)
    return Credential(cookie, "cookie") if cookie else None


#: what every token this server makes looks like (manager.KindTokens): anything else is refused
#: before it reaches the database (a NUL byte, say, which PostgreSQL rejects with an error)
TOKEN_SHAPE = re.compile(r"[sb]\.[A-Za-z0-9_-]{40}")


def well_formed(token: str) -> bool:
    return TOKEN_SHAPE.fullmatch(token) is not None


async def authenticate(request: Request, session: AsyncSession, settings: Settings) -> SignedIn | None:
    """The signed-in user of this request, loaded in ``session``; None when it sends no credential.

    The checks are ``reader``'s: a credential that is unknown, expired or of an account that is
    inactive or not confirmed is 401 ``not_authenticated`` (not an anonymous reading: a program
    must learn that its token ended, or its readings would silently stop being kept); a
    cookie-authenticated write that fails the CSRF check is 403 ``csrf_failed``.
    """
    who = await reader(request, request.app.state.token_lookups, settings)
    if who is None:
        return None
    user = await session.get(User, who.user_id)
    if user is None:  # deleted since the check
        raise _ended(who.credential)
    return SignedIn(user, who.credential)


@dataclass(frozen=True)
class Reader:
    """The signed-in user of a read request: just the id the history is kept under."""

    user_id: uuid.UUID
    credential: Credential


_users, _tokens = cast(Table, User.__table__), cast(Table, AccessToken.__table__)
_READERS = (select(_tokens.c.token, _tokens.c.created_at, _users.c.id).join(_users, _tokens.c.user_id == _users.c.id)
            .where(_users.c.is_active.is_(True), _users.c.is_verified.is_(True)))


class TokenLookups:
    """The owners of the tokens of concurrent requests, found with one query per round
    (``coalesce.Coalescer``: ``WHERE token IN (…)``): the check runs on every signed-in reading."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._lookups: Coalescer[str, tuple[datetime, uuid.UUID] | None] = Coalescer(self._query)

    async def owner(self, token: str, since: datetime) -> uuid.UUID | None:
        """The id of the active, confirmed user whose token has this digest (``token_digest``) and
        was made after ``since``, else None."""
        row = await self._lookups.submit(token)
        return row[1] if row is not None and row[0] >= since else None

    async def _query(self, tokens: list[str]) -> list[tuple[datetime, uuid.UUID] | None]:
        async with self.engine.connect() as connection:
            rows = (await connection.execute(_READERS.where(_tokens.c.token.in_(set(tokens))))).all()
        owners = {token: (created_at, user_id) for token, created_at, user_id in rows}
        return [owners.get(token) for token in tokens]


async def reader(request: Request, lookups: TokenLookups, settings: Settings) -> Reader | None:
    """Who sends this request, as the read routes (the busiest) need it: just the user's id, from
    a Core query shared by concurrent requests (no ORM session or user object). Checks the token's
    shape, its kind's lifetime, an active and confirmed account, and CSRF for cookie writes.
    None when no credential is sent."""
    cred = credential(request)
    if cred is None:
        return None
    if not well_formed(cred.token):
        raise _ended(cred)
    since = datetime.now(UTC) - timedelta(seconds=token_lifetime(settings, cred.token))
    user_id = await lookups.owner(token_digest(cred.token), since)
    if user_id is None:
        raise _ended(cred)
    if cred.via == "cookie" and request.method not in SAFE_METHODS:
        check_csrf(request)
    return Reader(user_id, cred)


def _ended(cred: Credential) -> APIError:
    """401 for a credential that is unknown or over; an ended session's cookies are dropped with
    it, so the browser's next reading is an anonymous one instead of another 401."""
    return APIError(401, "not_authenticated", "Your session has ended or the token is not valid: sign in "
                    "again (or send no credentials to read without keeping a history).",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                    clear_cookies=(SESSION_COOKIE, CSRF_COOKIE) if cred.via == "cookie" else ())


def check_origin(request: Request) -> None:
    """A browser's cross-site write is refused: its ``Origin`` (when sent) must be this server's:
    the ``Host`` the request came to (a browser cannot send another site's), ``public_url``'s
    (behind a proxy the ``Host`` may be an internal name), or one of the CORS origins."""
    origin = request.headers.get("origin")
    if origin is None or urlsplit(origin).netloc == request.headers.get("host", ""):
        return
    settings = request.app.state.settings
    allowed = set(settings.cors_origins)
    if settings.public_url:
        public = urlsplit(settings.public_url)
        allowed.add(f"{public.scheme}://{public.netloc}")
    if origin.rstrip("/") not in allowed:
        raise APIError(403, "csrf_failed", "This request came from another site's page; it is refused.")


def check_csrf(request: Request) -> None:
    check_origin(request)
    sent, expected = request.headers.get(CSRF_HEADER, ""), request.cookies.get(CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise APIError(403, "csrf_failed", "A signed-in write from the browser must send the inkdigit_csrf "
                       "cookie's value in the X-CSRF-Token header.")


def set_session_cookies(response: Response, token: str, settings: Settings) -> None:
    """The session (HttpOnly, so page scripts cannot read it) and the CSRF token (readable by
    our page, which echoes it in ``X-CSRF-Token``)."""
    secure, age = settings.secure_cookies, settings.session_lifetime_s
    response.set_cookie(SESSION_COOKIE, token, max_age=age, path="/", httponly=True, secure=secure, samesite="lax")
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), max_age=age, path="/", httponly=False,
                        secure=secure, samesite="strict")


def clear_session_cookies(response: Response, settings: Settings) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=settings.secure_cookies, httponly=name == SESSION_COOKIE,
                               samesite="lax" if name == SESSION_COOKIE else "strict")
