"""Training end to end on a tiny subset: dry run, ONNX parity with PyTorch, calibration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from inkdigit.engine.modelcard import ModelCard  # noqa: E402
from inkdigit.engine.recognizer import Recognizer  # noqa: E402
from inkdigit.training.augment import augment  # noqa: E402
from inkdigit.training.families.cnn import DigitCNN  # noqa: E402
from inkdigit.training.train import TrainConfig, fit_temperature, train  # noqa: E402

NAME = "cnn-dry"


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    train(TrainConfig(name=NAME, out_dir=str(out), dry_run=True, limit=512, eval_limit=300, negatives=200))
    return out


def test_dry_run_writes_weights_onnx_and_card(dry_run: Path) -> None:
    card = ModelCard.load(dry_run / f"{NAME}.json")
    assert (dry_run / f"{NAME}.onnx").stat().st_size > 100_000
    assert (dry_run / f"{NAME}.pt").exists() and (dry_run / "checkpoint.pt").exists()
    assert card.training.seed == 1 and card.training.epochs_run == 1
    assert card.metrics["mnist_test"]["n"] == 300 and card.metrics["usps_test"]["n"] == 300
    assert 0.25 <= card.calibration.temperature <= 8.0
    assert len(card.data) == 6
    non_digits = card.metrics["synthetic_non_digits"]
    assert non_digits["n"] == 300 and 0.0 <= non_digits["rejected"] <= 1.0


def test_outlier_exposure_is_off_by_default_so_the_shipped_command_reproduces() -> None:
    assert TrainConfig().negatives == 0


def test_onnx_runtime_agrees_with_pytorch(dry_run: Path) -> None:
    model = DigitCNN()
    model.load_state_dict(torch.load(dry_run / f"{NAME}.pt", weights_only=True))
    model.eval()
    x = torch.rand(37, 1, 28, 28)
    with torch.no_grad():
        expected = torch.softmax(model(x), 1).numpy()
    rec = Recognizer(dry_run / f"{NAME}.json")
    rec.temperature = 1.0
    got = rec.probabilities(x.numpy()[:, 0])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_augment_keeps_shape_range_and_varies() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(16, 1, 28, 28)
    x[:, :, 8:20, 12:16] = 1.0
    out = augment(x, gen)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1.0
    assert not torch.allclose(out[0], out[1])
    assert (out.sum(dim=(1, 2, 3)) > 10).all()  # the digit stays in the frame


def test_temperature_fit_recovers_a_known_temperature() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 3, size=(4000, 10))
    probs = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(10, p=p) for p in probs])
    assert fit_temperature(true_logits * 2.0, labels) == pytest.approx(2.0, rel=0.15)


def test_run_options_can_be_overridden_and_stay_out_of_the_card(tmp_path: Path) -> None:
    from inkdigit.training.train import build

    model = build(TrainConfig(out_dir=str(tmp_path), params={"threads": 2, "epochs": 3}))
    assert model.threads == 2 and model.epochs == 3  # type: ignore[attr-defined]
    assert model.checkpoint == str(tmp_path / "checkpoint.pt")  # type: ignore[attr-defined]
    assert set(model.hyper_params()) == set(model.get_params()) - {"threads", "checkpoint", "dry_run"}
    svm = build(TrainConfig(family="svm", threads=2, out_dir=str(tmp_path)))  # no threads option: not given
    assert "threads" not in svm.get_params()


def test_dry_run_card_holds_hyper_parameters_not_run_options(dry_run: Path) -> None:
    params = ModelCard.load(dry_run / f"{NAME}.json").architecture["params"]
    assert params["epochs"] == 30 and not {"threads", "checkpoint", "dry_run"} & set(params)


def test_dry_run_card_names_the_preprocessing_it_was_trained_through(dry_run: Path) -> None:
    assert ModelCard.load(dry_run / f"{NAME}.json").preprocessing.version == "3"  # the default: v3


def test_a_model_trained_through_v4_is_served_through_v4(tmp_path: Path) -> None:
    """The card is the contract: what training read its images through, serving reads them through."""
    train(TrainConfig(name="cnn-v4-dry", out_dir=str(tmp_path), dry_run=True, limit=512, eval_limit=200,
                      preprocessing="4"))
    card = ModelCard.load(tmp_path / "cnn-v4-dry.json")
    assert card.preprocessing.version == "4" and card.training.config["preprocessing"] == "4"
    rec = Recognizer(card, weights=tmp_path / "cnn-v4-dry.onnx")
    assert rec.preprocess_config.version == "4"
    assert card.metrics["mnist_test"]["n"] == 200


def test_an_unknown_preprocessing_version_is_refused_before_any_data_is_prepared(tmp_path: Path) -> None:
    from inkdigit.training.train import build

    with pytest.raises(ValueError, match="preprocessing v9 does not exist"):
        build(TrainConfig(out_dir=str(tmp_path), preprocessing="9"))
