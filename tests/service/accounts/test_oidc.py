"""Sign-in through OpenID Connect, against a local provider the test starts (oidc_provider.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.service.accounts.conftest import PASSWORD, Accounts
from tests.service.accounts.oidc_provider import LocalProvider


def sign_in(accounts: Accounts, name: str = "testid") -> httpx.Response:
    """The browser's trip: our authorize → the provider → our callback; the callback's response."""
    http = accounts.http
    to_provider = http.get(f"/api/v1/auth/oidc/{name}/authorize", follow_redirects=False)
    assert to_provider.status_code == 302, to_provider.text
    back = httpx.get(to_provider.headers["location"], follow_redirects=False)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    assert callback.path == f"/api/v1/auth/oidc/{name}/callback"
    return http.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_off_by_default(accounts: Accounts) -> None:
    assert accounts.http.get("/api/v1/auth/oidc").json() == []
    r = accounts.http.get("/api/v1/auth/oidc/google/authorize", follow_redirects=False)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_a_new_person_signs_in_with_the_provider(oidc_accounts: Accounts, provider: LocalProvider) -> None:
    assert oidc_accounts.http.get("/api/v1/auth/oidc").json() == [
        {"name": "testid", "label": "Test ID", "authorize_url": "/api/v1/auth/oidc/testid/authorize"}]
    done = sign_in(oidc_accounts)
    assert done.status_code == 303 and done.headers["location"] == "http://testserver/"
    me = oidc_accounts.http.get("/api/v1/users/me").json()
    assert me["email"] == "oidc@example.com" and me["is_verified"] is True
    assert oidc_accounts.inbox.to("oidc@example.com") == []  # confirmed by the provider: no e-mail
    # and the session it got is a real one: signed-in reads are kept
    csrf = {"x-csrf-token": oidc_accounts.http.cookies["inkdigit_csrf"]}
    assert oidc_accounts.http.post("/api/v1/auth/logout", headers=csrf).status_code == 204
    assert oidc_accounts.http.get("/api/v1/users/me").status_code == 401
    # a second sign-in finds the same account
    assert sign_in(oidc_accounts).status_code == 303
    assert oidc_accounts.http.get("/api/v1/users/me").json()["id"] == me["id"]


def test_an_existing_account_is_linked_by_its_verified_address(oidc_accounts: Accounts,
                                                               provider: LocalProvider) -> None:
    oidc_accounts.user("oidc@example.com")
    assert sign_in(oidc_accounts).status_code == 303
    assert oidc_accounts.http.get("/api/v1/users/me").json()["email"] == "oidc@example.com"
    oidc_accounts.http.cookies.clear()
    oidc_accounts.bearer("oidc@example.com", PASSWORD)  # its password still works


def test_an_unconfirmed_squatter_loses_the_address(oidc_accounts: Accounts, provider: LocalProvider) -> None:
    """Someone registered the address without being able to confirm it: the provider's sign-in
    confirms the account for its owner, and the squatter's password stops working."""
    oidc_accounts.register("oidc@example.com", "squatters password")
    assert sign_in(oidc_accounts).status_code == 303
    assert oidc_accounts.http.get("/api/v1/users/me").json()["is_verified"] is True
    r = oidc_accounts.http.post("/api/v1/auth/token", data={"username": "oidc@example.com",
                                                            "password": "squatters password"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_credentials"


def test_an_unverified_address_at_the_provider_is_refused(oidc_accounts: Accounts, provider: LocalProvider) -> None:
    provider.person = {"sub": "u-2", "email": "someone@example.com", "email_verified": False}
    done = sign_in(oidc_accounts)
    assert done.status_code == 303 and done.headers["location"].endswith("/signin?error=email_not_verified")
    assert oidc_accounts.http.get("/api/v1/users/me").status_code == 401


def test_a_callback_from_another_browser_or_replayed_is_refused(oidc_accounts: Accounts,
                                                                provider: LocalProvider) -> None:
    http = oidc_accounts.http
    to_provider = http.get("/api/v1/auth/oidc/testid/authorize", follow_redirects=False)
    back = urlsplit(httpx.get(to_provider.headers["location"], follow_redirects=False).headers["location"])
    http.cookies.clear()  # the link opened in a browser that did not start the sign-in
    r = http.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert r.headers["location"].endswith("/signin?error=oidc_invalid") and provider.token_requests == 0
    forged = parse_qs(back.query)
    r = http.get(f"{back.path}?code={forged['code'][0]}&state=not-a-signed-state", follow_redirects=False)
    assert r.headers["location"].endswith("/signin?error=oidc_invalid")
    assert http.get("/api/v1/users/me").status_code == 401


def test_a_provider_that_cannot_be_reached_is_a_clear_error(db_url: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from inkdigit.service.app import create_app
    from inkdigit.service.config import Settings
    from tests.service.conftest import free_port

    dead = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    settings = Settings(home=tmp_path, database_url=db_url, oidc_providers=json.loads(json.dumps(
        {"gone": {"client_id": "x", "client_secret": "y", "discovery_url": dead}})))
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        r = client.get("/api/v1/auth/oidc/gone/authorize", follow_redirects=False)
        assert r.status_code == 502 and r.json()["error"]["code"] == "provider_error"
        assert time.monotonic() - started < 30
        assert client.get("/healthz").status_code == 200
