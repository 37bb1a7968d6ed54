"""Authentication through HTTP: registration and confirmation, sign-in by cookie and by bearer
token, sign-out, password reset, and answers that do not tell who has an account."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import pytest

from tests.service.accounts.conftest import PASSWORD, Accounts, token_in

AUTH = "/api/v1/auth"
ME = "/api/v1/users/me"
NEW_PASSWORD = "another long secret"


def body_of(message: Any) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def error_code(response: Any) -> str:
    code = response.json()["error"]["code"]
    assert isinstance(code, str)
    return code


def login(accounts: Accounts, email: str, password: str = PASSWORD, route: str = "login") -> Any:
    return accounts.http.post(f"{AUTH}/{route}", data={"username": email, "password": password})


def set_cookies(response: Any) -> dict[str, dict[str, str | bool]]:
    """Each cookie a response sets: its value and attributes (lower-case names)."""
    cookies: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            attrs: dict[str, str | bool] = {"value": morsel.value}
            attrs.update({k: v for k, v in morsel.items() if v})
            cookies[name] = attrs
    return cookies


def requested_mail(accounts: Accounts, email: str, subject: str, before: int) -> Any:
    return accounts.inbox.wait_for(email, subject, after=before)


# --- registration and confirmation ---------------------------------------------------------------


def test_register_mails_a_confirmation_link_that_verifies(accounts: Accounts) -> None:
    """Registration is 201 and mails a link to the web app carrying the token; the token confirms."""
    email = "ada@example.com"
    r = accounts.http.post(f"{AUTH}/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    message = accounts.inbox.wait_for(email, "confirm")
    assert "http://inkdigit.test/verify?token=" in body_of(message)
    verified = accounts.http.post(f"{AUTH}/verify", json={"token": token_in(message)})
    assert verified.status_code == 200, verified.text
    assert verified.json()["email"] == email and verified.json()["is_verified"] is True


def test_used_or_forged_confirmation_token_is_invalid(accounts: Accounts) -> None:
    """A confirmation token works once (again: 400 ``already_verified``, the page then says to sign
    in); a garbage or tampered one is 400 ``invalid_token``."""
    email = "bo@example.com"
    accounts.register(email)
    token = token_in(accounts.inbox.wait_for(email, "confirm"))
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert accounts.http.post(f"{AUTH}/verify", json={"token": tampered}).status_code == 400
    assert accounts.http.post(f"{AUTH}/verify", json={"token": token}).status_code == 200
    again = accounts.http.post(f"{AUTH}/verify", json={"token": token})
    assert again.status_code == 400 and error_code(again) == "already_verified", again.text
    for bad in ("garbage", tampered):
        r = accounts.http.post(f"{AUTH}/verify", json={"token": bad})
        assert r.status_code == 400 and error_code(r) == "invalid_token", r.text


def test_request_verify_token_resends_a_working_link(accounts: Accounts) -> None:
    """A lost confirmation e-mail can be asked for again, and the new link confirms."""
    email = "cy@example.com"
    accounts.register(email)
    accounts.inbox.wait_for(email, "confirm")
    before = len(accounts.inbox.messages)
    r = accounts.http.post(f"{AUTH}/request-verify-token", json={"email": email})
    assert r.status_code == 202, r.text
    again = requested_mail(accounts, email, "confirm", before)
    assert "http://inkdigit.test/verify?token=" in body_of(again)
    assert accounts.http.post(f"{AUTH}/verify", json={"token": token_in(again)}).status_code == 200
    assert login(accounts, email).status_code == 200


def test_unverified_account_cannot_sign_in(accounts: Accounts) -> None:
    """Neither the cookie login nor the token route signs in an unconfirmed address."""
    email = "di@example.com"
    accounts.register(email)
    for route in ("login", "token"):
        r = login(accounts, email, route=route)
        assert r.status_code == 400 and error_code(r) == "not_verified", r.text
    assert "inkdigit_session" not in accounts.http.cookies


# --- sign-in, sign-out -----------------------------------------------------------------------------


def test_login_sets_httponly_lax_session_cookie_and_readable_csrf_cookie(accounts: Accounts) -> None:
    """The session cookie is HttpOnly and SameSite=Lax; the CSRF cookie is readable by the page."""
    email = "ed@example.com"
    accounts.register(email)
    accounts.verify(email)
    r = login(accounts, email)
    assert r.status_code == 200 and r.json()["email"] == email, r.text
    cookies = set_cookies(r)
    session, csrf = cookies["inkdigit_session"], cookies["inkdigit_csrf"]
    assert session.get("httponly") is True
    assert str(session.get("samesite", "")).lower() == "lax"
    assert session.get("path") == "/" and int(str(session["max-age"])) == accounts.settings.session_lifetime_s
    assert not csrf.get("httponly")
    assert len(str(csrf["value"])) >= 32 and csrf["value"] != session["value"]
    assert not accounts.settings.secure_cookies or session.get("secure") is True
    assert accounts.http.get(ME).json()["email"] == email


def test_token_gives_a_bearer_token_that_authenticates(accounts: Accounts) -> None:
    """/auth/token answers a bearer token (no cookie) that GET /users/me accepts."""
    email = "fay@example.com"
    accounts.register(email)
    accounts.verify(email)
    r = login(accounts, email, route="token")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and isinstance(body["access_token"], str) and body["access_token"]
    assert body["expires_in"] == accounts.settings.token_lifetime_s
    assert "set-cookie" not in r.headers
    me = accounts.http.get(ME, headers={"authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == email
    assert accounts.http.get(ME, headers={"authorization": "Bearer not-a-token"}).status_code == 401


def test_logout_with_cookie_ends_the_session(accounts: Accounts) -> None:
    """Cookie sign-out needs the CSRF header; afterwards the old session cookie is 401."""
    http, email = accounts.http, "gus@example.com"
    accounts.register(email)
    accounts.verify(email)
    csrf = accounts.browser_login(email)
    session = http.cookies["inkdigit_session"]
    refused = http.post(f"{AUTH}/logout")
    assert refused.status_code == 403 and error_code(refused) == "csrf_failed"
    assert http.get(ME).status_code == 200  # still signed in
    r = http.post(f"{AUTH}/logout", headers=csrf)
    assert r.status_code == 204, r.text
    cleared = set_cookies(r)
    assert cleared["inkdigit_session"]["value"] == "" and cleared["inkdigit_csrf"]["value"] == ""
    http.cookies.clear()
    replayed = http.get(ME, headers={"cookie": f"inkdigit_session={session}"})
    assert replayed.status_code == 401 and error_code(replayed) == "not_authenticated"


def test_logout_with_bearer_revokes_only_that_token(accounts: Accounts) -> None:
    """Bearer sign-out needs no CSRF header and revokes that token, not the user's others."""
    email = "hal@example.com"
    first = accounts.user(email)
    second = accounts.bearer(email)
    assert accounts.http.post(f"{AUTH}/logout", headers=first).status_code == 204
    r = accounts.http.get(ME, headers=first)
    assert r.status_code == 401 and error_code(r) == "not_authenticated"
    assert accounts.http.get(ME, headers=second).status_code == 200
    again = accounts.http.post(f"{AUTH}/logout", headers=first)
    assert again.status_code == 401 and error_code(again) == "not_authenticated"


