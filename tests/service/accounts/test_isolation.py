"""One user's history is theirs alone: another user's ids answer exactly as ids that do not exist,
lists and exports hold only one's own entries, and nobody without credentials gets anything.

Every test runs on SQLite and on PostgreSQL (the ``accounts`` fixture), signed in with bearer tokens.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.service.accounts.conftest import Accounts
from tests.service.accounts.test_history import digit_png, number_png, predict, recognize

# every route on one entry: (method, path template, JSON body)
ENTRY_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/history/{id}", None),
    ("GET", "/api/v1/history/{id}/image", None),
    ("DELETE", "/api/v1/history/{id}", None),
    ("PUT", "/api/v1/history/{id}/correction", {"label": "3"}),
    ("DELETE", "/api/v1/history/{id}/correction", None),
]
LIST_ROUTES = ["/api/v1/history", "/api/v1/history/export"]


@dataclass
class TwoUsers:
    """Alice and Bob, each with a few readings (one of Bob's corrected)."""

    accounts: Accounts
    alice: dict[str, str]
    bob: dict[str, str]
    alice_ids: list[int]
    bob_ids: list[int]

    def request(self, method: str, path: str, auth: dict[str, str], body: dict[str, Any] | None = None) -> Any:
        return self.accounts.http.request(method, path, headers=auth, json=body)

    def snapshot(self, auth: dict[str, str], entry_ids: list[int]) -> dict[str, Any]:
        """Everything a user can see of their history: list, every entry and image, the export's rows."""
        http = self.accounts.http
        export = http.get("/api/v1/history/export", headers=auth)
        with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
            rows = list(csv.DictReader(io.StringIO(archive.read("history.csv").decode())))
            images = {n: archive.read(n) for n in archive.namelist() if n != "history.csv"}
        return {
            "list": http.get("/api/v1/history", headers=auth).json(),
            "entries": {i: http.get(f"/api/v1/history/{i}", headers=auth).json() for i in entry_ids},
            "images": {i: http.get(f"/api/v1/history/{i}/image", headers=auth).content for i in entry_ids},
            "export": (rows, images),
        }


@pytest.fixture
def two(accounts: Accounts, mnist_test: Any) -> TwoUsers:
    alice, bob = accounts.user("alice@example.com"), accounts.user("bob@example.com")
    alice_ids = [predict(accounts, alice, digit_png(mnist_test, 10))["id"]]
    bob_ids = [predict(accounts, bob, digit_png(mnist_test, i), source="canvas")["id"] for i in range(3)]
    bob_ids.append(recognize(accounts, bob, number_png(mnist_test, "27"), source="upload")["id"])
    r = accounts.http.put(f"/api/v1/history/{bob_ids[0]}/correction", json={"label": "5"}, headers=bob)
    assert r.status_code == 200, r.text
    return TwoUsers(accounts, alice, bob, alice_ids, bob_ids)


def normalised(r: Any, entry_id: int) -> tuple[int, str, Any]:
    """A response with the id it was asked about taken out of its body."""
    return r.status_code, r.headers.get("content-type", ""), r.text.replace(str(entry_id), "<id>")


def test_another_users_entry_is_answered_as_a_missing_one(two: TwoUsers) -> None:
    """Every entry route, with Alice's credentials on Bob's ids: 404 ``not_found``, the same answer
    as for an id nobody has; Bob's history is unchanged afterwards."""
    before = two.snapshot(two.bob, two.bob_ids)
    missing = max(two.alice_ids + two.bob_ids) + 1000
    for method, template, body in ENTRY_ROUTES:
        absent = two.request(method, template.format(id=missing), two.alice, body)
        assert absent.status_code == 404 and absent.json()["error"]["code"] == "not_found", (method, template)
        for bob_id in two.bob_ids:
            r = two.request(method, template.format(id=bob_id), two.alice, body)
            assert r.status_code == 404, (method, template, r.text)
            assert r.json()["error"]["code"] == "not_found"
            assert normalised(r, bob_id) == normalised(absent, missing), (method, template)
    assert two.snapshot(two.bob, two.bob_ids) == before
    # and Bob still owns and can change all of it
    assert two.request("DELETE", f"/api/v1/history/{two.bob_ids[0]}/correction", two.bob).status_code == 200
    assert two.request("DELETE", f"/api/v1/history/{two.bob_ids[1]}", two.bob).status_code == 204


def test_lists_and_exports_hold_only_ones_own_entries(two: TwoUsers) -> None:
    """Alice's list, under every filter, and her export never include Bob's entries, nor count them."""
    http = two.accounts.http
    queries: list[dict[str, Any]] = [{}, {"limit": 200}, {"offset": 0, "limit": 1}, {"source": "canvas"},
                                     {"source": "upload"}, {"kind": "number"}, {"corrected": "true"},
                                     {"corrected": "false"}, *({"digit": d} for d in range(10))]
    for query in queries:
        page = http.get("/api/v1/history", params=query, headers=two.alice).json()
        got = [i["id"] for i in page["items"]]
        assert set(got) <= set(two.alice_ids) and page["total"] <= len(two.alice_ids), query
    assert [i["id"] for i in http.get("/api/v1/history", headers=two.alice).json()["items"]] == two.alice_ids
    export = http.get("/api/v1/history/export", headers=two.alice)
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("history.csv").decode())))
        assert [int(row["id"]) for row in rows] == two.alice_ids
        assert len(archive.namelist()) == 1 + len(two.alice_ids)
    bob = http.get("/api/v1/history", headers=two.bob).json()
    assert sorted(i["id"] for i in bob["items"]) == sorted(two.bob_ids) and bob["total"] == len(two.bob_ids)


