"""What a security review of the accounts found, each fixed and held here: mailed links that a
request's Host could redirect, tokens that broke other users' lookups, an address claimed before
its owner signed up, parallel guesses past the rate limit, mail floods, case-variant duplicates,
huge ids and a provider's failure answered with 500."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from inkdigit.service.accounts.auth import TokenLookups
from inkdigit.service.db.migrate import upgrade
from inkdigit.service.db.session import Database, database_url
from tests.service.accounts.conftest import PASSWORD, Accounts, AccountsFactory, token_in
from tests.service.accounts.oidc_provider import LocalProvider
from tests.service.accounts.test_oidc import sign_in

AUTH = "/api/v1/auth"


def test_mailed_links_never_follow_the_request_host(make_accounts: AccountsFactory) -> None:
    """Without ``public_url`` a reset link points at the address the server listens on, never at
    a ``Host`` the sender chose (which would hand them the token)."""
    accounts = make_accounts(public_url=None)
    accounts.register("host@example.com")
    accounts.verify("host@example.com")
    before = len(accounts.inbox.messages)
    r = accounts.http.post(f"{AUTH}/forgot-password", json={"email": "host@example.com"},
                           headers={"host": "evil.example:8443", "x-forwarded-host": "evil.example"})
    assert r.status_code == 202
    mail = accounts.inbox.wait_for("host@example.com", "reset", after=before)
    body = mail.get_payload(decode=True).decode()
    assert "evil.example" not in body and "http://testserver/reset-password?token=" in body


def test_a_malformed_token_is_refused_before_the_database(accounts: Accounts) -> None:
    """A NUL byte (PostgreSQL refuses it in text) or any other shape than ours is a plain 401."""
    for cookie in ('inkdigit_session="\\000x"', "inkdigit_session=" + "x" * 5000):
        r = accounts.http.get("/api/v1/users/me", headers={"cookie": cookie})
        assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated", r.text
    r = accounts.http.post(f"{AUTH}/token", data={"username": "a\x00b@example.com", "password": "x" * 10})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_credentials"


def test_one_bad_lookup_does_not_fail_the_others(db_url: str, tmp_path: Path) -> None:
    """Concurrent token checks share a query; one that makes it fail is asked again alone."""
    async def main() -> list[object]:
        url = database_url(db_url, tmp_path)
        upgrade(url)
        db = Database(url)
        lookups = TokenLookups(db.engine)
        since = datetime.now(UTC) - timedelta(days=1)
        try:
            return await asyncio.gather(*(lookups.owner(t, since) for t in ["s.a", "s.\x00", "s.b"]),
                                        return_exceptions=True)
        finally:
            await db.dispose()

    results = asyncio.run(main())
    assert results[0] is None and results[2] is None  # unknown tokens, answered
    if db_url.startswith("postgresql"):
        assert isinstance(results[1], Exception)  # only the NUL one failed


def test_an_address_claimed_before_its_owner_signs_up_is_theirs(accounts: Accounts) -> None:
    """Someone registers your address with their password and cannot confirm it; you sign up and
    confirm: your password is the account's, theirs is not."""
    accounts.register("owner@example.com", "squatter's password")
    accounts.inbox.wait_for("owner@example.com", "confirm")
    before = len(accounts.inbox.messages)
    accounts.register("owner@example.com", PASSWORD)
    token = token_in(accounts.inbox.wait_for("owner@example.com", "confirm", after=before))
    assert accounts.http.post(f"{AUTH}/verify", json={"token": token}).status_code == 200
    assert accounts.http.post(f"{AUTH}/token", data={"username": "owner@example.com", "password": PASSWORD}
                              ).status_code == 200
    r = accounts.http.post(f"{AUTH}/token", data={"username": "owner@example.com",
                                                  "password": "squatter's password"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_credentials"


def test_parallel_guesses_stop_at_the_limit(make_accounts: AccountsFactory) -> None:
    """Each attempt is counted before its password is checked: a burst of guesses at once gets at
    most the limit of real tries, the rest 429."""
    accounts = make_accounts(login_max_failures_account=5)
    accounts.register("burst@example.com")
    accounts.verify("burst@example.com")

    def guess(n: int) -> int:
        return accounts.http.post(f"{AUTH}/token", data={"username": "burst@example.com",
                                                         "password": f"wrong guess {n}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(guess, range(24)))
    assert statuses.count(400) <= 5 and statuses.count(429) >= 19, statuses
    r = accounts.http.post(f"{AUTH}/token", data={"username": "burst@example.com", "password": PASSWORD})
    assert r.status_code == 429 and "minutes" in r.json()["error"]["message"]


def test_no_inbox_is_flooded(make_accounts: AccountsFactory) -> None:
    """Reset, confirmation and sign-up requests send at most ``mail_max_per_hour`` e-mails to one
    address, and are answered the same past it."""
    accounts = make_accounts(mail_max_per_hour=3)
    accounts.register("flood@example.com")
    accounts.verify("flood@example.com")
    answers = {accounts.http.post(f"{AUTH}/forgot-password", json={"email": "flood@example.com"}).text
               for _ in range(8)}
    assert len(answers) == 1
    time.sleep(1.0)
    assert len(accounts.inbox.to("flood@example.com")) == 3  # the confirmation and two resets


def test_addresses_differing_in_case_are_one_account(accounts: Accounts) -> None:
    accounts.register("Case@Example.com")
    before = len(accounts.inbox.messages)
    accounts.register("case@example.COM")
    token = token_in(accounts.inbox.wait_for("case@example.com", "confirm", after=before))
    assert accounts.http.post(f"{AUTH}/verify", json={"token": token}).json()["email"] == "case@example.com"
    r = accounts.http.post(f"{AUTH}/token", data={"username": " CASE@example.com ", "password": PASSWORD})
    assert r.status_code == 200, r.text


def test_registering_the_same_address_at_once_makes_one_account(accounts: Accounts, db_url: str) -> None:
    def register(n: int) -> int:
        return accounts.http.post(f"{AUTH}/register", json={"email": "race@example.com",
                                                            "password": PASSWORD}).status_code

    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(register, range(6))) == {201}
    token = token_in(accounts.inbox.wait_for("race@example.com", "confirm"))
    assert accounts.http.post(f"{AUTH}/verify", json={"token": token}).status_code == 200
    assert accounts.http.post(f"{AUTH}/token", data={"username": "race@example.com", "password": PASSWORD}
                              ).status_code == 200


def test_an_id_past_the_column_is_not_found(accounts: Accounts) -> None:
    headers = accounts.user("ids@example.com")
    for path in ("/api/v1/history/2147483648", "/api/v1/history/99999999999999999999/image"):
        r = accounts.http.get(path, headers=headers)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request", r.text


def test_a_provider_failing_is_a_sign_in_error_not_a_500(oidc_accounts: Accounts, provider: LocalProvider) -> None:
    provider.userinfo_fails = True
    done = sign_in(oidc_accounts)
    assert done.status_code == 303 and done.headers["location"].endswith("/signin?error=provider_error")
    assert httpx.get(provider.url + "/.well-known/openid-configuration").status_code == 200
