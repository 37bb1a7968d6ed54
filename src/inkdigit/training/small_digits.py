"""The classic small pipeline: kNN on scikit-learn's bundled 8×8 digits, k by cross-validation.

1,797 images of 8×8 pixels (UCI optical digits), split 75 / 25 stratified; k chosen by 5-fold
cross-validation on the training part only, then measured once on the held-out part. It is here as
the textbook reference point: it needs no download and runs in seconds, but its images are
already centred, cropped and downsampled by the people who made the set, which is exactly the work
that real input needs and that inkdigit's preprocessing does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.neighbors import KNeighborsClassifier

from inkdigit.training.evaluate import classification_metrics


def small_digits_knn(seed: int = 1, k_grid: Sequence[int] = tuple(range(1, 16)), folds: int = 5) -> dict[str, Any]:
    """Choose k by cross-validation, refit, and measure on the held-out quarter."""
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    started = time.perf_counter()
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": list(k_grid)},
                          cv=StratifiedKFold(folds, shuffle=True, random_state=seed)).fit(x_train, y_train)
    fit_seconds = time.perf_counter() - started
    curve = {int(k): round(float(s), 5) for k, s in
             zip(search.cv_results_["param_n_neighbors"], search.cv_results_["mean_test_score"], strict=True)}
    pred = search.predict(x_test)
    return {"dataset": "sklearn load_digits (8×8)", "train_images": len(y_train), "test_images": len(y_test),
            "folds": folds, "cv_curve": curve, "best_k": int(search.best_params_["n_neighbors"]),
            "fit_seconds": round(fit_seconds, 2), "test": classification_metrics(np.asarray(y_test), pred)}
