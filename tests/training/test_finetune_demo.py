"""The public demonstration of learning from corrections, end to end on a real server.

A user who writes 1s with a long, level flag and a foot (``inkdigit.training.writers``: MNIST
training 1s with those strokes added, drawn as a browser canvas draws them) reads them through the
HTTP API, where the shipped model answers 7 for nearly all of them; they ask for a model of their
own and correct 50 of the answers. ``inkdigit finetune --user … --install`` then tunes the live
model on those corrections and judges it on their held-out ones, MNIST, USPS, the robustness suite
and non-digits. Afterwards the same server reads that user's *new* 1s (never corrected, never
trained on) with their model, markedly better, while everyone else still gets the shipped model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from inkdigit.engine.defaults import DEFAULT_MODEL
from inkdigit.training import writers
from tests.service.accounts.conftest import PASSWORD, Inbox, account_env, smtp, token_in  # noqa: F401
from tests.service.conftest import running_server

pytest.importorskip("torch")

EMAIL = "flag@example.org"
BIN = Path(sys.executable).parent / "inkdigit"
#: small data in the test suite: MNIST and USPS test in full, two of the suite's renderings (a canvas
#: and a photo) of 1,000 test digits each, 100 non-digits per kind. A rendering is the same test
#: digits drawn again, so its figure moves in steps of one digit: over 300 digits a single borderline
#: digit answered otherwise is 0.33 points, over the tolerance. The full-size run
#: (INKDIGIT_DEMO_FULL=1: the command's defaults) measures every rendering as the issue's gate asks.
SMALL = ["--replay", "5000", "--replay-rendered", "10000", "--robustness-limit", "1000",
         "--rendering", "canvas/thin-pen", "--rendering", "photo/paper", "--rejection-limit", "100"]
FULL: list[str] = []  # the command's defaults
MEASURES = FULL if os.environ.get("INKDIGIT_DEMO_FULL") else SMALL


def _sign_up(http: httpx.Client, inbox: Inbox) -> dict[str, str]:
    assert http.post("/api/v1/auth/register", json={"email": EMAIL, "password": PASSWORD}).status_code == 201
    token = token_in(inbox.wait_for(EMAIL, "confirm"))
    assert http.post("/api/v1/auth/verify", json={"token": token}).status_code == 200
    r = http.post("/api/v1/auth/token", data={"username": EMAIL, "password": PASSWORD})
    return {"authorization": f"Bearer {r.json()['access_token']}"}


def _read(http: httpx.Client, images: list[bytes], headers: dict[str, str] | None = None) -> list[dict]:
    out = []
    for png in images:
        r = http.post("/api/v1/predict", content=png, headers={"content-type": "image/png", **(headers or {})})
        assert r.status_code == 200, r.text
        out.append(r.json())
    return out


def _ones(answers: list[dict]) -> float:
    return sum(a["digit"] == 1 for a in answers) / len(answers)


def test_a_user_who_corrects_their_1s_gets_a_model_that_reads_them(
        smtp: tuple[Inbox, int], tmp_path: Path) -> None:  # noqa: F811
    inbox, port = smtp
    env = account_env(f"sqlite:///{tmp_path / 'inkdigit.db'}", port, tmp_path / "home",
                      INKDIGIT_LIVE_MODEL_TTL_S="0")
    written = writers.long_flag_ones(80, seed=0)  # what the user draws and corrects
    later = writers.long_flag_ones(120, seed=1, skip=2000)  # what they write afterwards
    with running_server(env) as url, httpx.Client(base_url=url, timeout=30) as http:
        me = _sign_up(http, inbox)
        assert http.put("/api/v1/users/me/model", json={"enabled": True}, headers=me).json()["enabled"] is True
        answers = _read(http, written, me)
        wrong = [a for a in answers if a["digit"] != 1]
        assert len(wrong) >= 50, f"the shipped model should misread these 1s; it read {_ones(answers):.0%}"
        for a in wrong[:50]:  # the user corrects 50 of the answers
            r = http.put(f"/api/v1/history/{a['id']}/correction", json={"label": "1"}, headers=me)
            assert r.status_code == 200, r.text
        before = _ones(_read(http, later, me))

        run = subprocess.run(
            [str(BIN), "finetune", "--user", EMAIL, "--install", "--out", str(tmp_path / "run"),
             "--name", "flag-ones", *MEASURES],
            env={**os.environ, **env}, capture_output=True, text=True, timeout=900)
        print(run.stdout)  # the before/after table: shown with -s, and below on failure
        assert run.returncode == 0, run.stdout + run.stderr
        assert "installed" in run.stdout

        mine = _read(http, later, me)
        assert {a["model"] for a in mine} == {"flag-ones"}
        after = _ones(mine)
        print(f"this user's new 1s read right: {before:.1%} by {DEFAULT_MODEL}, {after:.1%} by their model")
        assert before < 0.3 and after > 0.9, (before, after)
        # everyone else still gets the shipped model, and cannot use this one
        assert {a["model"] for a in _read(http, later[:5])} == {DEFAULT_MODEL}
        assert http.post("/api/v1/predict?model=flag-ones", content=later[0],
                         headers={"content-type": "image/png"}).status_code == 404
