"""What every rendering of the robustness suite shares: its signature and the encoders.

A rendering turns one *test* digit, as the data set stores it (ink bright on black, MNIST's 28×28
or USPS's 16×16, float32 in [0, 1]), into the bytes a real user would send: a PNG from a canvas, a
JPEG from a phone, a PNG of a scan. It draws its randomness from the generator it is given only,
so a run is reproducible from its seed. Renderings never see labels.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

#: one rendering: (digit image in [0, 1], ink bright; a seeded generator) → encoded image bytes
Render = Callable[[np.ndarray, np.random.Generator], bytes]


def to_u8(a: np.ndarray) -> np.ndarray:
    """[0, 1] floats → uint8, rounded and clipped."""
    return np.clip(np.rint(np.asarray(a, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def encode_png(a: np.ndarray) -> bytes:
    """PNG of a uint8 (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA array (or [0, 1] floats)."""
    pixels = a if a.dtype == np.uint8 else to_u8(a)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def encode_jpeg(a: np.ndarray, quality: int) -> bytes:
    """JPEG (4:2:0, as phones save) of a uint8 gray or RGB array (or [0, 1] floats)."""
    pixels = a if a.dtype == np.uint8 else to_u8(a)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def upscale(digit: np.ndarray, height: int) -> np.ndarray:
    """The digit image scaled (bicubic, aspect kept) so its side is ``height`` px, in [0, 1]."""
    h, w = digit.shape
    width = max(1, round(w * height / h))
    out = cv2.resize(np.asarray(digit, dtype=np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(out, 0.0, 1.0)
