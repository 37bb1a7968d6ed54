"""GET /api/v1/stats, and the operator view made by ``inkdigit users promote``."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import png_bytes, render
from tests.service.accounts.conftest import Accounts

BIN = Path(sys.executable).with_name("inkdigit")


def _read(accounts: Accounts, headers: dict[str, str], image: bytes, source: str, route: str = "predict") -> dict:
    r = accounts.http.post(f"/api/v1/{route}?source={source}", content=image,
                           headers={"content-type": "image/png", **headers})
    assert r.status_code == 200, r.text
    return r.json()


def test_stats_count_readings_corrections_and_confusion(accounts: Accounts, mnist_test) -> None:
    ada = accounts.user("ada@example.com")
    answers = []
    for i in range(4):
        body = _read(accounts, ada, png_bytes(render(mnist_test.images[i])), "canvas" if i < 3 else "upload")
        answers.append((body["id"], body["digit"]))
    _read(accounts, ada, png_bytes(render(mnist_test.images[5])), "api", route="recognize")
    (first, d0), (second, d1) = answers[0], answers[1]
    wrong = (d0 + 1) % 10
    assert accounts.http.put(f"/api/v1/history/{first}/correction", json={"label": str(wrong)},
                             headers=ada).status_code == 200
    assert accounts.http.put(f"/api/v1/history/{second}/correction", json={"label": str(d1)},
                             headers=ada).status_code == 200  # a confirmation

    stats = accounts.http.get("/api/v1/stats?days=7", headers=ada).json()
    assert stats["scope"] == "me" and stats["readings"] == 5
    assert stats["labelled"] == 2 and stats["corrected"] == 1
    assert stats["accuracy"] == 0.8 and stats["reviewed_accuracy"] == 0.5
    assert stats["sources"] == {"canvas": 3, "upload": 1, "api": 1}
    assert stats["kinds"] == {"digit": 4, "number": 1}
    assert stats["confusion"][d0][wrong] == 1 and stats["confusion"][d1][d1] == 1
    assert sum(map(sum, stats["confusion"])) == 2
    assert len(stats["per_day"]) == 7 and stats["per_day"][-1]["date"] == datetime.now(UTC).date().isoformat()
    assert stats["per_day"][-1]["readings"] == 5 and stats["per_day"][-1]["corrected"] == 1
    assert sum(stats["digits"]) >= 4 and stats["latency_ms"]["median"] > 0


def test_an_empty_history_has_no_ratios(accounts: Accounts) -> None:
    stats = accounts.http.get("/api/v1/stats", headers=accounts.user("new@example.com")).json()
    assert stats["readings"] == 0 and stats["accuracy"] is None and stats["latency_ms"]["median"] is None
    assert len(stats["per_day"]) == 30


def test_only_operators_see_everyone(accounts: Accounts, db_url: str, tmp_path: Path, mnist_test) -> None:
    ada, bob = accounts.user("ada@example.com"), accounts.user("bob@example.com")
    _read(accounts, bob, png_bytes(render(mnist_test.images[0])), "canvas")
    r = accounts.http.get("/api/v1/stats?scope=all", headers=ada)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert accounts.http.get("/api/v1/stats", headers=ada).json()["readings"] == 0  # not bob's

    env = {"INKDIGIT_DATABASE_URL": db_url, "INKDIGIT_HOME": str(tmp_path / "cli-home"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([str(BIN), "users", "promote", "ADA@example.com"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    everyone = accounts.http.get("/api/v1/stats?scope=all", headers=ada).json()
    assert everyone["scope"] == "all" and everyone["users"] == 2 and everyone["readings"] == 1
    assert accounts.http.get("/api/v1/users/me", headers=ada).json()["is_admin"] is True

    listed = subprocess.run([str(BIN), "users", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert "ada@example.com" in listed.stdout and "bob@example.com" in listed.stdout
    unknown = subprocess.run([str(BIN), "users", "promote", "nobody@example.com"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert unknown.returncode == 1 and "no account" in unknown.stdout


def test_db_upgrade_creates_and_then_finds_the_schema(db_url: str, tmp_path: Path) -> None:
    env = {"INKDIGIT_DATABASE_URL": db_url, "INKDIGIT_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([str(BIN), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0 and "upgraded from an empty database" in first.stdout, first.stdout + first.stderr
    again = subprocess.run([str(BIN), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "already at revision" in again.stdout
    assert "inkdigit:inkdigit@" not in first.stdout  # a password in the URL is never printed
