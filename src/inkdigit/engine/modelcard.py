"""The model card: the one contract between training and serving.

A model is two files side by side, ``NAME.onnx`` and ``NAME.json``. The JSON says what the model
is (its family: kNN, SVM, MLP or CNN), which ONNX output holds its scores and whether those are logits
or probabilities, how its input must be prepared (the preprocessing version and every parameter), how it was
made (command, seed, data checksums, time, machine) and what it measured. Serving reads nothing
else: if the card says ``deskew: true`` then serving deskews, whatever today's defaults are.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from inkdigit.engine.preprocess import VERSION, PreprocessConfig


class ModelCardError(ValueError):
    """A card that is missing, unreadable or incompatible with this version of inkdigit."""


@dataclass
class ModelCard:
    name: str
    family: str
    architecture: dict[str, Any]
    preprocessing: dict[str, Any]
    training: dict[str, Any] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=lambda: {"temperature": 1.0})
    rejection: dict[str, float] = field(default_factory=lambda: {"min_confidence": 0.0})
    weights: str = ""
    # which ONNX output to read ("": the first) and what it holds: "logits" become probabilities by
    # a softmax at the calibrated temperature, "probabilities" (a kNN's votes) are used as they are
    output: dict[str, str] = field(default_factory=lambda: {"name": "", "kind": "logits"})
    format_version: int = 1

    def preprocess_config(self) -> PreprocessConfig:
        """The exact preprocessing this model was trained with; refuses another version."""
        params = dict(self.preprocessing)
        version = str(params.pop("version", ""))
        if version != VERSION:
            raise ModelCardError(
                f"Model {self.name!r} was trained with preprocessing v{version}, but this inkdigit "
                f"implements v{VERSION}; retrain it or install the matching inkdigit version.")
        known = {f.name for f in fields(PreprocessConfig)}
        return PreprocessConfig(**{k: v for k, v in params.items() if k in known})

    @property
    def output_kind(self) -> str:
        kind = self.output.get("kind", "logits")
        if kind not in ("logits", "probabilities"):
            raise ModelCardError(f"Model {self.name!r} has an unknown output kind {kind!r}.")
        return kind

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False) + "\n"

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> ModelCard:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in raw.items() if k in known})
        except (OSError, ValueError, TypeError) as exc:
            raise ModelCardError(f"Cannot read model card {path}: {exc}") from exc
