"""k-nearest neighbours on PCA features, k chosen by cross-validation.

The classic baseline: no training beyond storing the examples, so what it costs is paid at
prediction time (a distance to every stored example) and on disk (every example is in the model).
``max_examples`` keeps a random subset when a smaller, faster model matters more than the last
fraction of a percent.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Self

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier

from inkdigit.training.families.base import Progress, flat, quiet
from inkdigit.training.families.pca import PCAPipelineModel


class KNNDigits(PCAPipelineModel):
    family = "knn"
    output_kind = "probabilities"  # the share of the k neighbours' votes each digit got
    # onnxruntime's fused CDist: ~1 ms per image against 60,000 examples, where the default
    # converter's Scan loop takes ~86 ms
    onnx_options = {"optim": "cdist"}

    def __init__(self, k: int | None = None, k_grid: Sequence[int] = tuple(range(1, 11)), min_k: int = 3,
                 n_components: int | None = 50, cv_folds: int = 3,
                 cv_limit: int | None = 20000, max_examples: int | None = None, seed: int = 1) -> None:
        self.k = k  # None: the best of k_grid by cross-validation
        self.k_grid = tuple(k_grid)
        # the smallest k the served model may use: with 1 or 2 neighbours every answer is certain or
        # a tie, so its confidence would say nothing (the curve still shows every k of the grid)
        self.min_k = min_k
        self.n_components = n_components
        self.cv_folds = cv_folds
        self.cv_limit = cv_limit  # cross-validate on the first N training images (None: all)
        self.max_examples = max_examples
        self.seed = seed

    def fit(self, x: np.ndarray, y: np.ndarray, *, progress: Progress | None = None) -> Self:
        self._check_labels(y)
        report = progress or quiet
        started = time.perf_counter()
        rows = flat(x)
        if self.max_examples is not None and self.max_examples < len(rows):
            keep = np.sort(np.random.default_rng(self.seed).permutation(len(rows))[: self.max_examples])
            rows, y = rows[keep], y[keep]
        self.cv_curve_: dict[int, float] = {}
        # uniform votes: skl2onnx's CDist graph ignores distance weights, and the served model
        # must answer exactly as the fitted one (a round-trip test checks it)
        pipe = self._pipeline("knn", KNeighborsClassifier(weights="uniform"))
        if self.k is None:
            report("cross-validating k", 0, 1, {})
            n = len(rows) if self.cv_limit is None else min(self.cv_limit, len(rows))
            folds = StratifiedKFold(self.cv_folds, shuffle=True, random_state=self.seed)
            search = GridSearchCV(pipe, {"knn__n_neighbors": list(self.k_grid)}, cv=folds, refit=False)
            scores = search.fit(rows[:n], y[:n]).cv_results_["mean_test_score"]
            self.cv_curve_ = {k: round(float(s), 5) for k, s in zip(self.k_grid, scores, strict=True)}
            allowed = [k for k in self.cv_curve_ if k >= self.min_k] or list(self.cv_curve_)
            self.k_ = max(allowed, key=lambda k: (self.cv_curve_[k], -k))
        else:
            self.k_ = self.k
        report("fitting", 0, 1, {})
        pipe.set_params(knn__n_neighbors=self.k_)
        self.pipeline_ = pipe.fit(rows, y)
        report("fitting", 1, 1, {})
        self.train_seconds_ = time.perf_counter() - started
        return self

    def architecture(self) -> dict[str, Any]:
        return {**self._pca_architecture(), "k": int(self.k_), "weights": "uniform",
                "examples": int(self.pipeline_[-1].n_samples_fit_), "cv_curve": self.cv_curve_,
                "output": "share of the k neighbours' votes per digit (N, 10)"}
