"""Security of accounts through HTTP: sign-in rate limits, CSRF, session and token expiry, security
headers, deleting an account with everything it owns, and bad input on every auth route."""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
import pytest
from sqlalchemy import create_engine, func, select

from inkdigit.service.errors import ERROR_CODES
from tests.conftest import png_bytes
from tests.service.accounts.conftest import CLIENT_HEADER, PASSWORD, Accounts, AccountsFactory, token_in

AUTH = "/api/v1/auth"
ME = "/api/v1/users/me"
PREDICT = "/api/v1/predict"
EVIL = {"origin": "http://evil.example"}
IMAGE = png_bytes(np.full((50, 50), 255))


def error_code(response: Any) -> str:
    code = response.json()["error"]["code"]
    assert isinstance(code, str)
    return code


def login(accounts: Accounts, email: str, password: str = PASSWORD, route: str = "login",
          headers: dict[str, str] | None = None) -> Any:
    return accounts.http.post(f"{AUTH}/{route}", data={"username": email, "password": password},
                              headers=headers or {})


def read(accounts: Accounts, headers: dict[str, str]) -> Any:
    return accounts.http.post(PREDICT, content=IMAGE, headers={"content-type": "image/png", **headers})


def confirmed(accounts: Accounts, *emails: str) -> None:
    for email in emails:
        accounts.register(email)
        accounts.verify(email)


# --- rate limiting ---------------------------------------------------------------------------------


def test_account_is_locked_after_failures_even_with_the_right_password(make_accounts: AccountsFactory) -> None:
    """N failed sign-ins to one account: 429 ``too_many_attempts`` with Retry-After on both routes,
    even for the right password; another account from the same client still signs in."""
    accounts = make_accounts(login_max_failures_account=3, login_max_failures_client=100)
    confirmed(accounts, "ann@example.com", "bea@example.com")
    for _ in range(3):
        r = login(accounts, "ann@example.com", "wrong password")
        assert r.status_code == 400 and error_code(r) == "bad_credentials", r.text
    for route in ("login", "token"):
        r = login(accounts, "ann@example.com", route=route)
        assert r.status_code == 429 and error_code(r) == "too_many_attempts", r.text
        retry = int(r.headers["retry-after"])
        assert 1 <= retry <= accounts.settings.login_window_s
    assert "inkdigit_session" not in accounts.http.cookies
    # the lock is the account's, whichever way its address is typed, and from any client
    r = login(accounts, " ANN@example.com ", headers={CLIENT_HEADER: "10.9.8.7"})
    assert r.status_code == 429, r.text
    assert login(accounts, "bea@example.com").status_code == 200


def test_client_is_limited_across_accounts(make_accounts: AccountsFactory) -> None:
    """Failures from one client address against several accounts add up to the client limit;
    another client is not affected by it."""
    accounts = make_accounts(login_max_failures_account=3, login_max_failures_client=4)
    confirmed(accounts, "cal@example.com", "dot@example.com")
    for email in ("cal@example.com", "cal@example.com", "x1@example.com"):
        assert login(accounts, email, "wrong password").status_code == 400
    # three failures from this client: another account is still allowed, and succeeding does not
    # clear the client's count
    assert login(accounts, "dot@example.com").status_code == 200
    assert login(accounts, "x2@example.com", "wrong password").status_code == 400  # the 4th
    for email in ("dot@example.com", "cal@example.com", "x3@example.com"):
        r = login(accounts, email)
        assert r.status_code == 429 and error_code(r) == "too_many_attempts", (email, r.text)
        assert int(r.headers["retry-after"]) >= 1
    other = {CLIENT_HEADER: "192.0.2.50"}
    assert login(accounts, "dot@example.com", headers=other).status_code == 200
    assert login(accounts, "cal@example.com", headers=other).status_code == 200  # 2 of 3 failures


