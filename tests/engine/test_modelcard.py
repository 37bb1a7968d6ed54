"""The model card: typed sections, the same JSON shape as ever, and a format version that is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inkdigit.engine.modelcard import FORMAT_VERSION, ModelCard, ModelCardError
from inkdigit.engine.preprocess import V1_CONFIG
from inkdigit.engine.store import shipped_dir

SHIPPED = shipped_dir() / "cnn-v1.json"


def test_the_shipped_card_reads_back_to_the_same_json() -> None:
    raw = json.loads(SHIPPED.read_text())
    card = ModelCard.load(SHIPPED)
    # the shipped card predates the "output" section: it reads as logits from the first output
    assert card.to_dict() == {**raw, "output": {"name": "", "kind": "logits"}}
    assert card.training.seed == 1 and card.training.extra == {"torch": "2.13.0+cpu"}
    assert card.calibration.temperature == pytest.approx(0.6428) and card.calibration.fitted_on == "usps/train"
    assert card.output.kind == "logits" and card.preprocess_config() == V1_CONFIG


def _write(tmp_path: Path, **changes: object) -> Path:
    raw = {**json.loads(SHIPPED.read_text()), **changes}
    path = tmp_path / "card.json"
    path.write_text(json.dumps(raw))
    return path


def test_a_card_of_an_unknown_format_version_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ModelCardError, match="card format 3 .* reads formats 1, 2"):
        ModelCard.load(_write(tmp_path, format_version=3))


def test_a_card_with_a_gate_is_format_2_so_an_older_inkdigit_refuses_it(tmp_path: Path) -> None:
    from inkdigit.engine.modelcard import GATED_FORMAT_VERSION, Rejection

    card = ModelCard.load(_write(tmp_path))
    assert card.to_dict()["format_version"] == FORMAT_VERSION == 1
    card.rejection = Rejection(0.0, "digit_score", -8.0, "usps/train[6291:]")
    assert card.to_dict()["format_version"] == GATED_FORMAT_VERSION == 2
    card.save(tmp_path / "gated.json")
    again = ModelCard.load(tmp_path / "gated.json")
    assert again.format_version == 2 and again.rejection == card.rejection


def test_bad_sections_are_refused_with_the_file_named(tmp_path: Path) -> None:
    with pytest.raises(ModelCardError, match="card.json.*unknown output kind 'votes'"):
        ModelCard.load(_write(tmp_path, output={"name": "", "kind": "votes"}))
    with pytest.raises(ModelCardError, match="'rejection' section must be an object"):
        ModelCard.load(_write(tmp_path, rejection=0.5))
    raw = json.loads(SHIPPED.read_text())
    del raw["preprocessing"]
    (tmp_path / "card.json").write_text(json.dumps(raw))
    with pytest.raises(ModelCardError, match="lacks preprocessing"):
        ModelCard.load(tmp_path / "card.json")


def test_a_preprocessing_version_this_inkdigit_lacks_is_refused(tmp_path: Path) -> None:
    card = ModelCard.load(_write(tmp_path, preprocessing={"version": "9"}))
    with pytest.raises(ModelCardError, match="preprocessing v9"):
        card.preprocess_config()


def test_a_card_with_unset_fields_reads_back_unchanged(tmp_path: Path) -> None:
    card = ModelCard.load(SHIPPED)
    card.training.epochs_run, card.training.total_seconds = None, None  # as a kNN's card has them
    card.save(tmp_path / "knn.json")
    raw = json.loads((tmp_path / "knn.json").read_text())
    assert raw["training"]["epochs_run"] is None
    assert ModelCard.load(tmp_path / "knn.json").to_dict() == raw
