"""``scale/…``: the same digit at another size, as scanners, screenshots and thumbnails deliver it.

A reader is only as good as its answer is independent of the size at which an image arrives: the
same USPS digit read at its native 16×16 and upscaled to 112 px must give the same digit. Each
rendering resizes the test image by an integer factor with one of the three filters image tools
use (nearest: pixel art and screenshots; bilinear: browsers; bicubic: photo editors), in either
polarity (drawn at random per image: scans are dark on light, data sets light on dark). The
``from8`` renderings first reduce the digit alone to 8×8 (:func:`to8`), the blurry block
mosaics of old low-resolution scans, then enlarge it.
"""

from __future__ import annotations

import cv2
import numpy as np

from inkdigit.training.robustness.common import Render, encode_png, to_u8

FILTERS = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}
FACTORS = (2, 4, 8, 16)
FROM8_FACTORS = (4, 8, 14)


def _polarity(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light ink on dark (as stored) or dark ink on light, half the time each."""
    return a if rng.random() < 0.5 else 1.0 - a


def _resized(a: np.ndarray, factor: float, interpolation: int) -> np.ndarray:
    h, w = a.shape
    out = cv2.resize(a.astype(np.float32), (round(w * factor), round(h * factor)), interpolation=interpolation)
    return np.clip(out, 0.0, 1.0)


def to8(digit: np.ndarray) -> np.ndarray:
    """The digit as an 8×8 scan: cropped to its ink, padded square, reduced by area averaging (how
    the UCI / scikit-learn 8×8 digits were made from 32×32 bitmaps of the digit alone)."""
    a = np.asarray(digit, dtype=np.float32)
    ys, xs = np.nonzero(a > 0.1)
    if len(ys):
        a = a[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]
    side = max(a.shape)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - a.shape[0]) // 2, (side - a.shape[1]) // 2
    square[top: top + a.shape[0], left: left + a.shape[1]] = a
    big = cv2.resize(square, (32, 32), interpolation=cv2.INTER_AREA if side > 32 else cv2.INTER_LINEAR)
    return np.asarray(cv2.resize(big, (8, 8), interpolation=cv2.INTER_AREA), dtype=np.float32)


def enlarge(factor: int, interpolation: int, from8: bool = False) -> Render:
    """A rendering that (optionally reduces to 8×8, then) enlarges ×``factor``, random polarity."""

    def render(digit: np.ndarray, rng: np.random.Generator) -> bytes:
        a = to8(digit) if from8 else np.asarray(digit, dtype=np.float32)
        return encode_png(to_u8(_polarity(_resized(a, factor, interpolation), rng)))

    return render


def _native_inverted(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """The stored image as a scan shows it: dark ink on white, at its native size."""
    return encode_png(to_u8(1.0 - np.asarray(digit, dtype=np.float32)))


RENDERINGS: dict[str, Render] = {"native-inverted": _native_inverted}
for _f in FACTORS:
    for _name, _interp in FILTERS.items():
        RENDERINGS[f"x{_f}-{_name}"] = enlarge(_f, _interp)
for _f in FROM8_FACTORS:
    for _name, _interp in FILTERS.items():
        RENDERINGS[f"from8-x{_f}-{_name}"] = enlarge(_f, _interp, from8=True)
