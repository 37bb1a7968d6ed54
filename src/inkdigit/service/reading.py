"""Turn engine predictions into response bodies (runs in worker threads, never on the event loop)."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import numpy as np
from PIL import Image

from inkdigit.engine.preprocess import Preprocessed
from inkdigit.engine.recognizer import Prediction, Recognizer
from inkdigit.service.observability import PREDICTIONS


def png_data_url(stage: np.ndarray) -> str:
    """A preprocessing stage as a PNG data URL (ink white on black, like the model sees it)."""
    buf = io.BytesIO()
    Image.fromarray((np.clip(stage, 0, 1) * 255).astype(np.uint8)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def body(p: Prediction, model: str, top_k: int, elapsed_ms: float, debug: bool) -> dict[str, Any]:
    PREDICTIONS.labels(model, "empty" if p.is_empty else "digit" if p.is_digit else "rejected").inc()
    out: dict[str, Any] = {
        "digit": p.digit, "confidence": round(p.confidence, 6), "is_digit": p.is_digit,
        "is_empty": p.is_empty, "probabilities": [round(x, 6) for x in p.probabilities],
        "top": [] if p.is_empty else [{"digit": d, "confidence": round(c, 6)} for d, c in p.top(top_k)],
        "model": model, "elapsed_ms": round(elapsed_ms, 3),
        "stages": {name: png_data_url(img) for name, img in p.stages.items()} if debug else None,
    }
    return out


def read_many(items: list[tuple[Any, ...]]) -> list[dict[str, Any] | Exception]:
    """Read several single-image requests at once: ``items`` are ``(recognizer, data, top_k, debug,
    limits)``. Each image is preprocessed alone, so whatever fails on one (an ``ImageInputError``
    for a bad file, or anything unforeseen) is returned in its own slot and fails only its own
    request; then each model reads all of its images in one call. ``elapsed_ms`` is an image's
    own preprocessing plus its share of that call."""
    out: list[dict[str, Any] | Exception] = []
    pres: dict[int, Preprocessed] = {}
    spent: dict[int, float] = {}
    groups: dict[Recognizer, list[int]] = {}
    for i, (rec, data, _, debug, limits) in enumerate(items):
        start = time.perf_counter()
        try:
            pres[i] = rec.preprocess(data, stages=debug, limits=limits)
        except Exception as exc:  # handed to its own request, which maps or logs it
            out.append(exc)
            continue
        out.append({})  # filled in below, once its model has read it
        spent[i] = time.perf_counter() - start
        groups.setdefault(rec, []).append(i)
    for rec, members in groups.items():
        start = time.perf_counter()
        predictions = rec.predict_preprocessed([pres[i] for i in members])
        share = (time.perf_counter() - start) / len(members)
        for i, p in zip(members, predictions, strict=True):
            _, _, top_k, debug, _ = items[i]
            out[i] = body(p, rec.name, top_k, (spent[i] + share) * 1000, debug)
    return out
