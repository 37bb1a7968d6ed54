"""Recognise digits with a trained model through ONNX Runtime.

One :class:`Recognizer` holds one ONNX Runtime session for the life of the process (creating a
session costs milliseconds; running it, microseconds). Its threads are sized to the machine. It
prepares every input with the preprocessing its model card names, so what it sees is what the
model was trained on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort

from inkdigit.engine.imageio import DEFAULT_LIMITS, ImageInput, Limits
from inkdigit.engine.modelcard import ModelCard, ModelCardError
from inkdigit.engine.preprocess import Preprocessed, preprocess

DEFAULT_MODEL = "cnn-v1"


@dataclass
class Prediction:
    """One answer: ``digit`` is None when the input is blank or not judged a digit."""

    digit: int | None
    confidence: float
    probabilities: list[float]
    is_digit: bool
    is_empty: bool = False
    stages: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        """The ``k`` most likely digits with their probabilities, best first."""
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(int(i), float(self.probabilities[i])) for i in order]


def shipped_models_dir() -> Path:
    return Path(str(resources.files("inkdigit") / "models"))


def model_dirs(extra: Path | None = None, home: Path | None = None) -> list[Path]:
    """Where models are looked up, first match winning: ``extra`` (default ``INKDIGIT_MODEL_DIR``),
    the user's models under ``home`` (default ``INKDIGIT_HOME``), then the shipped ones."""
    from inkdigit.paths import home_dir

    if extra is None and os.environ.get("INKDIGIT_MODEL_DIR"):
        extra = Path(os.environ["INKDIGIT_MODEL_DIR"]).expanduser()
    return [*([extra] if extra else []), (home or home_dir()) / "models", shipped_models_dir()]


def discover_models(dirs: Sequence[Path] | None = None) -> dict[str, Path]:
    """Every model card (``NAME.json`` beside its weights) in ``dirs``; the first directory wins."""
    found: dict[str, Path] = {}
    for d in model_dirs() if dirs is None else dirs:
        if d.is_dir():
            for card in sorted(d.glob("*.json")):
                if card.stem not in found and _is_model_card(card):
                    found[card.stem] = card
    return found


def _is_model_card(path: Path) -> bool:
    """A JSON file is a model only if it names a family and its weights lie beside it
    (a run directory also holds metrics.json and the like)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(raw, dict) or "family" not in raw:
        return False
    return (path.parent / (raw.get("weights") or f"{path.stem}.onnx")).exists()


def find_model(name: str) -> Path:
    """Path of ``NAME.json`` (beside its weights) in the first model directory that has it."""
    candidate = Path(name)
    if candidate.suffix == ".json" and candidate.exists():
        return candidate
    found = discover_models()
    if name in found:
        return found[name]
    raise ModelCardError(f"No model named {name!r} in {', '.join(str(d) for d in model_dirs())}.")


def _softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Recognizer:
    """A loaded model: ``predict`` for one image, ``predict_batch`` for many."""

    def __init__(self, card_path: str | Path, threads: int | None = None) -> None:
        card_path = Path(card_path)
        self.card = ModelCard.load(card_path)
        self.name = self.card.name
        self.preprocess_config = self.card.preprocess_config()
        weights = card_path.parent / (self.card.weights or f"{self.card.name}.onnx")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(weights), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelCardError(f"Cannot load weights {weights}: {exc}") from exc
        inp = self.session.get_inputs()[0]
        self._input = inp.name
        # a network takes (N, 1, 28, 28) images; a scikit-learn pipeline takes (N, 784) rows
        self._flat = len(inp.shape) == 2
        outputs = [o.name for o in self.session.get_outputs()]
        self._output = self.card.output.get("name") or outputs[0]
        if self._output not in outputs:
            raise ModelCardError(f"Model {self.name!r} has no output {self._output!r} (it has {outputs}).")
        self._kind = self.card.output_kind
        self.temperature = float(self.card.calibration.get("temperature", 1.0))
        self.min_confidence = float(self.card.rejection.get("min_confidence", 0.0))

    @property
    def family(self) -> str:
        return self.card.family

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities for preprocessed (N, 28, 28) images in [0, 1]."""
        x = np.ascontiguousarray(batch, dtype=np.float32)
        x = x.reshape(len(x), -1) if self._flat else x.reshape(-1, 1, *batch.shape[-2:])
        (scores,) = self.session.run([self._output], {self._input: x})
        scores = np.asarray(scores, dtype=np.float64)
        if self._kind == "probabilities":
            return scores / np.maximum(scores.sum(axis=1, keepdims=True), 1e-12)
        return _softmax(scores, self.temperature)

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        """Same as :meth:`probabilities`: the scikit-learn name, so a loaded model answers like a fitted one."""
        return self.probabilities(batch)

    def _prediction(self, pre: Preprocessed, probs: np.ndarray | None) -> Prediction:
        if pre.is_empty or probs is None:
            return Prediction(None, 0.0, [0.1] * 10, False, True, pre.stages)
        digit = int(np.argmax(probs))
        conf = float(probs[digit])
        is_digit = conf >= self.min_confidence
        return Prediction(digit if is_digit else None, conf, [float(p) for p in probs], is_digit,
                          False, pre.stages)

    def preprocess(self, image: ImageInput, stages: bool = False,
                   limits: Limits = DEFAULT_LIMITS) -> Preprocessed:
        return preprocess(image, self.preprocess_config, return_stages=stages, limits=limits)

    def predict(self, image: ImageInput, stages: bool = False, limits: Limits = DEFAULT_LIMITS) -> Prediction:
        """Read one image (path, bytes, PIL image or array). Raises ``ImageInputError`` if unreadable."""
        pre = self.preprocess(image, stages, limits)
        probs = None if pre.is_empty else self.probabilities(pre.image[None])[0]
        return self._prediction(pre, probs)

    def predict_batch(self, images: Iterable[ImageInput], stages: bool = False,
                      limits: Limits = DEFAULT_LIMITS) -> list[Prediction]:
        """Read many images with one model call for all the non-empty ones."""
        pres = [self.preprocess(img, stages, limits) for img in images]
        return self.predict_preprocessed(pres)

    def predict_preprocessed(self, pres: Sequence[Preprocessed]) -> list[Prediction]:
        live = [i for i, p in enumerate(pres) if not p.is_empty]
        probs: dict[int, np.ndarray] = {}
        if live:
            out = self.probabilities(np.stack([pres[i].image for i in live]))
            probs = dict(zip(live, out, strict=True))
        return [self._prediction(p, probs.get(i)) for i, p in enumerate(pres)]


_cache: dict[str, Recognizer] = {}


def load_recognizer(name: str | None = None) -> Recognizer:
    """The recognizer for model ``name`` (default: the shipped CNN), loaded once per process."""
    key = name or os.environ.get("INKDIGIT_DEFAULT_MODEL") or DEFAULT_MODEL
    if key not in _cache:
        _cache[key] = Recognizer(find_model(key))
    return _cache[key]
