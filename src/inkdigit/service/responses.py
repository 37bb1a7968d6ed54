"""Response bodies for predictions (built on compute threads, never on the event loop)."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image

from inkdigit.engine.recognizer import Prediction


def png_data_url(stage: np.ndarray) -> str:
    """A preprocessing stage as a PNG data URL (ink white on black, like the model sees it)."""
    buf = io.BytesIO()
    Image.fromarray((np.clip(stage, 0, 1) * 255).astype(np.uint8)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def prediction_body(p: Prediction, model: str, top_k: int, debug: bool) -> dict[str, Any]:
    """The JSON body of one prediction (``PredictResponse`` in the OpenAPI document)."""
    return {
        "digit": p.digit, "confidence": round(p.confidence, 6), "is_digit": p.is_digit,
        "is_empty": p.is_empty, "probabilities": [round(x, 6) for x in p.probabilities],
        "top": [] if p.is_empty else [{"digit": d, "confidence": round(c, 6)} for d, c in p.top(top_k)],
        "model": model, "elapsed_ms": round(p.elapsed_ms, 3),
        "stages": {name: png_data_url(img) for name, img in p.stages.items()} if debug else None,
    }
