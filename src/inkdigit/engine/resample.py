"""Pillow's BOX / BILINEAR resize of a float image, as two small matrix products.

Preprocessing v1 was defined (and the shipped models trained) with ``Image.resize`` on mode-F
images. For the small images preprocessing resizes most often, the work is a few thousand
multiply-adds and Pillow's cost is nearly all per-call overhead (array → image → array): ~45 µs
for 64×50 → 16×20, against ~10 µs here. The weights are Pillow's own (``precompute_coeffs`` in
its ``Resample.c``: the same filter, support, rounding of the window and normalisation), applied
in double precision with the intermediate rounded to float32 between the horizontal and the
vertical pass, as Pillow does; results agree with Pillow's to about 1e-7.

Larger images still go to Pillow: a dense product would do far more work than its banded
filter, and a product that big is where BLAS starts threads.

Where the compiled kernels are built (``native.kernels``) they run Pillow's own loops
instead, for every size: the same numbers as Pillow exactly, with no per-call conversions. The
code below stays as the reference and the fallback.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

from inkdigit.engine import native

# Above this many multiply-adds in one pass, Pillow is cheaper; below it OpenBLAS stays on one
# thread (its threshold is 65536 × GEMM_MULTITHREAD_THRESHOLD, 4 by default).
MAX_PRODUCT = 262_144


# Only the product path asks for weights, so a matrix has at most MAX_PRODUCT entries; with
# preprocessing's sizes (inputs of at most ~1024 a side, fits of 64 or 20) at most ~0.5 MB, and
# usually a few KB (20 × 64 for the final fit).
@lru_cache(maxsize=256)
def weights(in_size: int, out_size: int, bilinear: bool) -> np.ndarray:
    """The (out_size, in_size) matrix of Pillow's resampling weights along one axis."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = (1.0 if bilinear else 0.5) * filterscale
    ksize = int(np.ceil(support)) * 2 + 1
    center = (np.arange(out_size, dtype=np.float64) + 0.5) * scale
    # C's (int) cast truncates toward zero, as astype does
    xmin = np.maximum((center - support + 0.5).astype(np.int64), 0)
    count = np.minimum((center + support + 0.5).astype(np.int64), in_size) - xmin
    k = np.arange(ksize)
    x = (k[None, :] + xmin[:, None] - center[:, None] + 0.5) * (1.0 / filterscale)  # Pillow's rounding
    triangle = np.where(np.abs(x) < 1.0, 1.0 - np.abs(x), 0.0)
    w = triangle if bilinear else np.where((x > -0.5) & (x <= 0.5), 1.0, 0.0)
    w[k[None, :] >= count[:, None]] = 0.0
    total = w.sum(axis=1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total != 0)
    matrix = np.zeros((out_size, in_size), dtype=np.float64)
    rows = np.repeat(np.arange(out_size), ksize)
    cols = (xmin[:, None] + k[None, :]).ravel()
    inside = cols < in_size
    matrix[rows[inside], cols[inside]] = w.ravel()[inside]
    matrix.setflags(write=False)
    return matrix


def resize(a: np.ndarray, width: int, height: int, bilinear: bool) -> np.ndarray:
    """``Image.fromarray(a, "F").resize((width, height), BILINEAR if bilinear else BOX)`` as float32."""
    kernels = native.kernels
    if kernels is not None:
        src = np.ascontiguousarray(a, dtype=np.float32)
        out = np.empty((height, width), dtype=np.float32)
        kernels.resize(src, src.shape[0], src.shape[1], out, height, width, bilinear)
        return out
    return resize_reference(a, width, height, bilinear)


def resize_reference(a: np.ndarray, width: int, height: int, bilinear: bool) -> np.ndarray:
    """:func:`resize` without the compiled kernels."""
    h, w = a.shape
    if max(h * w * width, height * h * width) > MAX_PRODUCT:
        method = Image.Resampling.BILINEAR if bilinear else Image.Resampling.BOX
        img = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32))
        return np.asarray(img.resize((width, height), method), dtype=np.float32)
    out = a.astype(np.float32, copy=False)
    if width != w:  # Pillow skips a pass that keeps its axis's size
        out = (out.astype(np.float64) @ weights(w, width, bilinear).T).astype(np.float32)
    if height != h:
        out = (weights(h, height, bilinear) @ out.astype(np.float64)).astype(np.float32)
    return out if out is not a else out.copy()
