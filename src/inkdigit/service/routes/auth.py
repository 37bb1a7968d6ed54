"""/api/v1/auth: register, confirm, sign in (cookie or bearer token), sign out, reset a password.

Registration, confirmation requests and reset requests answer the same whether or not the
address has an account, and as fast (confirmation and reset requests do their work after
answering, and every registration costs one Argon2 hash): nobody learns from them who has an
account. Argon2 runs on worker threads, never on the event loop. E-mails to one address are
capped per hour (``mail_max_per_hour``); a request past the cap is answered alike, unsent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users import exceptions as fu
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inkdigit.service.account_schemas import (
    Accepted,
    BearerToken,
    EmailOnly,
    PasswordReset,
    Registration,
    TokenOnly,
    UserRead,
    normal_email,
)
from inkdigit.service.accounts import throttle
from inkdigit.service.accounts.auth import check_origin, clear_session_cookies, set_session_cookies
from inkdigit.service.accounts.manager import (
    MAX_PASSWORD_LENGTH,
    PASSWORDS,
    UserManager,
    session_tokens,
    user_manager,
)
from inkdigit.service.db.models import AccessToken, User
from inkdigit.service.deps import CurrentSignIn, SessionDep, SettingsDep, UserManagerDep
from inkdigit.service.errors import APIError, error_doc

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
Credentials = Annotated[OAuth2PasswordRequestForm, Depends()]

SENT = "If the address can receive mail, a message with a link is on its way to it."


def user_read(user: User) -> UserRead:
    return UserRead(id=user.id, email=user.email, is_verified=user.is_verified, is_admin=user.is_superuser,
                    created_at=user.created_at)


@router.post("/register", status_code=201, response_model=Accepted,
             responses={422: error_doc("Invalid address or password (`invalid_request`, `invalid_password`).")})
async def register(body: Registration, request: Request, manager: UserManagerDep, session: SessionDep,
                   settings: SettingsDep) -> Accepted:
    """Create an account and e-mail its confirmation link (the same answer for a known address)."""
    try:
        await manager.validate_password(body.password, body)
    except fu.InvalidPasswordException as exc:
        raise APIError(422, "invalid_password", str(exc.reason)) from None
    # Argon2 on a worker thread (~0.15 s of CPU that would stall every request of this worker),
    # and for every address alike, so that timing tells nothing
    hashed = await anyio.to_thread.run_sync(PASSWORDS.hash, body.password)
    try:
        user: User | None = await manager.get_by_email(body.email)
    except fu.UserNotExists:
        user = None
    if user is None:
        try:
            user = await manager.user_db.create({"email": body.email, "hashed_password": hashed, "is_active": True,
                                                 "is_verified": False, "is_superuser": False})
        except IntegrityError:  # the same address signed up at this very moment: that one stands
            await session.rollback()
            return Accepted(message=SENT)
        if await throttle.may_mail(session, body.email, settings):
            await manager.request_verify(user, request)
    elif user.is_active and not user.is_verified:
        # anybody can sign an address up without being able to confirm it: the newest sign-up's
        # password is the one the confirmation will make valid, not an earlier stranger's
        user = await manager.user_db.update(user, {"hashed_password": hashed})
        if await throttle.may_mail(session, body.email, settings):
            await manager.request_verify(user, request)
    elif user.is_active and await throttle.may_mail(session, body.email, settings):
        await manager.mailer.send(user.email, "Your inkdigit account", (
            "Someone (perhaps you) tried to sign up to inkdigit with this address, which already has an "
            f"account. To sign in: {manager.base_url(request)}/signin\n"
            f"Forgot the password? {manager.base_url(request)}/forgot-password\n"))
    return Accepted(message=SENT)


def _later(request: Request, work: Callable[[UserManager, AsyncSession], Awaitable[None]]) -> None:
    """Run ``work`` after answering, with its own session: the answer then takes as long whether or
    not the address has an account (a reset token costs an Argon2 hash of the password's hash)."""
    state = request.app.state

    async def run() -> None:
        async with state.database.sessions() as session:
            await work(user_manager(session, state.settings, state.secret, state.mailer), session)

    state.mailer.spawn(run())


@router.post("/request-verify-token", status_code=202, response_model=Accepted)
async def request_verify_token(body: EmailOnly, request: Request, settings: SettingsDep) -> Accepted:
    """Send a new confirmation link (the same answer whatever the address)."""
    async def work(manager: UserManager, session: AsyncSession) -> None:
        with contextlib.suppress(fu.UserNotExists, fu.UserInactive, fu.UserAlreadyVerified):
            user = await manager.get_by_email(body.email)
            if user.is_active and not user.is_verified and await throttle.may_mail(session, body.email, settings):
                await manager.request_verify(user, request)

    _later(request, work)
    return Accepted(message=SENT)


@router.post("/verify", response_model=UserRead,
             responses={400: error_doc("The token is not valid, has expired or was used (`invalid_token`), or the "
                                       "address is confirmed already (`already_verified`).")})
async def verify(body: TokenOnly, request: Request, manager: UserManagerDep) -> UserRead:
    """Confirm an address with the token from the e-mailed link."""
    try:
        return user_read(await manager.verify(body.token, request))
    except fu.UserAlreadyVerified:  # the token is valid: its holder owns the address, and may know
        raise APIError(400, "already_verified", "This address is confirmed already: sign in.") from None
    except (fu.InvalidVerifyToken, fu.UserNotExists):
        raise APIError(400, "invalid_token", "This confirmation link is not valid, has expired, or was "
                       "already used; ask for a new one.") from None


def _plausible(email: str, password: str) -> bool:
    """Credentials worth a database lookup and a hash (control characters, which PostgreSQL refuses
    in text, and over-long values never match an account)."""
    return (0 < len(email) <= 320 and len(password) <= MAX_PASSWORD_LENGTH
            and not any(ord(c) < 32 for c in email))


async def _authenticate(manager: UserManager, email: str, password: str) -> User | None:
    """fastapi-users' ``authenticate`` with the Argon2 work on a worker thread (and a hash for an
    unknown address too, so timing tells nothing)."""
    try:
        user = await manager.get_by_email(email)
    except fu.UserNotExists:
        await anyio.to_thread.run_sync(PASSWORDS.hash, password)
        return None
    right, rehashed = await anyio.to_thread.run_sync(PASSWORDS.verify_and_update, password, user.hashed_password)
    if not right:
        return None
    if rehashed is not None:
        user = await manager.user_db.update(user, {"hashed_password": rehashed})
    return user


def _too_many(wait: int) -> APIError:
    when = f"{wait} seconds" if wait < 90 else f"about {round(wait / 60)} minutes"
    return APIError(429, "too_many_attempts", f"Too many failed sign-ins; try again in {when}.",
                    headers={"Retry-After": str(wait)})


async def _sign_in(request: Request, form: OAuth2PasswordRequestForm, manager: UserManagerDep,
                   session: SessionDep, settings: SettingsDep) -> User:
    """The user these credentials sign in, with rate limiting per account and client address."""
    check_origin(request)
    email = normal_email(form.username)
    if not _plausible(email, form.password):
        raise APIError(400, "bad_credentials", "The e-mail address or the password is wrong.")
    keys = throttle.Keys.of(email, request.client.host if request.client else None)
    if (wait := await throttle.retry_after(session, keys, settings)) is not None:
        raise _too_many(wait)
    attempt = await throttle.record_failure(session, keys, settings)  # counted until proven right
    if (wait := await throttle.retry_after(session, keys, settings, reserved=1)) is not None:
        raise _too_many(wait)
    user = await _authenticate(manager, email, form.password)
    if user is None or not user.is_active:
        raise APIError(400, "bad_credentials", "The e-mail address or the password is wrong.")
    await throttle.forgive(session, keys, attempt)
    # tokens past both lifetimes are dead rows: cleared here, where new ones are made
    oldest = datetime.now(UTC) - timedelta(seconds=max(settings.session_lifetime_s, settings.token_lifetime_s))
    await session.execute(delete(AccessToken).where(AccessToken.__table__.c.created_at < oldest))
    await session.commit()
    if not user.is_verified:
        raise APIError(400, "not_verified", "Confirm your e-mail address first: open the link we sent "
                       "(or ask for a new one).")
    return user


SIGN_IN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_doc("Wrong credentials or unconfirmed address (`bad_credentials`, `not_verified`)."),
    429: error_doc("Too many failed sign-ins (`too_many_attempts`); see Retry-After.")}


