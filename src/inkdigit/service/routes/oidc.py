"""/api/v1/auth/oidc: sign in with Google, LinkedIn or another OpenID Connect provider.

A browser flow: the sign-in page links to ``…/{name}/authorize``, which redirects to the provider;
the provider sends the browser back to ``…/{name}/callback``, which signs it in (the session
cookie, as ``/auth/login`` sets it) and redirects to the web app. A failure redirects to
``/signin?error=<code>`` so the page can say what went wrong.
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated, Any

import httpx
import jwt
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from fastapi_users import exceptions as fu
from fastapi_users.jwt import decode_jwt, generate_jwt
from httpx_oauth.exceptions import HTTPXOAuthError
from httpx_oauth.oauth2 import BaseOAuth2
from pydantic import BaseModel

from inkdigit.service.account_schemas import normal_email
from inkdigit.service.accounts import oidc
from inkdigit.service.accounts.auth import set_session_cookies
from inkdigit.service.accounts.manager import PASSWORDS, session_tokens
from inkdigit.service.deps import SessionDep, SettingsDep, UserManagerDep
from inkdigit.service.errors import APIError, error_doc

router = APIRouter(prefix="/api/v1/auth/oidc", tags=["auth"])
log = logging.getLogger("inkdigit.service.oidc")


class ProviderInfo(BaseModel):
    name: str
    label: str
    authorize_url: str


def _provider(request: Request, name: str) -> oidc.Provider:
    found = oidc.providers(request.app.state.settings.oidc_providers).get(name)
    if found is None:
        raise APIError(404, "not_found", f"Sign-in with {name!r} is not configured on this server.")
    return found


def _callback_url(request: Request, manager: UserManagerDep, name: str) -> str:
    return f"{manager.base_url(request)}/api/v1/auth/oidc/{name}/callback"


@router.get("", response_model=list[ProviderInfo])
async def list_providers(settings: SettingsDep) -> list[ProviderInfo]:
    """The providers users may sign in with here (none unless configured)."""
    return [ProviderInfo(name=p.name, label=p.label, authorize_url=f"/api/v1/auth/oidc/{p.name}/authorize")
            for p in oidc.providers(settings.oidc_providers).values()]


@router.get("/{name}/authorize", status_code=302, response_class=RedirectResponse,
            responses={404: error_doc("No such provider configured (`not_found`)."),
                       502: error_doc("The provider cannot be reached (`provider_error`).")})
async def authorize(name: str, request: Request, manager: UserManagerDep, settings: SettingsDep) -> RedirectResponse:
    """Send the browser to the provider's sign-in page."""
    provider = _provider(request, name)
    client = await _client(request, provider)
    verifier, challenge = oidc.pkce_pair()
    state = generate_jwt({"aud": oidc.STATE_AUDIENCE, "provider": name, "binding": oidc.challenge_of(verifier),
                          "nonce": secrets.token_urlsafe(8)}, request.app.state.secret, oidc.STATE_LIFETIME_S)
    url = await client.get_authorization_url(_callback_url(request, manager, name), state=state,
                                             code_challenge=challenge, code_challenge_method="S256")
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(oidc.VERIFIER_COOKIE, verifier, max_age=oidc.STATE_LIFETIME_S, httponly=True,
                        secure=settings.secure_cookies, samesite="lax", path="/api/v1/auth/oidc")
    return response


@router.get("/{name}/callback", status_code=303, response_class=RedirectResponse)
async def callback(name: str, request: Request, manager: UserManagerDep, session: SessionDep,
                   settings: SettingsDep, code: Annotated[str | None, Query(max_length=4096)] = None,
                   state: Annotated[str | None, Query(max_length=8192)] = None,
                   error: Annotated[str | None, Query(max_length=200)] = None) -> RedirectResponse:
    """Where the provider sends the browser back: sign it in, then go to the web app."""
    provider = _provider(request, name)
    verifier = request.cookies.get(oidc.VERIFIER_COOKIE, "")
    if error or not code or not state:
        return _failed(manager, request, "oidc_cancelled" if error else "oidc_invalid")
    try:
        claims = decode_jwt(state, request.app.state.secret, [oidc.STATE_AUDIENCE])
    except jwt.PyJWTError:
        return _failed(manager, request, "oidc_invalid")
    if claims.get("provider") != name or not verifier or oidc.challenge_of(verifier) != claims.get("binding"):
        return _failed(manager, request, "oidc_invalid")  # not the browser that started, or replayed
    client = await _client(request, provider)
    try:
        token = await client.get_access_token(code, _callback_url(request, manager, name), code_verifier=verifier)
        profile: Any = await client.get_profile(token["access_token"])  # type: ignore[attr-defined]
    except (HTTPXOAuthError, httpx.HTTPError, OSError, KeyError, ValueError) as exc:
        log.warning("sign-in with %s failed: %s", name, exc)
        return _failed(manager, request, "provider_error")
    if not isinstance(profile, dict):
        return _failed(manager, request, "provider_error")
    email = oidc.verified_email(profile)
    sub = str(profile.get("sub", ""))
    if email is None or not 0 < len(sub) <= 320 or len(email) > 320:
        return _failed(manager, request, "email_not_verified")
    try:
        # the provider's own tokens are not kept ("" in their place): nothing here calls the
        # provider again, and a token not kept cannot leak
        user = await manager.oauth_callback(name, "", sub, normal_email(email), None, None, request,
                                            associate_by_email=True, is_verified_by_default=True)
    except fu.UserAlreadyExists:
        return _failed(manager, request, "oidc_invalid")
    if not user.is_active:
        return _failed(manager, request, "bad_credentials")
    if not user.is_verified:
        # an unconfirmed password account of this address, which anybody could have made: the
        # provider has now proven the address, so it is confirmed and that password is dropped
        user = await manager.user_db.update(user, {"is_verified": True,
                                                   "hashed_password": PASSWORDS.hash(secrets.token_urlsafe(32))})
    value = await session_tokens(session, settings.session_lifetime_s).write_token(user)
    response = RedirectResponse(f"{manager.base_url(request)}/", status_code=303)
    set_session_cookies(response, value, settings)
    response.delete_cookie(oidc.VERIFIER_COOKIE, path="/api/v1/auth/oidc")
    return response


async def _client(request: Request, provider: oidc.Provider) -> BaseOAuth2[Any]:
    try:
        client: BaseOAuth2[Any] = await request.app.state.oidc_clients.get(provider)
    except Exception as exc:
        log.warning("cannot reach %s's OpenID configuration: %s", provider.name, exc)
        raise APIError(502, "provider_error", f"{provider.label} cannot be reached; try again later.") from None
    return client


def _failed(manager: UserManagerDep, request: Request, code: str) -> RedirectResponse:
    response = RedirectResponse(f"{manager.base_url(request)}/signin?error={code}", status_code=303)
    response.delete_cookie(oidc.VERIFIER_COOKIE, path="/api/v1/auth/oidc")
    return response
