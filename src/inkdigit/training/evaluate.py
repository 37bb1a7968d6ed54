"""Measure a model on a labelled data set: accuracy, per-class figures, confusion matrix.

Evaluation runs the shipped artefact (ONNX through the same :class:`Recognizer` serving uses) on
data prepared by the same preprocessing, so the figures describe what users get. NumPy only.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from inkdigit.engine.recognizer import Recognizer
from inkdigit.training import data
from inkdigit.training.dataset import Prepared, prepare


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10) -> dict[str, Any]:
    """Accuracy, per-class precision / recall (= sensitivity) / specificity / F1 / support, and the
    confusion matrix (rows: truth)."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    tp = np.diag(cm).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(tp / cm.sum(axis=0))
        recall = np.nan_to_num(tp / cm.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
        negatives = cm.sum() - cm.sum(axis=1)  # images of every other class
        specificity = np.nan_to_num((negatives - (cm.sum(axis=0) - tp)) / negatives)
    per_class = {
        str(c): {"precision": round(float(precision[c]), 5), "recall": round(float(recall[c]), 5),
                 "specificity": round(float(specificity[c]), 5), "f1": round(float(f1[c]), 5),
                 "support": int(cm[c].sum())}
        for c in range(n_classes)
    }
    return {"n": int(len(y_true)), "accuracy": round(float(tp.sum() / max(1, len(y_true))), 5),
            "per_class": per_class, "confusion": cm.tolist()}


def evaluate_prepared(rec: Recognizer, prepared: Prepared, batch: int = 1000) -> dict[str, Any]:
    """Metrics of ``rec`` on already-preprocessed images (blank ones count as wrong)."""
    x = prepared.images.astype(np.float32) / 255.0
    start = time.perf_counter()
    parts = [rec.scores(x[i: i + batch]) for i in range(0, len(x), batch)]
    probs = np.concatenate([p for p, _ in parts])
    gate = None if not parts or parts[0][1] is None else np.concatenate([g for _, g in parts if g is not None])
    elapsed = time.perf_counter() - start
    blank = x.reshape(len(x), -1).max(axis=1) == 0
    # an image preprocessing found blank was not read at all: count it as a wrong answer
    pred = np.where(blank, (prepared.labels + 1) % 10, probs.argmax(axis=1))
    metrics = classification_metrics(prepared.labels, pred)
    conf = probs.max(axis=1)
    metrics["mean_confidence"] = round(float(conf.mean()), 5)
    metrics["rejected_below_min_confidence"] = int((conf < rec.min_confidence).sum())
    # everything the card's rule calls "not a digit": below the confidence or (if any) the gate threshold
    metrics["rejected"] = int((~rec.accepts(probs, gate, images=x) & ~blank).sum())
    metrics["blank_after_preprocessing"] = int(blank.sum())
    metrics["inference_ms_per_image"] = round(elapsed / max(1, len(x)) * 1000, 4)
    return metrics


def evaluate(rec: Recognizer, dataset: data.DatasetName, root: str | None = None,
             limit: int | None = None) -> dict[str, Any]:
    """Metrics of ``rec`` on the test split of ``dataset`` (first ``limit`` images if given)."""
    prepared = prepare(dataset, "test", root, rec.preprocess_config, limit)
    return {"model": rec.name, "dataset": dataset, **evaluate_prepared(rec, prepared)}