@router.post("/login", response_model=UserRead, responses=SIGN_IN_ERRORS)
async def login(request: Request, response: Response, form: Credentials, manager: UserManagerDep,
                session: SessionDep, settings: SettingsDep) -> UserRead:
    """Sign the browser in: sets the HttpOnly session cookie (and the CSRF cookie)."""
    user = await _sign_in(request, form, manager, session, settings)
    token = await session_tokens(session, settings.session_lifetime_s).write_token(user)
    set_session_cookies(response, token, settings)
    return user_read(user)


@router.post("/token", response_model=BearerToken, responses=SIGN_IN_ERRORS)
async def token(request: Request, form: Credentials, manager: UserManagerDep, session: SessionDep,
                settings: SettingsDep) -> BearerToken:
    """A bearer token for programs (send it as `Authorization: Bearer <token>`)."""
    user = await _sign_in(request, form, manager, session, settings)
    value = await session_tokens(session, settings.token_lifetime_s, "bearer").write_token(user)
    return BearerToken(access_token=value, expires_in=settings.token_lifetime_s)


@router.post("/logout", status_code=204, response_class=Response)
async def logout(signed_in: CurrentSignIn, session: SessionDep, settings: SettingsDep) -> Response:
    """End this session (or revoke this bearer token)."""
    await session_tokens(session, settings.session_lifetime_s).destroy_token(signed_in.credential.token,
                                                                             signed_in.user)
    response = Response(status_code=204)
    clear_session_cookies(response, settings)
    return response


