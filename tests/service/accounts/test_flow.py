"""The issue's flow through HTTP: register → e-mail → verify → sign in → read → history → correction."""

from __future__ import annotations

import numpy as np

from tests.conftest import png_bytes, render
from tests.service.accounts.conftest import Accounts, token_in


def test_register_confirm_sign_in_read_and_correct(accounts: Accounts, mnist_test) -> None:
    http, email = accounts.http, "ada@example.com"
    accounts.register(email)
    message = accounts.inbox.wait_for(email, "confirm")
    assert "http://inkdigit.test/verify?token=" in message.get_payload(decode=True).decode()
    assert http.post("/api/v1/auth/login", data={"username": email, "password": "correct horse battery"}
                     ).json()["error"]["code"] == "not_verified"
    assert http.post("/api/v1/auth/verify", json={"token": token_in(message)}).json()["is_verified"]

    csrf = accounts.browser_login(email)
    assert http.get("/api/v1/users/me").json()["email"] == email
    image = png_bytes(render(mnist_test.images[0]))
    read = http.post("/api/v1/predict?source=canvas", content=image, headers={"content-type": "image/png", **csrf})
    assert read.status_code == 200, read.text
    entry_id = read.json()["id"]
    page = http.get("/api/v1/history").json()
    assert page["total"] == 1 and page["items"][0]["id"] == entry_id
    assert page["items"][0]["answer"] == str(read.json()["digit"]) and page["items"][0]["source"] == "canvas"
    assert http.get(f"/api/v1/history/{entry_id}/image").content == image
    wrong = str((int(read.json()["digit"]) + 1) % 10)
    corrected = http.put(f"/api/v1/history/{entry_id}/correction", json={"label": wrong}, headers=csrf)
    assert corrected.status_code == 200 and corrected.json()["corrected"] is True
    assert http.get("/api/v1/history?corrected=true").json()["total"] == 1
    assert http.get("/api/v1/history?corrected=false").json()["total"] == 0


def test_anonymous_reading_is_unchanged(accounts: Accounts) -> None:
    r = accounts.http.post("/api/v1/predict", content=png_bytes(np.full((50, 50), 255)),
                           headers={"content-type": "image/png"})
    assert r.status_code == 200 and "id" not in r.json()