def test_failures_age_out_of_the_window(make_accounts: AccountsFactory) -> None:
    """Once the counted failures are older than ``login_window_s``, sign-in works again."""
    accounts = make_accounts(login_max_failures_account=2, login_max_failures_client=3, login_window_s=2)
    confirmed(accounts, "eve@example.com")
    for _ in range(2):
        assert login(accounts, "eve@example.com", "wrong password").status_code == 400
    r = login(accounts, "eve@example.com")
    assert r.status_code == 429, r.text
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 2
    assert login(accounts, "x@example.com", "wrong password").status_code == 400  # the client's 3rd
    assert login(accounts, "x@example.com").status_code == 429
    time.sleep(2.2)
    assert login(accounts, "eve@example.com").status_code == 200
    assert login(accounts, "x@example.com", "wrong password").status_code == 400  # not 429: aged out


# --- CSRF ------------------------------------------------------------------------------------------


def test_cookie_writes_need_the_csrf_header(accounts: Accounts) -> None:
    """A cookie-authenticated read, correction or account deletion without (or with a wrong)
    X-CSRF-Token is 403 ``csrf_failed`` and changes nothing; with it, each works."""
    http = accounts.http
    confirmed(accounts, "fox@example.com")
    csrf = accounts.browser_login("fox@example.com")
    for headers in ({}, {"x-csrf-token": "forged"}, {"x-csrf-token": ""}):
        r = read(accounts, headers)
        assert r.status_code == 403 and error_code(r) == "csrf_failed", r.text
    assert http.get("/api/v1/history").json()["total"] == 0
    entry = read(accounts, csrf)
    assert entry.status_code == 200 and "id" in entry.json(), entry.text
    url = f"/api/v1/history/{entry.json()['id']}/correction"
    refused = http.put(url, json={"label": "3"})
    assert refused.status_code == 403 and error_code(refused) == "csrf_failed"
    assert http.get(f"/api/v1/history/{entry.json()['id']}").json()["label"] is None
    assert http.put(url, json={"label": "3"}, headers=csrf).json()["label"] == "3"
    refused = http.delete(ME)
    assert refused.status_code == 403 and error_code(refused) == "csrf_failed"
    assert http.get(ME).status_code == 200
    assert http.delete(ME, headers=csrf).status_code == 204


def test_bearer_writes_need_no_csrf_header(accounts: Accounts) -> None:
    """A program with a bearer token is not a browser: its writes need no CSRF token."""
    bearer = accounts.user("gil@example.com")
    accounts.http.cookies.clear()
    entry = read(accounts, bearer)
    assert entry.status_code == 200 and "id" in entry.json(), entry.text
    corrected = accounts.http.put(f"/api/v1/history/{entry.json()['id']}/correction", json={"label": "1"},
                                  headers=bearer)
    assert corrected.status_code == 200, corrected.text
    assert accounts.http.delete(ME, headers=bearer).status_code == 204


def test_requests_from_another_site_are_refused(accounts: Accounts) -> None:
    """A sign-in, or a cookie write even with the CSRF token, from another site's page is 403."""
    http = accounts.http
    confirmed(accounts, "hu@example.com")
    for route in ("login", "token"):
        r = login(accounts, "hu@example.com", route=route, headers=EVIL)
        assert r.status_code == 403 and error_code(r) == "csrf_failed", r.text
    assert "inkdigit_session" not in http.cookies
    csrf = accounts.browser_login("hu@example.com")
    r = read(accounts, {**csrf, **EVIL})
    assert r.status_code == 403 and error_code(r) == "csrf_failed"
    r = http.delete(ME, headers={**csrf, "origin": "null"})
    assert r.status_code == 403 and error_code(r) == "csrf_failed"
    assert read(accounts, {**csrf, "origin": "http://testserver"}).status_code == 200  # this server's page


# --- session and token expiry ----------------------------------------------------------------------


