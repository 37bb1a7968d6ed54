"""The live model as replayed from the event log, and which models may be promoted (no database:
the routes and the CLI on a real one are in accounts/test_modelops.py and test_cli_models.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkdigit.engine.store import RecognizerStore
from inkdigit.service.modelops import PROMOTE, ROLLBACK, Refusal, check_promotable, replay
from tests.service.modelcards import install_card


def test_promotions_push_and_rollbacks_pop_never_below_the_default() -> None:
    assert replay("v5", []) == ["v5"]
    assert replay("v5", [(PROMOTE, "a"), (PROMOTE, "b")]) == ["v5", "a", "b"]
    assert replay("v5", [(PROMOTE, "a"), (PROMOTE, "b"), (ROLLBACK, "a")])[-1] == "a"
    assert replay("v5", [(PROMOTE, "a"), (ROLLBACK, "v5"), (ROLLBACK, "v5"), (PROMOTE, "c")]) == ["v5", "c"]
    assert replay("v5", [(ROLLBACK, "x"), ("something else", "y")]) == ["v5"]  # unknown actions are ignored


def test_only_installed_shared_models_through_their_gate_are_promotable(tmp_path: Path) -> None:
    store = RecognizerStore.standard(tmp_path)
    install_card(tmp_path / "models", "good")
    install_card(tmp_path / "models", "bad", passed=False)
    install_card(tmp_path / "models", "mine", owner="0123abcd")
    assert check_promotable(store, "good").name == "good"
    assert check_promotable(store, "cnn-v4").name == "cnn-v4"  # shipped, no finetune section: allowed
    for name, code in (("bad", "model_not_promotable"), ("mine", "model_not_promotable"),
                       ("absent", "unknown_model"), (str(tmp_path / "models" / "good.json"), "unknown_model")):
        with pytest.raises(Refusal) as refused:
            check_promotable(store, name)
        assert refused.value.code == code, name
