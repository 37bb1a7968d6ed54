"""Training data that looks like real input: style variants, rendered digits, and a training run
that uses them (dry run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inkdigit.training import data, realistic
from inkdigit.training.robustness import canvas


@pytest.fixture(scope="module")
def train_digits() -> data.Digits:
    return data.load("mnist", "train")


def _first(d: data.Digits, label: int) -> np.ndarray:
    return d.images[int(np.flatnonzero(d.labels == label)[0])] / 255.0


def test_a_continental_one_gains_a_flag_to_the_left_of_its_top(train_digits: data.Digits) -> None:
    strokes = realistic._unit(canvas.trace_strokes(_first(train_digits, 1)))
    styled = realistic.continental_one(strokes, np.random.default_rng(0))
    assert len(styled) > len(strokes)
    flag = styled[len(strokes)]
    top = np.concatenate(strokes)[:, 1].argmin()
    assert flag[0, 0] < np.concatenate(strokes)[top, 0] and flag[0, 1] > flag[-1, 1]  # from lower left, up


def test_a_crossed_seven_gains_a_bar_across_its_stem(train_digits: data.Digits) -> None:
    strokes = realistic._unit(canvas.trace_strokes(_first(train_digits, 7)))
    bar = realistic.crossed_seven(strokes, np.random.default_rng(0))[-1]
    assert 0.4 < bar[:, 1].mean() < 0.7 and np.ptp(bar[:, 0]) > 0.25 and np.ptp(bar[:, 1]) < 0.1


def test_zeros_gain_a_slash_or_a_dot(train_digits: data.Digits) -> None:
    strokes = realistic._unit(canvas.trace_strokes(_first(train_digits, 0)))
    rng = np.random.default_rng(0)
    slash = realistic.slashed_zero(strokes, rng)[-1]
    assert slash[0, 0] < slash[-1, 0] and slash[0, 1] > slash[-1, 1]  # lower left to upper right
    dot = realistic.dotted_zero(strokes, rng)[-1]
    assert np.ptp(dot, axis=0).max() < 0.05


def test_extra_images_are_deterministic_cached_and_labelled(train_digits: data.Digits) -> None:
    images, labels = train_digits.images[:300], train_digits.labels[:300]
    first = realistic.make("styles", images, labels, 24, 5, train_digits.checksums, workers=1)
    again = realistic.make("styles", images, labels, 24, 5, train_digits.checksums, workers=2)
    assert np.array_equal(first.images, again.images) and set(first.labels.tolist()) <= {0, 1, 7}
    rendered = realistic.make("rendered", images, labels, 40, 5, train_digits.checksums, workers=2)
    assert rendered.images.shape[1:] == (28, 28) and len(rendered.labels) >= 36
    assert sum(rendered.kinds.values()) == 40 and set(rendered.kinds) <= set(realistic.FAMILY_WEIGHTS)
    assert (rendered.images.reshape(len(rendered.labels), -1).max(axis=1) > 0).all()


def test_a_training_run_records_the_extra_data_and_its_calibration_source(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from inkdigit.engine.modelcard import ModelCard
    from inkdigit.engine.preprocess import VERSION
    from inkdigit.training.train import TrainConfig, train

    card = train(TrainConfig(name="cnn-x", out_dir=str(tmp_path), dry_run=True, limit=512, eval_limit=300,
                             usps=True, rendered=1000, styles=500))
    extra = ModelCard.load(tmp_path / "cnn-x.json").training.extra
    assert extra["usps_train"] == 150 and extra["rendered"]["n"] >= 18 and extra["styles"]["n"] == 10
    assert card.calibration.fitted_on == "usps/train[150:]"
    assert card.preprocessing.version == VERSION
