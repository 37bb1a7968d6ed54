"""``inkdigit models status|promote|rollback``, and a running server following a promotion."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from inkdigit.cli import app
from inkdigit.engine.defaults import DEFAULT_MODEL
from tests.service.modelcards import a_digit, install_card


def test_status_promote_and_rollback_from_the_command_line(tmp_path: Path) -> None:
    from inkdigit.service.app import create_app
    from inkdigit.service.config import Settings

    home = tmp_path / "home"
    install_card(home / "models", "cnn-ft")
    install_card(home / "models", "cnn-ft-bad", passed=False)
    env = {"INKDIGIT_HOME": str(home), "INKDIGIT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
           "COLUMNS": "200"}
    runner = CliRunner()

    def cli(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["models", *args], env=env)
        return result.exit_code, result.output

    code, out = cli("status")
    assert code == 0 and f"live model: {DEFAULT_MODEL}" in out and "no promotion yet" in out
    assert "cnn-ft-bad" in out and "failed: mnist_test accuracy fell" in out and "passed" in out
    code, out = cli("rollback")
    assert code == 1 and "nothing to roll back" in out
    code, out = cli("promote", "cnn-ft-bad")
    assert code == 1 and "did not pass its gate" in out
    code, out = cli("promote", "nope")
    assert code == 1 and "no installed model named 'nope'" in out

    settings = Settings(home=home, database_url=env["INKDIGIT_DATABASE_URL"], live_model_ttl_s=0)
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)

        def served() -> str:
            r = client.post("/api/v1/predict", content=a_digit(), headers={"content-type": "image/png"})
            return str(r.json()["model"])

        assert served() == DEFAULT_MODEL
        code, out = cli("promote", "cnn-ft")
        assert code == 0 and "cnn-ft is now live" in out
        assert served() == "cnn-ft"  # the running server follows, no restart
        code, out = cli("status")
        assert code == 0 and "live model: cnn-ft" in out and "cli:" in out and "promote" in out
        code, out = cli("rollback")
        assert code == 0 and f"{DEFAULT_MODEL} is live again" in out
        assert served() == DEFAULT_MODEL
