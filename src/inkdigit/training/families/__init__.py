"""The model families, one module each, all behind :class:`~.base.DigitEstimator`.

Each family is imported only when it is used, so training an SVM or a kNN never imports PyTorch
(and works without it installed).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from inkdigit.training.families.base import DigitEstimator

if TYPE_CHECKING:
    from inkdigit.training.families.cnn import CNNDigits
    from inkdigit.training.families.knn import KNNDigits
    from inkdigit.training.families.mlp import MLPDigits
    from inkdigit.training.families.svm import SVMDigits

#: family name → (module, class), imported on first use
_WHERE = {"knn": ("knn", "KNNDigits"), "svm": ("svm", "SVMDigits"), "mlp": ("mlp", "MLPDigits"),
          "cnn": ("cnn", "CNNDigits")}


def family_class(family: str) -> type[DigitEstimator]:
    """The estimator class of ``family``, imported now; ``ValueError`` names the ones there are."""
    try:
        module, name = _WHERE[family]
    except KeyError:
        raise ValueError(f"Unknown model family {family!r}; choose one of {', '.join(_WHERE)}.") from None
    cls: type[DigitEstimator] = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    return cls


class _Families(Mapping[str, type[DigitEstimator]]):
    """Family name → estimator class; a class is imported only when looked up."""

    def __getitem__(self, family: str) -> type[DigitEstimator]:
        if family not in _WHERE:
            raise KeyError(family)
        return family_class(family)

    def __iter__(self) -> Iterator[str]:
        return iter(_WHERE)

    def __len__(self) -> int:
        return len(_WHERE)

    def __contains__(self, family: object) -> bool:  # without importing the family
        return family in _WHERE


FAMILIES: Mapping[str, type[DigitEstimator]] = _Families()


def make(family: str, **params: Any) -> DigitEstimator:
    """A new, unfitted estimator of ``family`` with ``params`` overriding its defaults."""
    return family_class(family)(**params)


def __getattr__(name: str) -> type[DigitEstimator]:
    """``from inkdigit.training.families import CNNDigits`` works, importing only that family."""
    for family, (_, cls_name) in _WHERE.items():
        if cls_name == name:
            return family_class(family)
    raise AttributeError(name)


__all__ = ["FAMILIES", "CNNDigits", "DigitEstimator", "KNNDigits", "MLPDigits", "SVMDigits", "family_class", "make"]