def test_session_and_token_expire(make_accounts: AccountsFactory) -> None:
    """A session cookie and a bearer token stop working after their lifetimes (checked by the
    server: the cookie is replayed by hand, as a client that ignores Max-Age would)."""
    accounts = make_accounts(session_lifetime_s=1, token_lifetime_s=1)
    http = accounts.http
    bearer = accounts.user("ida@example.com")
    accounts.browser_login("ida@example.com")
    cookie = {"cookie": f"inkdigit_session={http.cookies['inkdigit_session']}"}
    http.cookies.clear()
    assert http.get(ME, headers=bearer).status_code == 200
    assert http.get(ME, headers=cookie).status_code == 200
    time.sleep(1.5)
    for headers in (bearer, cookie):
        r = http.get(ME, headers=headers)
        assert r.status_code == 401 and error_code(r) == "not_authenticated", headers
        r = read(accounts, headers)  # a read with an ended credential is refused, not made anonymous
        assert r.status_code == 401 and error_code(r) == "not_authenticated", headers


def test_a_credential_keeps_its_own_lifetime_whichever_way_it_is_sent(make_accounts: AccountsFactory) -> None:
    """A bearer token sent as the session cookie (or a session sent as a bearer token) ends when
    its own lifetime does: changing how it is sent must not extend it."""
    accounts = make_accounts(session_lifetime_s=3600, token_lifetime_s=1)
    http = accounts.http
    bearer = accounts.user("jan@example.com")
    token = bearer["authorization"].removeprefix("Bearer ")
    time.sleep(1.5)
    r = http.get(ME, headers={"cookie": f"inkdigit_session={token}"})
    assert r.status_code == 401 and error_code(r) == "not_authenticated"

    accounts = make_accounts(session_lifetime_s=1, token_lifetime_s=3600)
    accounts.browser_login("jan@example.com")
    session = accounts.http.cookies["inkdigit_session"]
    accounts.http.cookies.clear()
    time.sleep(1.5)
    r = accounts.http.get(ME, headers={"authorization": f"Bearer {session}"})
    assert r.status_code == 401 and error_code(r) == "not_authenticated"


# --- security headers ------------------------------------------------------------------------------


def assert_security_headers(response: Any) -> None:
    h = response.headers
    assert h.get("x-content-type-options") == "nosniff", (response.request.url, dict(h))
    assert h.get("x-frame-options") == "DENY"
    csp = h.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
    assert h.get("referrer-policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")


def test_security_headers_on_pages_api_errors_and_reads(accounts: Accounts) -> None:
    """Every kind of response carries the security headers: the page, a 401, reads (anonymous,
    signed in, refused), a 404, a 405, a failed sign-in and a rate-limit refusal."""
    http = accounts.http
    page = http.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    responses = [page, http.get(ME), read(accounts, {}), http.get("/no/such/page"), http.get(PREDICT),
                 http.get("/static/no-such-file.js"), http.post(PREDICT, content=b"not an image",
                                                                headers={"content-type": "image/png"})]
    assert [r.status_code for r in responses[1:6]] == [401, 200, 404, 405, 404]
    assert responses[6].status_code == 415
    bearer = accounts.user("kai@example.com")
    responses += [read(accounts, bearer), http.get(ME, headers=bearer), login(accounts, "kai@example.com", "nope")]
    assert [r.status_code for r in responses[7:]] == [200, 200, 400]
    for r in responses:
        assert_security_headers(r)


# --- deleting an account ---------------------------------------------------------------------------


def owned_rows(db_url: str, user_id: uuid.UUID, reading_ids: list[int]) -> dict[str, int]:
    """How many rows of each table the user still owns, read straight from the database."""
    from inkdigit.service.db.models import AccessToken, OAuthAccount, Reading, ReadingImage, User

    engine = create_engine(db_url)
    try:
        with engine.connect() as c:
            def count(query: Any) -> int:
                return int(c.execute(query).scalar_one())

            return {
                "user": count(select(func.count()).select_from(User).where(User.__table__.c.id == user_id)),
                "reading": count(select(func.count()).select_from(Reading).where(Reading.user_id == user_id)),
                "reading_image": count(select(func.count()).select_from(ReadingImage)
                                       .where(ReadingImage.reading_id.in_(reading_ids))),
                "accesstoken": count(select(func.count()).select_from(AccessToken)
                                     .where(AccessToken.__table__.c.user_id == user_id)),
                "oauth_account": count(select(func.count()).select_from(OAuthAccount)
                                       .where(OAuthAccount.__table__.c.user_id == user_id)),
            }
    finally:
        engine.dispose()


