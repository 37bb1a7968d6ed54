"""The interface every model family shares: ``fit`` / ``predict_proba`` / ``save`` / ``load``.

A family is a scikit-learn-style estimator over preprocessed digits: hyper-parameters (and, for
the neural families, run options such as threads and checkpointing) in ``__init__``, learned state
in attributes ending in ``_``, and one ``fit(x, y, *, progress=None)`` signature for all. Inputs are
(N, 28, 28) float32 images in [0, 1], exactly what serving's preprocessing makes; a label of -1
marks a non-digit, which only families with ``supports_negatives`` accept (Outlier Exposure).
``save`` writes the two files serving reads, ``NAME.onnx`` and the model card ``NAME.json``;
``load`` reads them back as the served :class:`~inkdigit.engine.recognizer.Recognizer`, so a round
trip tests the artefact users get, not a pickle of the training object.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

from inkdigit.engine.modelcard import Calibration, ModelCard, ModelCardError, Output, Preprocessing, Rejection
from inkdigit.engine.preprocess import DEFAULT_CONFIG, PreprocessConfig
from inkdigit.engine.recognizer import Recognizer

Progress = Callable[[str, int, int, dict[str, float]], None]

#: the label that marks a non-digit among training images (Outlier Exposure)
NOT_A_DIGIT = -1


def quiet(stage: str, done: int, total: int, info: dict[str, float]) -> None:
    """The progress callback used when the caller gives none."""


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The softmax temperature minimising negative log-likelihood (Guo et al., 2017), in [0.25, 8]."""
    z = np.asarray(logits, dtype=np.float64)
    rows = np.arange(len(labels))

    def nll(log_t: float) -> float:
        return float(-log_softmax(z / np.exp(log_t), axis=1)[rows, labels].mean())

    res = minimize_scalar(nll, bounds=(np.log(0.25), np.log(8.0)), method="bounded",
                          options={"xatol": 1e-4})
    return float(np.exp(res.x))


class DigitEstimator(ABC):
    """Base class of the families. Subclasses implement ``fit``, ``scores``, ``to_onnx`` and
    ``architecture``; calibration, probabilities, saving and loading are shared."""

    family: ClassVar[str]
    #: what :meth:`scores` returns: "logits" (softmax at the calibrated temperature) or "probabilities"
    output_kind: ClassVar[Literal["logits", "probabilities"]] = "logits"
    #: the ONNX output that holds those scores ("": the first)
    onnx_output: ClassVar[str] = ""
    #: whether ``fit`` accepts non-digits (label ``NOT_A_DIGIT``) and learns to be unsure of them
    supports_negatives: ClassVar[bool] = False
    #: ``__init__`` options that say how to run a fit (threads, where to checkpoint), not what to
    #: learn: left out of the model card and of what identifies a resumable fit
    run_options: ClassVar[tuple[str, ...]] = ()

    temperature_: float = 1.0
    min_confidence_: float = 0.0
    #: seconds spent fitting (over every resumed run, for the neural families)
    train_seconds_: float = 0.0
    #: epochs trained, for the families that train in epochs
    epochs_run_: int | None = None

    # --- the family's own part -----------------------------------------------------------------
    @abstractmethod
    def fit(self, x: np.ndarray, y: np.ndarray, *, progress: Progress | None = None) -> Self:
        """Learn from images ``x`` (N, 28, 28) in [0, 1] and labels ``y`` (N,) in 0..9 (or
        ``NOT_A_DIGIT`` where ``supports_negatives``); ``progress`` hears how far it got."""

    @abstractmethod
    def scores(self, x: np.ndarray) -> np.ndarray:
        """(N, 10) logits or probabilities, as ``output_kind`` says, computed in memory."""

    @abstractmethod
    def to_onnx(self) -> bytes:
        """The fitted model as a serialised ONNX graph taking the same input as :meth:`scores`."""

    @abstractmethod
    def architecture(self) -> dict[str, Any]:
        """What the card records about the fitted model (its shape, size, learned choices)."""

    # --- shared ----------------------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        """The names ``__init__`` takes: hyper-parameters and run options."""
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """The ``__init__`` hyper-parameters and their current values (as scikit-learn does)."""
        return {n: getattr(self, n) for n in self.param_names()}

    def hyper_params(self) -> dict[str, Any]:
        """:meth:`get_params` less the run options: what defines the model a fit makes."""
        return {k: v for k, v in self.get_params().items() if k not in self.run_options}

    def _check_labels(self, y: np.ndarray) -> None:
        if not self.supports_negatives and (np.asarray(y) < 0).any():
            raise ValueError(f"the {self.family} family cannot learn from non-digits (labels < 0)")

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (N, 10)."""
        s = np.asarray(self.scores(x), dtype=np.float64)
        if self.output_kind == "probabilities":
            return s / np.maximum(s.sum(axis=1, keepdims=True), 1e-12)
        return softmax(s / self.temperature_, axis=1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1)

    def calibrate(self, x: np.ndarray, y: np.ndarray, keep: float = 0.995, source: str = "usps/train") -> Self:
        """Fit the temperature on data the model never trained on (``source``, e.g. USPS train: other
        writers, another scanner), then set the rejection threshold to the confidence that keeps
        ``keep`` of its correct answers."""
        self.calibration_source_ = source
        if self.output_kind == "logits":
            self.temperature_ = fit_temperature(self.scores(x), y)
        probs = self.predict_proba(x)
        correct = probs.argmax(axis=1) == y
        self.min_confidence_ = float(np.quantile(probs.max(axis=1)[correct], 1 - keep)) if correct.any() else 0.0
        return self

    def card(self, name: str, preprocessing: PreprocessConfig = DEFAULT_CONFIG, **extra: Any) -> ModelCard:
        """A model card for this fitted model, which was trained on images read through
        ``preprocessing``; ``extra`` fills training, data and metrics."""
        logits = self.output_kind == "logits"
        return ModelCard(
            name=name, family=self.family,
            architecture={"class": type(self).__name__, "params": self.hyper_params(), **self.architecture()},
            preprocessing=Preprocessing.of(preprocessing),
            calibration=(Calibration(round(self.temperature_, 4), getattr(self, "calibration_source_", "usps/train"))
                         if logits else Calibration()),
            rejection=Rejection(round(self.min_confidence_, 4)),
            weights=f"{name}.onnx", output=Output(self.onnx_output, self.output_kind),
            **extra)

    def write_weights(self, directory: str | Path, name: str) -> Path:
        """Write ``NAME.onnx`` into ``directory`` (and whatever else a family keeps); returns its path."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.onnx"
        path.write_bytes(self.to_onnx())
        return path

    def save(self, directory: str | Path, name: str, **card_extra: Any) -> Path:
        """Write ``NAME.onnx`` and ``NAME.json`` into ``directory``; returns the card's path."""
        self.write_weights(directory, name)
        path = Path(directory) / f"{name}.json"
        self.card(name, **card_extra).save(path)
        return path

    @classmethod
    def load(cls, card_path: str | Path, threads: int | None = None) -> Recognizer:
        """The saved model as serving runs it (ONNX Runtime); refuses a card of another family."""
        rec = Recognizer(card_path, threads)
        if rec.family != cls.family:
            raise ModelCardError(f"{card_path} holds a {rec.family} model, not {cls.family}.")
        return rec


def flat(x: np.ndarray) -> np.ndarray:
    """(N, 28, 28) images as (N, 784) float32 rows, the input of the scikit-learn families."""
    return np.ascontiguousarray(x, dtype=np.float32).reshape(len(x), -1)
