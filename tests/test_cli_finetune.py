"""``inkdigit finetune``'s refusals: before any training (who may have a model, how much is enough),
and after it (a candidate the gate refuses is not installed)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert
from typer.testing import CliRunner

from inkdigit.cli import app
from inkdigit.service.db.migrate import upgrade
from inkdigit.service.db.models import PersonalModel, Reading, ReadingImage, User, now
from inkdigit.service.db.session import sync_url


def _env(tmp_path: Path) -> dict[str, str]:
    return {"INKDIGIT_HOME": str(tmp_path / "home"), "INKDIGIT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "COLUMNS": "200"}


def _with_corrections(env: dict[str, str], n: int, images: list[bytes] | None = None, opted_in: bool = False) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(env["INKDIGIT_DATABASE_URL"])
    upgrade(url)
    engine = create_engine(sync_url(url))
    with engine.begin() as c:
        uid = uuid.uuid4()
        c.execute(insert(User.__table__).values(id=uid, email="w@example.org", hashed_password="x", is_active=True,
                                                is_superuser=False, is_verified=True, created_at=now()))
        for i in range(n):
            rid = c.execute(insert(Reading.__table__).values(
                user_id=uid, created_at=now(), kind="digit", source="api", model="cnn-v5", answer="7",
                confidence=0.9, is_digit=True, elapsed_ms=1.0, result={}, label="1", labelled_at=now())
            ).inserted_primary_key[0]
            data = images[i] if images else b"x"
            c.execute(insert(ReadingImage.__table__).values(reading_id=rid, media_type="image/png", data=data))
        if opted_in:
            c.execute(insert(PersonalModel.__table__).values(user_id=uid, enabled=True, updated_at=now()))
    engine.dispose()


def test_too_few_corrections_are_refused_with_what_there_is(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _with_corrections(env, 3)
    result = CliRunner().invoke(app, ["finetune"], env=env)
    assert result.exit_code == 1
    assert "3 usable corrections found, fewer than --min-corrections 20" in result.output


def test_one_writer_alone_needs_a_personal_model(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _with_corrections(env, 30)
    result = CliRunner().invoke(app, ["finetune"], env=env)
    assert result.exit_code == 1 and "use --user EMAIL" in result.output


def test_a_personal_model_needs_an_account_that_asked_for_one(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _with_corrections(env, 30)
    result = CliRunner().invoke(app, ["finetune", "--user", "nobody@example.org"], env=env)
    assert result.exit_code == 1 and "no account has the address nobody@example.org" in result.output
    result = CliRunner().invoke(app, ["finetune", "--user", "W@example.org"], env=env)
    assert result.exit_code == 1 and "has not asked for a model of their own" in result.output


def test_a_parent_that_does_not_exist_is_named(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _with_corrections(env, 30)
    result = CliRunner().invoke(app, ["finetune", "--parent", "no-such-model"], env=env)
    assert result.exit_code == 1 and "No model named 'no-such-model'" in result.output


def test_a_bad_date_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["finetune", "--since", "yesterday"], env=_env(tmp_path))
    assert result.exit_code == 2 and "is not a date" in result.output


def test_a_candidate_the_gate_refuses_is_not_installed_and_the_reason_is_named(tmp_path: Path) -> None:
    """``--interpolate 0`` keeps the parent's weights: the held-out corrections cannot read better."""
    pytest.importorskip("torch")
    from inkdigit.training import writers

    env = _env(tmp_path)
    _with_corrections(env, 24, images=writers.long_flag_ones(24, seed=3), opted_in=True)
    result = CliRunner().invoke(app, [
        "finetune", "--user", "w@example.org", "--install", "--interpolate", "0", "--steps", "2",
        "--replay", "300", "--replay-rendered", "0", "--eval-limit", "300", "--robustness-limit", "20",
        "--rendering", "canvas/opaque-dark-ink", "--rejection-limit", "10", "--min-corrections", "20",
        "--out", str(tmp_path / "run"), "--name", "same"], env=env)
    assert result.exit_code == 1, result.output
    assert "refused: same is not installed: held-out corrections:" in " ".join(result.output.split())
    gate = json.loads((tmp_path / "run" / "same.json").read_text())["training"]["finetune"]["gate"]
    assert not gate["passed"] and [r["measure"] for r in gate["rows"] if not r["ok"]] == ["held-out corrections"]
    assert not (tmp_path / "home" / "models" / "same.json").exists()
