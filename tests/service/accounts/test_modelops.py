"""Which model is served: operators promote and roll back (/api/v1/models/live), readings follow;
a user opted in to their own fine-tuned model gets it, and nobody else sees it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text

from inkdigit.engine.defaults import DEFAULT_MODEL
from inkdigit.engine.modelcard import owner_tag
from inkdigit.service import modelops
from inkdigit.service.db.session import sync_url
from tests.service.accounts.conftest import Accounts, AccountsFactory
from tests.service.modelcards import a_digit, install_card


@pytest.fixture
def models(tmp_path: Path) -> Path:
    """The app's install directory (``make_accounts`` puts its home at ``tmp_path / "home"``)."""
    return tmp_path / "home" / "models"


@contextmanager
def _db(accounts: Accounts) -> Iterator[Connection]:
    engine = create_engine(sync_url(accounts.settings.database))
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def _operator(accounts: Accounts, email: str) -> dict[str, str]:
    headers = accounts.user(email)
    with _db(accounts) as c:
        c.execute(text('UPDATE "user" SET is_superuser = :yes WHERE email = :email'), {"yes": True, "email": email})
    return headers


def _model_of(accounts: Accounts, headers: dict[str, str] | None = None, route: str = "predict",
              **params: str) -> Any:
    r = accounts.http.post(f"/api/v1/{route}", content=a_digit(), params=params,
                           headers={"content-type": "image/png", **(headers or {})})
    return r.json()["model"] if r.status_code == 200 else (r.status_code, r.json()["error"]["code"])


def test_operators_promote_and_roll_back_and_readings_follow(make_accounts: AccountsFactory, models: Path) -> None:
    install_card(models, "cnn-ft")
    install_card(models, "cnn-ft-bad", passed=False)
    install_card(models, "cnn-someones", owner=owner_tag(uuid.uuid4()))
    accounts = make_accounts(live_model_ttl_s=0)
    http = accounts.http
    assert http.get("/api/v1/models/live").status_code == 401
    bob = accounts.user("bob@example.com")
    r = http.post("/api/v1/models/live", json={"model": "cnn-ft"}, headers=bob)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert http.post("/api/v1/models/live/rollback", headers=bob).status_code == 403
    ada = _operator(accounts, "ada@example.com")

    status = http.get("/api/v1/models/live", headers=ada).json()
    assert status["live"] == status["default"] == DEFAULT_MODEL and status["events"] == []
    assert status["corrections"] == {"total": 0, "confirmed": 0, "users": 0}
    candidates = {c["name"]: c for c in status["candidates"]}
    assert set(candidates) == {"cnn-ft", "cnn-ft-bad"}  # not a personal model, not a shipped one
    assert candidates["cnn-ft"]["gate"]["passed"] is True and candidates["cnn-ft"]["parent"] == "cnn-v1"
    assert candidates["cnn-ft-bad"]["gate"]["reasons"] and candidates["cnn-ft"]["live"] is False

    r = http.post("/api/v1/models/live/rollback", headers=ada)
    assert r.status_code == 409 and r.json()["error"]["code"] == "nothing_to_roll_back"
    for name, status_code, code in (("nope", 404, "unknown_model"), ("cnn-ft-bad", 409, "model_not_promotable"),
                                    ("cnn-someones", 409, "model_not_promotable"),
                                    (DEFAULT_MODEL, 409, "model_not_promotable")):  # live already
        r = http.post("/api/v1/models/live", json={"model": name}, headers=ada)
        assert (r.status_code, r.json()["error"]["code"]) == (status_code, code), name
    assert "did not pass its gate: mnist_test accuracy fell" in http.post(
        "/api/v1/models/live", json={"model": "cnn-ft-bad"}, headers=ada).json()["error"]["message"]

    r = http.post("/api/v1/models/live", json={"model": "cnn-ft"}, headers=ada)
    assert r.status_code == 200, r.text
    assert r.json()["live"] == "cnn-ft" and r.json()["events"][0]["actor"] == "ada@example.com"
    assert [c["name"] for c in r.json()["candidates"] if c["live"]] == ["cnn-ft"]
    assert _model_of(accounts) == "cnn-ft"  # anonymous
    assert _model_of(accounts, bob) == "cnn-ft" and _model_of(accounts, route="recognize") == "cnn-ft"
    assert _model_of(accounts, model=DEFAULT_MODEL) == DEFAULT_MODEL  # a named model still wins
    listed = http.get("/api/v1/models").json()
    assert listed["default"] == "cnn-ft" and [m["name"] for m in listed["models"] if m["default"]] == ["cnn-ft"]

    install_card(models, "cnn-later")  # installed while serving: picked up at its promotion
    assert http.post("/api/v1/models/live", json={"model": "cnn-later"}, headers=ada).json()["live"] == "cnn-later"
    assert _model_of(accounts) == "cnn-later"
    assert http.post("/api/v1/models/live", json={"model": "cnn-v4"}, headers=ada).json()["live"] == "cnn-v4"

    back = http.post("/api/v1/models/live/rollback", headers=ada).json()
    assert back["live"] == "cnn-later" and [e["action"] for e in back["events"]] == [
        "rollback", "promote", "promote", "promote"]
    assert back["events"][0]["model"] == "cnn-later"  # the model live after the event
    assert http.post("/api/v1/models/live/rollback", headers=ada).json()["live"] == "cnn-ft"
    assert _model_of(accounts) == "cnn-ft"
    assert http.post("/api/v1/models/live/rollback", headers=ada).json()["live"] == DEFAULT_MODEL
    assert _model_of(accounts) == DEFAULT_MODEL
    assert http.post("/api/v1/models/live/rollback", headers=ada).status_code == 409