@router.post("/forgot-password", status_code=202, response_model=Accepted)
async def forgot_password(body: EmailOnly, request: Request, settings: SettingsDep) -> Accepted:
    """E-mail a password-reset link (the same answer, as fast, whatever the address)."""
    async def work(manager: UserManager, session: AsyncSession) -> None:
        with contextlib.suppress(fu.UserNotExists, fu.UserInactive):
            user = await manager.get_by_email(body.email)
            if user.is_active and await throttle.may_mail(session, body.email, settings):
                await manager.forgot_password(user, request)

    _later(request, work)
    return Accepted(message=SENT)


@router.post("/reset-password", response_model=Accepted,
             responses={400: error_doc("The token is not valid, has expired or was used (`invalid_token`)."),
                        422: error_doc("The new password is not accepted (`invalid_password`).")})
async def reset_password(body: PasswordReset, request: Request, manager: UserManagerDep,
                         session: SessionDep) -> Accepted:
    """Set a new password with the token from the e-mailed link; every session is signed out."""
    try:
        user = await manager.reset_password(body.token, body.password, request)
    except fu.InvalidPasswordException as exc:
        raise APIError(422, "invalid_password", str(exc.reason)) from None
    except (fu.InvalidResetPasswordToken, fu.UserNotExists, fu.UserInactive):
        raise APIError(400, "invalid_token", "This reset link is not valid, has expired, or was already "
                       "used; ask for a new one.") from None
    await sign_out_everywhere(session, user)
    return Accepted(message="Your password is changed; sign in with it.")


async def sign_out_everywhere(session: SessionDep, user: User) -> None:
    await session.execute(delete(AccessToken).where(AccessToken.__table__.c.user_id == user.id))
    await session.commit()
