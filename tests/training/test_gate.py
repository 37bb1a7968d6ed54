"""The digit-or-not gate: it learns, it travels in the ONNX file, and the card's rule uses it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from inkdigit.engine.modelcard import ModelCard  # noqa: E402
from inkdigit.engine.recognizer import Recognizer  # noqa: E402
from inkdigit.training import negatives  # noqa: E402
from inkdigit.training.gate import SCORE_OUTPUT, fit_gate, gate_scores  # noqa: E402
from inkdigit.training.train import TrainConfig, train  # noqa: E402

NAME = "gated-dry"


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gated")
    train(TrainConfig(name=NAME, out_dir=str(out), dry_run=True, limit=512, eval_limit=300, usps=True,
                      calibration_rendered=500, gate=300, keep=0.99))
    return out


def test_the_gate_separates_digits_from_non_digits_it_never_saw(mnist_test) -> None:
    from inkdigit.engine.preprocess import preprocess_many

    digits = preprocess_many(mnist_test.images[:1200])
    non = negatives.make_negatives(1200, seed=11, digits=mnist_test.images[:200], workers=1)
    gate = fit_gate(digits[:1000], non[:1000], epochs=3, batch_size=64, threads=1)
    pos, neg = gate_scores(gate, digits[1000:]), gate_scores(gate, non[1000:])
    # the probability that a random held-out digit scores above a random held-out non-digit (AUC)
    auc = float((pos[:, None] > neg[None, :]).mean())
    assert auc > 0.9, auc


def test_a_gated_model_exports_both_outputs_and_records_its_threshold(gated: Path) -> None:
    card = ModelCard.load(gated / f"{NAME}.json")
    assert card.rejection.output == SCORE_OUTPUT and card.rejection.min_confidence == 0.0
    assert "renderings of it" in card.rejection.fitted_on
    assert card.training.extra["calibration_rendered"]["n"] >= 1
    assert (gated / f"{NAME}-gate.pt").exists() and card.architecture["gate"]["parameters"] > 1000
    rec = Recognizer(gated / f"{NAME}.json")
    x = np.random.default_rng(0).random((5, 28, 28)).astype(np.float32)
    probs, score = rec.scores(x)
    assert probs.shape == (5, 10) and score is not None and score.shape == (5,)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_is_digit_follows_the_gate_threshold(gated: Path) -> None:
    rec = Recognizer(gated / f"{NAME}.json")
    x = np.zeros((28, 28), np.float32)
    x[6:22, 12:16] = 1.0  # a plain 1
    _, score = rec.scores(rec.preprocess(x).image[None])  # what predict will hand the model
    assert score is not None
    rec.min_score = float(score[0]) - 1e-3
    assert rec.predict(x).is_digit
    rec.min_score = float(score[0]) + 1e-3
    answer = rec.predict(x)
    assert not answer.is_digit and answer.digit is None and not answer.is_empty
    assert answer.confidence > 0  # the reading is still reported, only not called a digit


def test_a_gated_card_keeps_its_rejection_section_through_a_round_trip(gated: Path, tmp_path: Path) -> None:
    card = ModelCard.load(gated / f"{NAME}.json")
    card.save(tmp_path / "again.json")
    again = ModelCard.load(tmp_path / "again.json")
    assert again.rejection == card.rejection


def test_a_card_naming_a_missing_gate_output_is_refused(gated: Path, tmp_path: Path) -> None:
    from inkdigit.engine.modelcard import ModelCardError

    card = ModelCard.load(gated / f"{NAME}.json")
    card.rejection.output = "no_such_output"
    with pytest.raises(ModelCardError, match="no gate output"):
        Recognizer(card, weights=gated / f"{NAME}.onnx")


def test_a_gate_for_a_family_without_one_is_refused_before_any_training(tmp_path: Path) -> None:
    from inkdigit.training.train import build

    with pytest.raises(ValueError, match="gate needs a neural family"):
        build(TrainConfig(family="knn", gate=100, out_dir=str(tmp_path)))
