"""The model card: the one contract between training and serving.

A recognizer is two files side by side, ``NAME.onnx`` and ``NAME.json``. The JSON says what the
model is (its family: kNN, SVM, MLP or CNN), which ONNX output holds its scores and whether those are
logits or probabilities, how its input must be prepared (the preprocessing version and every
parameter), how it was made (command, seed, data checksums, time, machine) and what it measured.
Serving reads nothing else: if the card says ``deskew: true`` then serving deskews, whatever
today's defaults are.

Each section is typed; the JSON keeps the flat shape cards have always had, and ``format_version``
says which shape a file holds, so a card from a newer inkdigit is refused with a clear message
instead of being half-read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from inkdigit.engine.preprocess import VERSIONS, PreprocessConfig

#: the card layouts this inkdigit reads. It writes 1, or 2 for a model with a digit-or-not gate:
#: an inkdigit that knows only 1 then refuses the card instead of serving it without its gate
FORMAT_VERSIONS = (1, 2)
FORMAT_VERSION = 1
GATED_FORMAT_VERSION = 2

OutputKind = Literal["logits", "probabilities"]


class ModelCardError(ValueError):
    """A card that is missing, unreadable or incompatible with this version of inkdigit."""


@dataclass
class Preprocessing:
    """The preprocessing version a model was trained with and every parameter of it."""

    version: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, config: PreprocessConfig) -> Preprocessing:
        params = asdict(config)
        return cls(str(params.pop("version")), params)

    def config(self, model: str) -> PreprocessConfig:
        """The exact preprocessing for ``model`` (the version its card names, each version keeping its
        own pipeline); refuses a version this inkdigit does not implement."""
        if self.version not in VERSIONS:
            raise ModelCardError(
                f"Model {model!r} was trained with preprocessing v{self.version}, but this inkdigit "
                f"implements {', '.join('v' + v for v in VERSIONS)}; retrain it or install the matching "
                "inkdigit version.")
        known = {f.name for f in fields(PreprocessConfig)} - {"version"}
        return PreprocessConfig(version=self.version, **{k: v for k, v in self.params.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, **self.params}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Preprocessing:
        params = dict(raw)
        return cls(str(params.pop("version", "")), params)


@dataclass
class Training:
    """How the model was made: enough to run the same command again and compare."""

    command: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    epochs_run: int | None = None
    train_images: int | None = None
    train_seconds: float | None = None
    total_seconds: float | None = None
    machine: dict[str, Any] = field(default_factory=dict)
    #: anything else a trainer recorded (kept as written, so a card reads back unchanged)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Calibration:
    """Softmax temperature fitted on held-out data (1.0: the scores are used as they are)."""

    temperature: float = 1.0
    fitted_on: str | None = None


@dataclass
class Rejection:
    """``is_digit`` is false below ``min_confidence``, and, when the model has a digit-or-not gate
    (the ONNX ``output`` holding its score, a logit), below ``min_score`` of that score too.
    ``fitted_on`` names the held-out real digits the gate's threshold was set from.
    ``piece_output``, when set, is the ONNX output of a piece scorer that reading a number uses to
    decide where one digit ends; it decides nothing about ``is_digit``, so an inkdigit that does not
    know it still reads the model correctly (and splits numbers by the gate instead).
    ``number_min_score``, when set, replaces ``min_score`` for each digit of a number: the gate's
    score that keeps ``number_keep`` of the same held-out digits. Why a second, more lenient
    threshold: one digit wrongly rejected loses the whole number, so a number of n digits is
    rejected about n times as often as one digit would be; and a mark among the digits of a number
    is a digit far more often than an image sent on its own is. Unset: ``min_score`` everywhere."""

    min_confidence: float = 0.0
    output: str = ""
    min_score: float = 0.0
    fitted_on: str = ""
    piece_output: str = ""
    number_min_score: float | None = None
    number_keep: float | None = None

    @property
    def digit_in_number_min_score(self) -> float:
        """The gate threshold a digit of a number must pass."""
        return self.min_score if self.number_min_score is None else self.number_min_score

    def to_dict(self) -> dict[str, Any]:
        """The JSON object; a model without a gate writes its threshold alone, as cards always did."""
        if not self.output and not self.piece_output:
            return {"min_confidence": self.min_confidence}
        out = _flat(self, drop_none=True)
        if not self.piece_output:  # gated cards without a piece scorer read as they always did
            del out["piece_output"]
        return out


@dataclass
class Output:
    """Which ONNX output to read ("": the first) and what it holds: ``logits`` become probabilities
    by a softmax at the calibrated temperature; ``probabilities`` (a kNN's votes) are used as they are."""

    name: str = ""
    kind: OutputKind = "logits"


_S = TypeVar("_S")


def _section(cls: type[_S], raw: Any, where: str) -> _S:
    """A typed section from its JSON object; unknown keys go to ``extra`` where the section has one."""
    if not isinstance(raw, dict):
        raise ModelCardError(f"the card's {where!r} section must be an object")
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    known = {k: v for k, v in raw.items() if k in names and k != "extra"}
    if "extra" in names:
        known["extra"] = {k: v for k, v in raw.items() if k not in names}
    return cls(**known)


def _flat(section: Any, drop_none: bool = False) -> dict[str, Any]:
    """A section as its JSON object, ``extra`` merged in (and with ``drop_none``, unset fields left out)."""
    out = {k: v for k, v in asdict(section).items() if k != "extra" and not (drop_none and v is None)}
    return {**out, **getattr(section, "extra", {})}


@dataclass
class ModelCard:
    name: str
    family: str
    architecture: dict[str, Any]
    preprocessing: Preprocessing
    training: Training = field(default_factory=Training)
    #: SHA-256 of every data file the model was trained, calibrated or measured on
    data: dict[str, str] = field(default_factory=dict)
    #: measured figures, one object per data set (``mnist_test``, ``usps_test``, ...)
    metrics: dict[str, Any] = field(default_factory=dict)
    calibration: Calibration = field(default_factory=Calibration)
    rejection: Rejection = field(default_factory=Rejection)
    weights: str = ""
    output: Output = field(default_factory=Output)
    format_version: int = FORMAT_VERSION

    def preprocess_config(self) -> PreprocessConfig:
        """The exact preprocessing this model was trained with; refuses another version."""
        return self.preprocessing.config(self.name)

    @property
    def weights_file(self) -> str:
        return self.weights or f"{self.name}.onnx"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "family": self.family, "architecture": self.architecture,
            "preprocessing": self.preprocessing.to_dict(), "training": _flat(self.training),
            "data": self.data, "metrics": self.metrics, "calibration": _flat(self.calibration, drop_none=True),
            "rejection": self.rejection.to_dict(), "weights": self.weights, "output": _flat(self.output),
            "format_version": GATED_FORMAT_VERSION if self.rejection.output else FORMAT_VERSION,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelCard:
        version = raw.get("format_version", FORMAT_VERSION)
        if version not in FORMAT_VERSIONS:
            raise ModelCardError(f"card format {version!r} is not one this inkdigit reads (it reads formats "
                                 f"{', '.join(map(str, FORMAT_VERSIONS))}); install the inkdigit version that wrote it")
        missing = [k for k in ("name", "family", "preprocessing") if k not in raw]
        if missing:
            raise ModelCardError(f"the card lacks {', '.join(missing)}")
        output = _section(Output, raw.get("output", {}), "output")
        if output.kind not in ("logits", "probabilities"):
            raise ModelCardError(f"unknown output kind {output.kind!r} (logits or probabilities)")
        return cls(
            name=str(raw["name"]), family=str(raw["family"]), architecture=dict(raw.get("architecture", {})),
            preprocessing=Preprocessing.from_dict(raw["preprocessing"]),
            training=_section(Training, raw.get("training", {}), "training"),
            data=dict(raw.get("data", {})), metrics=dict(raw.get("metrics", {})),
            calibration=_section(Calibration, raw.get("calibration", {}), "calibration"),
            rejection=_section(Rejection, raw.get("rejection", {}), "rejection"),
            weights=str(raw.get("weights", "")), output=output, format_version=int(version))

    @classmethod
    def load(cls, path: str | Path) -> ModelCard:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ModelCardError("a card is a JSON object")
            return cls.from_dict(cast(dict[str, Any], raw))
        except (OSError, ValueError, TypeError) as exc:
            raise ModelCardError(f"Cannot read model card {path}: {exc}") from exc


# --- fine-tuned models (inkdigit finetune) ------------------------------------------------------
# A fine-tuned model's card keeps what made it under ``training.finetune`` (an ``extra`` key, so
# any inkdigit reads the card): ``parent`` (the model it was tuned from), ``owner`` (for a personal
# model, ``owner_tag`` of its user's id; absent for a model meant for everyone), ``corrections``
# (counts, hashed ids) and ``gate`` (``{"passed": bool, "rows": [{"measure", "before", "after",
# "n", "ok"}], "reasons": [str]}``: the before/after figures that decided whether it may serve).


def owner_tag(user_id: object) -> str:
    """What a personal model's card records of its user: a digest of the id, not the id itself."""
    import hashlib

    return hashlib.sha256(f"inkdigit-owner:{user_id}".encode()).hexdigest()[:24]


def finetune_section(card: ModelCard) -> dict[str, Any] | None:
    """The card's ``training.finetune`` object, or None for a model that was not fine-tuned."""
    section = card.training.extra.get("finetune")
    return section if isinstance(section, dict) else None


def owner_of(card: ModelCard) -> str | None:
    """The ``owner_tag`` of a personal model's user; None for a model meant for everyone."""
    section = finetune_section(card)
    owner = section.get("owner") if section else None
    return owner if isinstance(owner, str) and owner else None
