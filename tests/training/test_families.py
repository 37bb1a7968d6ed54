"""The contract every model family keeps: fit / predict_proba / calibrate / save / load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("skl2onnx")

from inkdigit.engine.modelcard import ModelCard, ModelCardError, Training
from inkdigit.engine.preprocess import VERSION
from inkdigit.training.dataset import Prepared, prepare
from inkdigit.training.families import FAMILIES, KNNDigits, SVMDigits, make
from inkdigit.training.small_digits import small_digits_knn

# small and quick, but each must still learn something real from 1,000 images
SMALL: dict[str, dict[str, Any]] = {
    "knn": {"k_grid": (1, 3, 5), "cv_limit": 600},
    "svm": {},
    "mlp": {"hidden": (64,), "epochs": 4, "threads": 1},
    "cnn": {"width": 8, "hidden": 32, "epochs": 3, "batch_size": 32, "threads": 1},
}
CHANCE_BEATEN = {"knn": 0.8, "svm": 0.8, "mlp": 0.6, "cnn": 0.5}


@pytest.fixture(scope="module")
def subsets(data_dir: Path) -> tuple[Prepared, Prepared, Prepared]:
    return (prepare("mnist", "train", str(data_dir), limit=1000),
            prepare("mnist", "test", str(data_dir), limit=300),
            prepare("usps", "train", str(data_dir), limit=300))


def _x(p: Prepared) -> np.ndarray:
    return p.images.astype(np.float32) / 255.0


@pytest.fixture(scope="module", params=list(SMALL))
def fitted(request: pytest.FixtureRequest, subsets: tuple[Prepared, Prepared, Prepared]) -> Any:
    train, _, cal = subsets
    model = make(request.param, **SMALL[request.param])
    assert model.fit(_x(train), train.labels) is model
    return model.calibrate(_x(cal), cal.labels)


def test_every_family_is_registered_with_its_own_module() -> None:
    assert set(FAMILIES) == {"knn", "svm", "mlp", "cnn"}
    assert len({cls.__module__ for cls in FAMILIES.values()}) == 4
    with pytest.raises(ValueError, match="Unknown model family"):
        make("forest")


def test_hyper_parameters_live_in_init(fitted: Any) -> None:
    params = fitted.get_params()
    for key, value in SMALL[fitted.family].items():
        assert params[key] == (tuple(value) if isinstance(value, tuple) else value)
    assert type(fitted)(**params).get_params() == params


def test_predict_proba_is_a_distribution_that_beats_chance(fitted: Any, subsets: Any) -> None:
    _, test, _ = subsets
    probs = fitted.predict_proba(_x(test))
    assert probs.shape == (len(test.labels), 10)
    assert np.all(probs >= 0) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(fitted.predict(_x(test)), probs.argmax(axis=1))
    assert (probs.argmax(axis=1) == test.labels).mean() >= CHANCE_BEATEN[fitted.family]


def test_calibration_sets_a_temperature_and_a_rejection_threshold(fitted: Any) -> None:
    assert 0.0 < fitted.min_confidence_ <= 1.0
    if fitted.output_kind == "logits":
        assert 0.25 <= fitted.temperature_ <= 8.0
    else:
        assert fitted.temperature_ == 1.0


def test_save_and_load_round_trip_gives_the_same_answers(fitted: Any, subsets: Any, tmp_path: Path) -> None:
    _, test, _ = subsets
    card_path = fitted.save(tmp_path, f"{fitted.family}-small", training=Training(seed=1))
    assert (tmp_path / f"{fitted.family}-small.onnx").exists()
    card = ModelCard.load(card_path)
    assert card.family == fitted.family and card.preprocessing.version == VERSION
    assert card.output.kind == fitted.output_kind and card.training == Training(seed=1)
    assert card.rejection.min_confidence == pytest.approx(fitted.min_confidence_, abs=1e-4)

    served = type(fitted).load(card_path)
    x = _x(test)
    expected, got = fitted.predict_proba(x), served.predict_proba(x)
    assert (expected.argmax(axis=1) == got.argmax(axis=1)).mean() >= 0.99
    assert np.abs(expected - got).mean() < 1e-3
    assert served.min_confidence == pytest.approx(fitted.min_confidence_, abs=1e-4)


def test_load_refuses_a_card_of_another_family(fitted: Any, tmp_path: Path) -> None:
    card_path = fitted.save(tmp_path, "m")
    other = SVMDigits if fitted.family != "svm" else KNNDigits
    with pytest.raises(ModelCardError, match=f"holds a {fitted.family} model"):
        other.load(card_path)


def test_knn_chooses_k_by_cross_validation(subsets: Any) -> None:
    train, _, _ = subsets
    model = KNNDigits(k_grid=(1, 2, 7), min_k=1, cv_limit=500).fit(_x(train), train.labels)
    assert set(model.cv_curve_) == {1, 2, 7}
    assert model.k_ in (1, 2, 7) and model.cv_curve_[model.k_] == max(model.cv_curve_.values())
    model = KNNDigits(k_grid=(1, 3, 5), min_k=3, cv_limit=500).fit(_x(train), train.labels)
    assert model.k_ in (3, 5) and model.cv_curve_[model.k_] == max(model.cv_curve_[3], model.cv_curve_[5])
    assert KNNDigits(k=3).fit(_x(train), train.labels).k_ == 3


def test_pca_can_be_turned_off_for_a_raw_pixel_baseline(subsets: Any) -> None:
    train, test, _ = subsets
    model = SVMDigits(n_components=None).fit(_x(train), train.labels)
    assert model.architecture()["pca_components"] is None
    assert model.predict_proba(_x(test)).shape == (len(test.labels), 10)


def test_small_digits_knn_is_the_classic_result() -> None:
    result = small_digits_knn(seed=1)
    assert result["best_k"] in result["cv_curve"] and len(result["cv_curve"]) == 15
    assert result["test_images"] == 450
    assert 0.97 <= result["test"]["accuracy"] <= 1.0
