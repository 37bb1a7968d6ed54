"""Dependency aliases, so route signatures read like prose.

The providers are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in its thread
pool, and two thread hand-offs per request to read an attribute cost more than the rest of the
HTTP handling (0.61 → 0.23 ms of CPU per POST, measured with a no-op engine).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from inkdigit.service.accounts.auth import SignedIn, authenticate
from inkdigit.service.accounts.manager import UserManager, user_manager
from inkdigit.service.batcher import Batcher
from inkdigit.service.config import Settings
from inkdigit.service.db.models import User
from inkdigit.service.db.session import Database
from inkdigit.service.errors import APIError
from inkdigit.service.recognizers import Recognizers


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _recognizers(request: Request) -> Recognizers:
    recognizers: Recognizers = request.app.state.recognizers
    return recognizers


async def _batcher(request: Request) -> Batcher:
    batcher: Batcher = request.app.state.batcher
    return batcher


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.sessions() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(_settings)]
RecognizersDep = Annotated[Recognizers, Depends(_recognizers)]
BatcherDep = Annotated[Batcher, Depends(_batcher)]
SessionDep = Annotated[AsyncSession, Depends(_session)]


async def _manager(request: Request, session: SessionDep, settings: SettingsDep) -> UserManager:
    state = request.app.state
    return user_manager(session, settings, state.secret, state.mailer)


async def _signed_in(request: Request, session: SessionDep, settings: SettingsDep) -> SignedIn:
    signed_in = await authenticate(request, session, settings)
    if signed_in is None:
        raise APIError(401, "not_authenticated", "Sign in first (the session cookie, or an "
                       "`Authorization: Bearer` token from /api/v1/auth/token).",
                       headers={"WWW-Authenticate": "Bearer"})
    return signed_in


async def _current_user(signed_in: Annotated[SignedIn, Depends(_signed_in)]) -> User:
    return signed_in.user


UserManagerDep = Annotated[UserManager, Depends(_manager)]
CurrentSignIn = Annotated[SignedIn, Depends(_signed_in)]
CurrentUser = Annotated[User, Depends(_current_user)]