def test_delete_me_removes_the_account_and_everything_it_owns(accounts: Accounts, db_url: str) -> None:
    """DELETE /users/me leaves no row of the user's in the database, signs out every credential,
    leaves other users' rows alone, and frees the address for a new sign-up."""
    http, email = accounts.http, "lee@example.com"
    bearer = accounts.user(email)
    other = accounts.user("mo@example.com")
    csrf = accounts.browser_login(email)
    user_id = uuid.UUID(http.get(ME).json()["id"])
    other_id = uuid.UUID(http.get(ME, headers=other).json()["id"])
    ids = [read(accounts, bearer).json()["id"] for _ in range(2)] + [read(accounts, csrf).json()["id"]]
    assert http.put(f"/api/v1/history/{ids[0]}/correction", json={"label": "4"}, headers=bearer).status_code == 200
    other_ids = [read(accounts, other).json()["id"]]
    assert owned_rows(db_url, user_id, ids) == {
        "user": 1, "reading": 3, "reading_image": 3, "accesstoken": 2, "oauth_account": 0}

    session = http.cookies["inkdigit_session"]
    assert http.delete(ME, headers=csrf).status_code == 204
    assert owned_rows(db_url, user_id, ids) == {
        "user": 0, "reading": 0, "reading_image": 0, "accesstoken": 0, "oauth_account": 0}
    assert owned_rows(db_url, other_id, other_ids) == {
        "user": 1, "reading": 1, "reading_image": 1, "accesstoken": 1, "oauth_account": 0}
    http.cookies.clear()
    for headers in (bearer, {"cookie": f"inkdigit_session={session}"}):
        r = http.get(ME, headers=headers)
        assert r.status_code == 401 and error_code(r) == "not_authenticated"
    assert login(accounts, email).json()["error"]["code"] == "bad_credentials"

    before = len(accounts.inbox.messages)
    accounts.register(email, "a brand new password")
    token = accounts.inbox.wait_for(email, "confirm", after=before)
    assert http.post(f"{AUTH}/verify", json={"token": token_in(token)}).status_code == 200
    again = accounts.bearer(email, "a brand new password")
    me = http.get(ME, headers=again).json()
    assert uuid.UUID(me["id"]) != user_id
    assert http.get("/api/v1/history", headers=again).json()["total"] == 0


# --- bad input -------------------------------------------------------------------------------------

LONG = "x" * 10_000
JSON_ROUTES = {
    "register": [{}, {"email": "a@example.com"}, {"password": PASSWORD},
                 {"email": "not-an-email", "password": PASSWORD},
                 {"email": 5, "password": PASSWORD}, {"email": "a@example.com", "password": 12345678},
                 {"email": "a@example.com", "password": LONG}, {"email": LONG + "@example.com", "password": PASSWORD},
                 {"email": "a@example.com", "password": PASSWORD, "is_superuser": True}, [], "text", None],
    "request-verify-token": [{}, {"email": "not-an-email"}, {"email": None}, {"email": ["a@example.com"]}, []],
    "verify": [{}, {"token": 5}, {"token": ""}, {"token": LONG}, {"token": None}, {"token": "abc"}, []],
    "forgot-password": [{}, {"email": "@"}, {"email": 1}, {"email": LONG}, "a@example.com"],
    "reset-password": [{}, {"token": "abc"}, {"password": PASSWORD}, {"token": "abc", "password": LONG},
                       {"token": "abc", "password": "short"}, {"token": 1, "password": PASSWORD},
                       {"token": "abc", "password": PASSWORD}],
}
FORM_ROUTES = ["login", "token"]
FORMS: list[dict[str, str]] = [{}, {"username": "a@example.com"}, {"password": PASSWORD},
                               {"username": "a@example.com", "password": LONG},
                               {"username": LONG, "password": PASSWORD}, {"username": "", "password": ""}]


def assert_error(response: Any, context: object) -> None:
    """A 4xx JSON answer of exactly ``{"error": {"code", "message"}}`` with a listed code."""
    assert 400 <= response.status_code < 500, (context, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), context
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, (context, body)
    code, message = body["error"]["code"], body["error"]["message"]
    assert code in ERROR_CODES and ERROR_CODES[code][0] == response.status_code, (context, body)
    assert isinstance(message, str) and message and len(message) < 2000, (context, body)


