"""The model families, one module each, all behind :class:`~.base.DigitModel`."""

from __future__ import annotations

from typing import Any

from inkdigit.training.families.base import DigitModel
from inkdigit.training.families.cnn import CNNDigits
from inkdigit.training.families.knn import KNNDigits
from inkdigit.training.families.mlp import MLPDigits
from inkdigit.training.families.svm import SVMDigits

FAMILIES: dict[str, type[DigitModel]] = {"knn": KNNDigits, "svm": SVMDigits, "mlp": MLPDigits, "cnn": CNNDigits}


def make(family: str, **params: Any) -> DigitModel:
    """A new, unfitted model of ``family`` with ``params`` overriding its defaults."""
    try:
        cls = FAMILIES[family]
    except KeyError:
        raise ValueError(f"Unknown model family {family!r}; choose one of {', '.join(FAMILIES)}.") from None
    return cls(**params)  # type: ignore[call-arg]


__all__ = ["FAMILIES", "CNNDigits", "DigitModel", "KNNDigits", "MLPDigits", "SVMDigits", "make"]