def test_the_corrections_are_counted(accounts: Accounts) -> None:
    ada, bob = _operator(accounts, "ada@example.com"), accounts.user("bob@example.com")
    for who, wrong in ((ada, True), (bob, False), (bob, True)):
        body = accounts.http.post("/api/v1/predict", content=a_digit(),
                                  headers={"content-type": "image/png", **who}).json()
        label = str((body["digit"] + 1) % 10) if wrong else str(body["digit"])
        r = accounts.http.put(f"/api/v1/history/{body['id']}/correction", json={"label": label}, headers=who)
        assert r.status_code == 200, r.text
    counts = accounts.http.get("/api/v1/models/live", headers=ada).json()["corrections"]
    assert counts == {"total": 2, "confirmed": 1, "users": 2}


def test_a_cookie_promotion_needs_the_csrf_header(make_accounts: AccountsFactory, models: Path) -> None:
    install_card(models, "cnn-ft")
    accounts = make_accounts(live_model_ttl_s=0)
    _operator(accounts, "ada@example.com")
    csrf = accounts.browser_login("ada@example.com")
    r = accounts.http.post("/api/v1/models/live", json={"model": "cnn-ft"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = accounts.http.put("/api/v1/users/me/model", json={"enabled": True})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert accounts.http.get("/api/v1/models/live").json()["live"] == DEFAULT_MODEL  # a read needs none
    assert accounts.http.post("/api/v1/models/live", json={"model": "cnn-ft"}, headers=csrf).json()["live"] == "cnn-ft"


def test_a_personal_model_serves_its_user_only(make_accounts: AccountsFactory, models: Path) -> None:
    accounts = make_accounts(live_model_ttl_s=0)
    http = accounts.http
    ada, bob = accounts.user("ada@example.com"), accounts.user("bob@example.com")
    ada_id = uuid.UUID(http.get("/api/v1/users/me", headers=ada).json()["id"])
    assert http.get("/api/v1/users/me/model", headers=ada).json() == {"enabled": False, "model": None, "gate": None}
    assert http.get("/api/v1/users/me/model").status_code == 401

    install_card(models, "cnn-ada", owner=owner_tag(ada_id))  # what `inkdigit finetune --user … --install` does
    with _db(accounts) as c:
        modelops.set_personal_model(c, ada_id, "cnn-ada")
    mine = http.get("/api/v1/users/me/model", headers=ada).json()
    assert mine["enabled"] is False and mine["model"] == "cnn-ada" and mine["gate"]["passed"] is True
    assert _model_of(accounts, ada) == DEFAULT_MODEL  # not opted in yet

    r = http.put("/api/v1/users/me/model", json={"enabled": True}, headers=ada)
    assert r.status_code == 200 and r.json()["enabled"] is True and r.json()["model"] == "cnn-ada"
    assert _model_of(accounts, ada) == "cnn-ada"
    assert _model_of(accounts, ada, route="recognize") == "cnn-ada"
    assert _model_of(accounts, ada, route="predict", model="cnn-ada") == "cnn-ada"
    batch = http.post("/api/v1/predict/batch", files=[("files", ("a.png", a_digit(), "image/png"))], headers=ada)
    assert batch.json()["model"] == "cnn-ada"
    assert _model_of(accounts, bob) == DEFAULT_MODEL and _model_of(accounts) == DEFAULT_MODEL
    assert _model_of(accounts, bob, model="cnn-ada") == (404, "unknown_model")
    assert _model_of(accounts, model="cnn-ada") == (404, "unknown_model")
    r = http.post("/api/v1/recognize?model=cnn-ada", content=a_digit(), headers={"content-type": "image/png", **bob})
    assert r.status_code == 404 and "cnn-ada" not in r.json()["error"]["message"].split("available:")[1]

    def listed(headers: dict[str, str] | None) -> dict[str, Any]:
        return {m["name"]: m for m in http.get("/api/v1/models", headers=headers or {}).json()["models"]}

    assert "cnn-ada" not in listed(bob) and "cnn-ada" not in listed(None)
    assert listed(ada)["cnn-ada"]["personal"] is True and listed(ada)["cnn-ada"]["default"] is False
    # its ONNX file too: for its user only, and kept out of shared caches
    own = http.get("/api/v1/models/cnn-ada/onnx", headers=ada)
    assert own.status_code == 200 and own.headers["cache-control"].startswith("private")
    for other in (bob, {}):
        r = http.get("/api/v1/models/cnn-ada/onnx", headers=other)
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_model"

    operator = _operator(accounts, "op@example.com")
    r = http.post("/api/v1/models/live", json={"model": "cnn-ada"}, headers=operator)
    assert r.status_code == 409 and "personal model" in r.json()["error"]["message"]
    assert "cnn-ada" not in {c["name"] for c in http.get("/api/v1/models/live", headers=operator).json()["candidates"]}

    assert http.put("/api/v1/users/me/model", json={"enabled": False}, headers=ada).json()["model"] == "cnn-ada"
    assert _model_of(accounts, ada) == DEFAULT_MODEL  # opted out: the model is kept, unused
    assert http.delete("/api/v1/users/me", headers=ada).status_code == 204
    with _db(accounts) as c:
        assert c.execute(text("SELECT count(*) FROM personal_model")).scalar_one() == 0  # cascaded


def test_a_live_model_that_does_not_load_falls_back_to_the_default(make_accounts: AccountsFactory,
                                                                   capfd: pytest.CaptureFixture[str]) -> None:
    accounts = make_accounts(live_model_ttl_s=0)
    with _db(accounts) as c:  # recorded, then its files removed (or a replica without them)
        c.execute(modelops._events.insert().values(at=modelops.now(), action="promote", model="gone", actor="t"))
    capfd.readouterr()
    assert _model_of(accounts) == DEFAULT_MODEL
    assert _model_of(accounts) == DEFAULT_MODEL
    logged = capfd.readouterr().err
    assert logged.count("ERROR") == 1 and "the live model 'gone' is not loaded" in logged  # once, not per reading
    assert accounts.http.get("/api/v1/models").json()["default"] == DEFAULT_MODEL


def test_the_live_model_is_cached_for_its_ttl(make_accounts: AccountsFactory, models: Path) -> None:
    install_card(models, "cnn-ft")
    accounts = make_accounts(live_model_ttl_s=3600)
    assert _model_of(accounts) == DEFAULT_MODEL
    with _db(accounts) as c:  # as another worker (or the CLI) would: this worker's cache does not know
        c.execute(modelops._events.insert().values(at=modelops.now(), action="promote", model="cnn-ft", actor="t"))
    assert _model_of(accounts) == DEFAULT_MODEL  # no query per reading: still the cached answer