def test_reading_as_one_user_never_lands_in_anothers_history(two: TwoUsers, mnist_test: Any) -> None:
    """A reading is kept under the user whose token sent it, and only there."""
    new = predict(two.accounts, two.alice, digit_png(mnist_test, 20))["id"]
    alice = two.accounts.http.get("/api/v1/history", headers=two.alice).json()
    bob = two.accounts.http.get("/api/v1/history", headers=two.bob).json()
    assert new in [i["id"] for i in alice["items"]] and new not in [i["id"] for i in bob["items"]]


CREDENTIALS: dict[str, Callable[[TwoUsers], dict[str, str]]] = {
    "none": lambda two: {},
    "bogus bearer": lambda two: {"authorization": "Bearer not-a-real-token"},
    "empty bearer": lambda two: {"authorization": "Bearer "},
    "basic": lambda two: {"authorization": "Basic Ym9iQGV4YW1wbGUuY29tOnBhc3M="},
    "bogus cookie": lambda two: {"cookie": "inkdigit_session=not-a-real-session"},
}
INVALID = {"bogus bearer", "bogus cookie"}  # a credential sent, but not a valid one


@pytest.mark.parametrize("who", list(CREDENTIALS))
def test_without_valid_credentials_every_route_is_401(two: TwoUsers, who: str) -> None:
    """Anonymous (or a made-up credential) on every history route: 401 ``not_authenticated``, and
    nothing of Bob's is read or changed."""
    before = two.snapshot(two.bob, two.bob_ids)
    auth = CREDENTIALS[who](two)
    attempts = [("GET", path, None) for path in LIST_ROUTES]
    attempts += [(m, t.format(id=i), b) for m, t, b in ENTRY_ROUTES for i in (two.bob_ids[0], 999_999)]
    for method, path, body in attempts:
        two.accounts.http.cookies.clear()
        r = two.request(method, path, auth, body)
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["error"]["code"] == "not_authenticated", (method, path)
        assert "bob" not in r.text.lower()
        assert r.headers.get("www-authenticate", "").lower().startswith("bearer"), (method, path)
    assert two.snapshot(two.bob, two.bob_ids) == before


@pytest.mark.parametrize("who", sorted(INVALID))
def test_a_refused_credential_is_told_how_to_authenticate(two: TwoUsers, who: str) -> None:
    """A 401 for a credential that is not (or no longer) valid says how to authenticate."""
    r = two.request("GET", "/api/v1/history", CREDENTIALS[who](two))
    assert r.status_code == 401
    assert r.headers.get("www-authenticate", "").lower().startswith("bearer")


def test_a_signed_out_token_reads_nothing(two: TwoUsers) -> None:
    """After logout with a bearer token, that token opens no history route."""
    http = two.accounts.http
    r = http.post("/api/v1/auth/logout", headers=two.alice)
    assert r.status_code in (200, 204), r.text
    assert http.get("/api/v1/history", headers=two.alice).status_code == 401
    assert http.get(f"/api/v1/history/{two.alice_ids[0]}", headers=two.alice).status_code == 401
    assert http.get("/api/v1/history", headers=two.bob).json()["total"] == len(two.bob_ids)
