"""The digit-or-not gate: it learns, it travels in the ONNX file, and the card's rule uses it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from inkdigit.engine.modelcard import ModelCard  # noqa: E402
from inkdigit.engine.recognizer import Recognizer  # noqa: E402
from inkdigit.training import negatives  # noqa: E402
from inkdigit.training.gate import PIECE_OUTPUT, SCORE_OUTPUT, fit_gate, gate_scores  # noqa: E402
from inkdigit.training.train import TrainConfig, train  # noqa: E402

NAME = "gated-dry"


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gated")
    train(TrainConfig(name=NAME, out_dir=str(out), dry_run=True, limit=512, eval_limit=300, usps=True,
                      calibration_rendered=500, gate=300, piece_gate=100, pair_cuts=40, keep=0.99))
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
    assert card.training.extra["piece_gate"]["fragments"] == 140 and card.training.config["piece_gate"] == 100
    assert card.training.extra["piece_gate"]["pair_cuts"] == {"whole": 40, "not_whole": 40}
    assert card.rejection.piece_output == PIECE_OUTPUT and (gated / f"{NAME}-piece-gate.pt").exists()
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


def test_a_digit_of_a_number_passes_the_more_lenient_threshold_set_from_the_same_digits(gated: Path) -> None:
    """The card records a second gate threshold, for digits of a number (one rejected digit loses
    the whole number): set from the same held-out digits at ``number_keep`` (0.999 by default),
    so never stricter than ``min_score``. A number's digits are judged by it, a single image is not."""
    from PIL import Image, ImageDraw

    from inkdigit.engine.numbers import read_number

    card = ModelCard.load(gated / f"{NAME}.json")
    assert card.rejection.number_keep == 0.999 and card.training.config["number_keep"] == 0.999
    assert card.rejection.number_min_score is not None
    assert card.rejection.number_min_score <= card.rejection.min_score
    img = Image.new("L", (120, 100), 255)
    ImageDraw.Draw(img).line([(60, 15), (60, 85)], fill=0, width=8)  # a 1, alone on its line
    pixels = np.asarray(img)
    rec = Recognizer(gated / f"{NAME}.json")
    assert rec.number_min_score == card.rejection.number_min_score
    rec.min_score, rec.number_min_score = 1e9, -1e9  # single images: nothing passes; digits of numbers: all
    assert not rec.predict(pixels).is_digit
    digits = read_number(rec, pixels).digits
    assert len(digits) == 1 and digits[0].is_digit and digits[0].digit is not None
    rec.min_score, rec.number_min_score = -1e9, 1e9  # and the other way round
    assert rec.predict(pixels).is_digit
    assert not read_number(rec, pixels).digits[0].is_digit
    # a card written before the second threshold judges a number's digits by its one threshold
    card.rejection.number_min_score = card.rejection.number_keep = None
    assert "number_min_score" not in card.to_dict()["rejection"]
    assert Recognizer(card, weights=gated / f"{NAME}.onnx").number_min_score == card.rejection.min_score


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


def test_the_piece_scorer_is_a_third_output_read_only_for_numbers(gated: Path, tmp_path: Path) -> None:
    from inkdigit.engine.modelcard import ModelCardError

    rec = Recognizer(gated / f"{NAME}.json")
    x = np.random.default_rng(1).random((4, 28, 28)).astype(np.float32)
    probs, gate, whole = rec.piece_scores(x)
    assert whole is not None and whole.shape == (4,)
    p2, g2 = rec.scores(x)  # the same call without it answers the same
    np.testing.assert_allclose(probs, p2)
    assert g2 is not None and gate is not None
    np.testing.assert_allclose(gate, g2)
    card = ModelCard.load(gated / f"{NAME}.json")
    assert card.to_dict()["rejection"]["piece_output"] == PIECE_OUTPUT
    card.rejection.piece_output = "no_such_output"
    with pytest.raises(ModelCardError, match="no piece scorer output"):
        Recognizer(card, weights=gated / f"{NAME}.onnx")


def test_a_gated_card_without_a_piece_scorer_is_written_as_before(gated: Path) -> None:
    """Cards written before the piece scorer (cnn-v4) must read and write unchanged."""
    card = ModelCard.load(gated / f"{NAME}.json")
    card.rejection.piece_output = ""
    assert "piece_output" not in card.to_dict()["rejection"]
    rec = Recognizer(card, weights=gated / f"{NAME}.onnx")
    assert rec.piece_scores(np.zeros((2, 28, 28), np.float32))[2] is None


def test_a_piece_scorer_without_a_gate_is_refused_and_kept_on_save(gated: Path) -> None:
    from inkdigit.engine.modelcard import ModelCardError

    card = ModelCard.load(gated / f"{NAME}.json")
    card.rejection.output = ""
    assert card.to_dict()["rejection"]["piece_output"] == PIECE_OUTPUT  # not silently dropped
    with pytest.raises(ModelCardError, match="without a digit-or-not gate"):
        Recognizer(card, weights=gated / f"{NAME}.onnx")
