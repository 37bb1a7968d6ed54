"""Turn engine predictions into response bodies (runs in worker threads, never on the event loop)."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import numpy as np
from PIL import Image

from inkdigit.engine.imageio import Limits
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
    }
    if debug:
        out["stages"] = {name: png_data_url(img) for name, img in p.stages.items()}
    return out


def read_one(rec: Recognizer, data: bytes, top_k: int, debug: bool, limits: Limits) -> dict[str, Any]:
    start = time.perf_counter()
    p = rec.predict(data, stages=debug, limits=limits)
    return body(p, rec.name, top_k, (time.perf_counter() - start) * 1000, debug)
