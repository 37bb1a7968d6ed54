"""/api/v1/auth: register, confirm, sign in (cookie or bearer token), sign out, reset a password.

Registration, confirmation requests and reset requests answer the same whether or not the
address has an account, and as fast (the e-mail is sent in the background, and an address that
exists costs the same Argon2 hash as a new one): nobody learns from them who has an account.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users import exceptions as fu

from inkdigit.service.account_schemas import (
    Accepted,
    BearerToken,
    EmailOnly,
    PasswordReset,
    Registration,
    TokenOnly,
    UserRead,
)
from inkdigit.service.accounts import throttle
from inkdigit.service.accounts.auth import check_origin, clear_session_cookies, set_session_cookies
from inkdigit.service.accounts.manager import PASSWORDS, UserCreate, session_tokens
from inkdigit.service.db.models import User
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
async def register(body: Registration, request: Request, manager: UserManagerDep) -> Accepted:
    """Create an account and e-mail its confirmation link (the same answer for a known address)."""
    try:
        await manager.validate_password(body.password, body)
    except fu.InvalidPasswordException as exc:
        raise APIError(422, "invalid_password", str(exc.reason)) from None
    try:
        await manager.create(UserCreate(email=body.email, password=body.password), safe=True, request=request)
    except fu.UserAlreadyExists:
        PASSWORDS.hash(body.password)  # the Argon2 work a new account costs, so timing tells nothing
        user = await manager.get_by_email(body.email)
        if user.is_verified:
            await manager.mailer.send(user.email, "Your inkdigit account", (
                "Someone (perhaps you) tried to sign up to inkdigit with this address, which already has an "
                f"account. To sign in: {manager.base_url(request)}/signin\n"
                f"Forgot the password? {manager.base_url(request)}/forgot-password\n"))
        elif user.is_active:
            await manager.request_verify(user, request)  # a second sign-up sends a fresh link
    return Accepted(message=SENT)


@router.post("/request-verify-token", status_code=202, response_model=Accepted)
async def request_verify_token(body: EmailOnly, request: Request, manager: UserManagerDep) -> Accepted:
    """Send a new confirmation link (the same answer whatever the address)."""
    with contextlib.suppress(fu.UserNotExists, fu.UserInactive, fu.UserAlreadyVerified):
        await manager.request_verify(await manager.get_by_email(body.email), request)
    return Accepted(message=SENT)


@router.post("/verify", response_model=UserRead,
             responses={400: error_doc("The token is not valid, has expired or was used (`invalid_token`).")})
async def verify(body: TokenOnly, request: Request, manager: UserManagerDep) -> UserRead:
    """Confirm an address with the token from the e-mailed link."""
    try:
        return user_read(await manager.verify(body.token, request))
    except (fu.InvalidVerifyToken, fu.UserNotExists, fu.UserAlreadyVerified):
        raise APIError(400, "invalid_token", "This confirmation link is not valid, has expired, or was "
                       "already used; ask for a new one.") from None


async def _sign_in(request: Request, form: OAuth2PasswordRequestForm, manager: UserManagerDep,
                   session: SessionDep, settings: SettingsDep) -> User:
    """The user these credentials sign in, with rate limiting per account and client address."""
    check_origin(request)
    keys = throttle.Keys.of(form.username, request.client.host if request.client else None)
    wait = await throttle.retry_after(session, keys, settings)
    if wait is not None:
        raise APIError(429, "too_many_attempts", f"Too many failed sign-ins; try again in {wait} s.",
                       headers={"Retry-After": str(wait)})
    user = await manager.authenticate(form)
    if user is None or not user.is_active:
        await throttle.record_failure(session, keys, settings)
        raise APIError(400, "bad_credentials", "The e-mail address or the password is wrong.")
    if not user.is_verified:
        raise APIError(400, "not_verified", "Confirm your e-mail address first: open the link we sent "
                       "(or ask for a new one).")
    await throttle.clear_account(session, keys)
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
async def forgot_password(body: EmailOnly, request: Request, manager: UserManagerDep) -> Accepted:
    """E-mail a password-reset link (the same answer whatever the address)."""
    with contextlib.suppress(fu.UserNotExists, fu.UserInactive):
        await manager.forgot_password(await manager.get_by_email(body.email), request)
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
    from sqlalchemy import delete

    from inkdigit.service.db.models import AccessToken

    await session.execute(delete(AccessToken).where(AccessToken.__table__.c.user_id == user.id))
    await session.commit()