@pytest.mark.parametrize("route", sorted(JSON_ROUTES))
def test_bad_json_input_on_auth_routes_is_a_json_error(accounts: Accounts, route: str) -> None:
    """Missing fields, wrong types, invalid addresses, huge strings and bodies that are not JSON
    at all get a 4xx error body with a stable code (never a 500 or FastAPI's own shape)."""
    url = f"{AUTH}/{route}"
    for body in JSON_ROUTES[route]:
        assert_error(accounts.http.post(url, json=body), body)
    for raw, ctype in ((b"{not json", "application/json"), (b"", "application/json"),
                       (b"email=a@example.com", "application/x-www-form-urlencoded"),
                       (b"\xff\xfe\x00", "application/json"), (b"{}", "text/plain")):
        assert_error(accounts.http.post(url, content=raw, headers={"content-type": ctype}), (raw, ctype))
    assert_error(accounts.http.post(url), "no body")


@pytest.mark.parametrize("route", FORM_ROUTES)
def test_bad_form_input_on_sign_in_routes_is_a_json_error(accounts: Accounts, route: str) -> None:
    """The sign-in routes answer malformed forms, JSON bodies and huge fields with a JSON error."""
    url = f"{AUTH}/{route}"
    for form in FORMS:
        assert_error(accounts.http.post(url, data=form), {k: v[:20] for k, v in form.items()})
    assert_error(accounts.http.post(url, json={"username": "a@example.com", "password": PASSWORD}), "json")
    assert_error(accounts.http.post(url, content=b"\x00\xff", headers={"content-type": "application/octet-stream"}),
                 "binary")
    assert_error(accounts.http.post(url), "no body")


def test_auth_routes_without_credentials_or_wrong_method(accounts: Accounts) -> None:
    """Sign-out and the account routes need a credential; a wrong method is a JSON 405."""
    for method, url in (("POST", f"{AUTH}/logout"), ("GET", ME), ("DELETE", ME)):
        r = accounts.http.request(method, url)
        assert r.status_code == 401 and error_code(r) == "not_authenticated"
        assert_error(r, url)
    for method, url in (("GET", f"{AUTH}/login"), ("PUT", ME), ("GET", f"{AUTH}/register")):
        r = accounts.http.request(method, url)
        assert r.status_code == 405, (method, url)
        assert_error(r, url)
    r = accounts.http.get(ME, headers={"authorization": "Bearer " + "x" * 5000})
    assert r.status_code == 401
    assert_error(r, "long bearer")


def test_an_ended_session_gives_way_to_anonymous_reading(make_accounts: AccountsFactory) -> None:
    """The 401 for an ended session cookie drops the cookies, so the browser's next reading is an
    anonymous one rather than another 401 (the cookie is HttpOnly: the page cannot drop it)."""
    accounts = make_accounts(session_lifetime_s=1)
    accounts.register("ended@example.com")
    accounts.verify("ended@example.com")
    csrf = accounts.browser_login("ended@example.com")
    jar = "; ".join(f"{k}={v}" for k, v in accounts.http.cookies.items())
    accounts.http.cookies.clear()  # replayed by hand: the server's check is tested, not the client's Max-Age
    time.sleep(1.5)
    refused = accounts.http.post("/api/v1/predict", content=png_bytes(np.full((40, 40), 255)),
                                 headers={"content-type": "image/png", "cookie": jar, **csrf})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "not_authenticated"
    cleared = refused.headers.get_list("set-cookie")
    assert any(c.startswith("inkdigit_session=") and "Max-Age=0" in c for c in cleared), cleared
    assert any(c.startswith("inkdigit_csrf=") and "Max-Age=0" in c for c in cleared), cleared
    bogus = accounts.http.get("/api/v1/users/me", headers={"authorization": "Bearer b.not-a-token"})
    assert bogus.status_code == 401 and not bogus.headers.get_list("set-cookie")  # a token has no cookie
