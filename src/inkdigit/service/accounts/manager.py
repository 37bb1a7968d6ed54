"""fastapi-users' user manager, given our settings, database and mailer.

It hashes with Argon2 (pwdlib's recommended hasher), signs confirmation and reset tokens with the
service's secret key, and on each event sends the e-mail that carries the link back to the web
app, the token as ``token=<token>`` in it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from typing import Any, Literal

from fastapi import Request
from fastapi_users import BaseUserManager, InvalidPasswordException, UUIDIDMixin, schemas
from fastapi_users.authentication.strategy.db import DatabaseStrategy
from fastapi_users.password import PasswordHelper
from fastapi_users_db_sqlalchemy import SQLAlchemyUserDatabase
from fastapi_users_db_sqlalchemy.access_token import SQLAlchemyAccessTokenDatabase
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.ext.asyncio import AsyncSession

from inkdigit.service.accounts.mail import Mailer
from inkdigit.service.config import Settings
from inkdigit.service.db.models import AccessToken, OAuthAccount, User

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256  # Argon2 takes any length; this bounds the work one request can ask for
PASSWORDS = PasswordHelper(PasswordHash((Argon2Hasher(),)))


class UserCreate(schemas.BaseUserCreate):
    """What registration stores (flags are never taken from the request: see ``safe=True``)."""


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    def __init__(self, users: SQLAlchemyUserDatabase[User, uuid.UUID], settings: Settings, secret: str,
                 mailer: Mailer) -> None:
        super().__init__(users, PASSWORDS)
        self.settings, self.mailer = settings, mailer
        self.reset_password_token_secret = self.verification_token_secret = secret
        self.reset_password_token_lifetime_seconds = settings.reset_token_lifetime_s
        self.verification_token_lifetime_seconds = settings.verify_token_lifetime_s

    async def validate_password(self, password: str, user: Any) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidPasswordException(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise InvalidPasswordException(f"The password may have at most {MAX_PASSWORD_LENGTH} characters.")
        email = getattr(user, "email", "") or ""
        if email and email.split("@")[0].lower() in password.lower() and len(email.split("@")[0]) >= 3:
            raise InvalidPasswordException("The password must not contain the e-mail address.")

    async def on_after_register(self, user: User, request: Request | None = None) -> None:
        if not user.is_verified:  # an account made by an OpenID Connect sign-in comes confirmed
            await self.request_verify(user, request)

    async def on_after_request_verify(self, user: User, token: str, request: Request | None = None) -> None:
        link = f"{self.base_url(request)}/verify?token={token}"
        hours = self.settings.verify_token_lifetime_s // 3600
        await self.mailer.send(user.email, "Confirm your inkdigit account", (
            "Welcome to inkdigit.\n\n"
            f"Confirm your e-mail address by opening this link (it works for {hours} hours):\n\n{link}\n\n"
            "If you did not sign up, ignore this message; nothing happens without the link.\n"))

    async def on_after_forgot_password(self, user: User, token: str, request: Request | None = None) -> None:
        link = f"{self.base_url(request)}/reset-password?token={token}"
        minutes = self.settings.reset_token_lifetime_s // 60
        await self.mailer.send(user.email, "Reset your inkdigit password", (
            f"To choose a new password, open this link (it works for {minutes} minutes, once):\n\n{link}\n\n"
            "If you did not ask for this, ignore this message; your password stays as it is.\n"))

    def base_url(self, request: Request | None) -> str:
        """The web app's address for links: ``public_url``, else the address the server listens on.

        Never the request's ``Host`` (or a forwarded one): whoever sends the request chooses it,
        so a reset link mailed to someone else could point at the sender's host and hand them
        the token. Behind a proxy, or on another host than 127.0.0.1, set ``public_url``.
        """
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        server = request.scope.get("server") if request is not None else None
        host, port = server if server else ("127.0.0.1", 8000)
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}" + ("" if port == 80 else f":{port}")


def user_manager(session: AsyncSession, settings: Settings, secret: str, mailer: Mailer) -> UserManager:
    return UserManager(SQLAlchemyUserDatabase(session, User, OAuthAccount), settings, secret, mailer)


#: what a token begins with says its kind, so that its lifetime is its kind's however it is sent
#: (a bearer token replayed as the session cookie must not live as long as a session). "." is not
#: in the URL-safe alphabet, so no unmarked token can begin with either.
SESSION_PREFIX, BEARER_PREFIX = "s.", "b."
TokenKind = Literal["session", "bearer"]


def token_digest(token: str) -> str:
    """What the database keeps of a token: its SHA-256, URL-safe base64 (43 characters, the column's
    width). A copy of the database then holds no usable session; a token has 240 random bits,
    so a plain hash (no salt, no stretching) is enough."""
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


class KindTokens(DatabaseStrategy[User, uuid.UUID, AccessToken]):
    """fastapi-users' database tokens, each marked with its kind (240 random bits after the mark),
    kept in the database only as their digest."""

    def __init__(self, database: SQLAlchemyAccessTokenDatabase[AccessToken], lifetime_s: int,
                 kind: TokenKind) -> None:
        super().__init__(database, lifetime_s)
        self.prefix = SESSION_PREFIX if kind == "session" else BEARER_PREFIX

    async def write_token(self, user: User) -> str:
        token = self.prefix + secrets.token_urlsafe(30)
        await self.database.create({"token": token_digest(token), "user_id": user.id})
        return token

    async def read_token(self, token: str | None, user_manager: Any) -> User | None:
        return None if token is None else await super().read_token(token_digest(token), user_manager)

    async def destroy_token(self, token: str, user: User) -> None:
        await super().destroy_token(token_digest(token), user)


def token_lifetime(settings: Settings, token: str) -> int:
    """The lifetime of a token of the kind ``token`` is marked with (unmarked: the shorter one)."""
    if token.startswith(SESSION_PREFIX):
        return settings.session_lifetime_s
    if token.startswith(BEARER_PREFIX):
        return settings.token_lifetime_s
    return min(settings.session_lifetime_s, settings.token_lifetime_s)


def session_tokens(session: AsyncSession, lifetime_s: int,
                   kind: TokenKind = "session") -> DatabaseStrategy[User, uuid.UUID, AccessToken]:
    """Tokens kept in the database: signing out, or deleting the account, ends them at once.

    ``kind`` marks the tokens written: a browser's session (the cookie) or a program's bearer token.
    """
    return KindTokens(SQLAlchemyAccessTokenDatabase(session, AccessToken), lifetime_s, kind)