def test_wrong_password_is_bad_credentials(accounts: Accounts) -> None:
    """A wrong password is 400 ``bad_credentials`` on both sign-in routes."""
    email = "ivy@example.com"
    accounts.register(email)
    accounts.verify(email)
    for route in ("login", "token"):
        r = login(accounts, email, "not the password", route=route)
        assert r.status_code == 400 and error_code(r) == "bad_credentials", r.text


# --- password reset --------------------------------------------------------------------------------


def reset_token(accounts: Accounts, email: str) -> str:
    before = len(accounts.inbox.messages)
    r = accounts.http.post(f"{AUTH}/forgot-password", json={"email": email})
    assert r.status_code == 202, r.text
    message = requested_mail(accounts, email, "reset", before)
    assert "http://inkdigit.test/reset-password?token=" in body_of(message)
    return token_in(message)


def test_password_reset_sets_the_new_password(accounts: Accounts) -> None:
    """After a reset the old password fails and the new one signs in."""
    email = "jo@example.com"
    accounts.user(email)
    token = reset_token(accounts, email)
    r = accounts.http.post(f"{AUTH}/reset-password", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    old = login(accounts, email)
    assert old.status_code == 400 and error_code(old) == "bad_credentials"
    assert login(accounts, email, NEW_PASSWORD).status_code == 200
    assert login(accounts, email, NEW_PASSWORD, route="token").status_code == 200


def test_reset_token_works_once(accounts: Accounts) -> None:
    """A reset link cannot be used a second time (nor a garbage one at all)."""
    email = "kim@example.com"
    accounts.user(email)
    token = reset_token(accounts, email)
    assert accounts.http.post(f"{AUTH}/reset-password", json={"token": token, "password": NEW_PASSWORD}
                              ).status_code == 200
    for bad in (token, "garbage"):
        r = accounts.http.post(f"{AUTH}/reset-password", json={"token": bad, "password": "a third password"})
        assert r.status_code == 400 and error_code(r) == "invalid_token", r.text
    assert login(accounts, email, NEW_PASSWORD).status_code == 200


def test_reset_signs_out_every_session_and_token(accounts: Accounts) -> None:
    """Whoever knew the old password is signed out by a reset: cookies and bearer tokens end."""
    http, email = accounts.http, "lu@example.com"
    bearer = accounts.user(email)
    accounts.browser_login(email)
    session = http.cookies["inkdigit_session"]
    token = reset_token(accounts, email)
    assert http.post(f"{AUTH}/reset-password", json={"token": token, "password": NEW_PASSWORD}).status_code == 200
    http.cookies.clear()
    for headers in (bearer, {"cookie": f"inkdigit_session={session}"}):
        r = http.get(ME, headers=headers)
        assert r.status_code == 401 and error_code(r) == "not_authenticated", headers


@pytest.mark.parametrize("password", ["short", "1234567"])
def test_reset_refuses_a_too_short_password(accounts: Accounts, password: str) -> None:
    """A new password under 8 characters is 422 ``invalid_password`` and the old one stays."""
    email = "max@example.com"
    accounts.user(email)
    token = reset_token(accounts, email)
    r = accounts.http.post(f"{AUTH}/reset-password", json={"token": token, "password": password})
    assert r.status_code == 422 and error_code(r) == "invalid_password", r.text
    assert login(accounts, email).status_code == 200


def test_register_refuses_a_too_short_password(accounts: Accounts) -> None:
    """Registration with a short password is 422 ``invalid_password`` and creates nothing."""
    email = "ned@example.com"
    r = accounts.http.post(f"{AUTH}/register", json={"email": email, "password": "short"})
    assert r.status_code == 422 and error_code(r) == "invalid_password", r.text
    accounts.register(email)  # the address is still free


# --- no user enumeration ---------------------------------------------------------------------------


def same_answer(a: Any, b: Any) -> None:
    assert (a.status_code, a.content) == (b.status_code, b.content), (a.text, b.text)
    assert a.headers.get("content-type") == b.headers.get("content-type")


@pytest.mark.parametrize("verified", [False, True], ids=["unconfirmed", "confirmed"])
def test_email_routes_answer_the_same_for_known_and_unknown_addresses(accounts: Accounts, verified: bool) -> None:
    """Register, forgot-password and request-verify-token say nothing about who has an account."""
    http, known, unknown = accounts.http, "olga@example.com", "nobody@example.com"
    accounts.register(known)
    if verified:
        accounts.verify(known)
    # the unknown address is registered by the first request: compare with a second, fresh one
    a = http.post(f"{AUTH}/register", json={"email": known, "password": PASSWORD})
    b = http.post(f"{AUTH}/register", json={"email": "fresh@example.com", "password": PASSWORD})
    same_answer(a, b)
    assert a.status_code == 201
    for route in ("forgot-password", "request-verify-token"):
        a = http.post(f"{AUTH}/{route}", json={"email": known})
        b = http.post(f"{AUTH}/{route}", json={"email": unknown})
        same_answer(a, b)
        assert a.status_code == 202
    assert accounts.inbox.to(unknown) == []


def test_sign_in_failure_is_the_same_for_unknown_address_and_wrong_password(accounts: Accounts) -> None:
    """A wrong password and an address without an account get the same answer on both routes."""
    email = "pam@example.com"
    accounts.user(email)
    for route in ("login", "token"):
        wrong = login(accounts, email, "wrong password!", route=route)
        unknown = login(accounts, "nobody@example.com", "wrong password!", route=route)
        same_answer(wrong, unknown)
        assert wrong.status_code == 400 and error_code(wrong) == "bad_credentials"
