"""Resizing must give Pillow's numbers, since Pillow's filters define preprocessing v1: the matrix
reference always, and ``resize`` itself (compiled where the kernels are built)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inkdigit.engine import resample


def _pillow(a: np.ndarray, width: int, height: int, bilinear: bool) -> np.ndarray:
    method = Image.Resampling.BILINEAR if bilinear else Image.Resampling.BOX
    return np.asarray(Image.fromarray(a).resize((width, height), method), dtype=np.float32)


@pytest.mark.parametrize("fn", [resample.resize, resample.resize_reference], ids=["resize", "reference"])
@pytest.mark.parametrize("seed", range(4))
def test_matches_pillow_box_and_bilinear(seed: int, fn) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 160, 2))
        a = (rng.random((h, w), dtype=np.float32) * (rng.random((h, w)) > 0.5)).astype(np.float32)
        side = int(rng.choice([64, 28, 20, 5, 1]))
        scale = side / max(h, w)
        width, height = max(1, round(w * scale)), max(1, round(h * scale))
        if rng.random() < 0.2:  # arbitrary targets too, growing one axis and shrinking the other
            width, height = (int(v) for v in rng.integers(1, 90, 2))
        bilinear = not (width <= w and height <= h)
        got = fn(a, width, height, bilinear)
        assert got.dtype == np.float32 and got.shape == (height, width)
        np.testing.assert_allclose(got, _pillow(a, width, height, bilinear), atol=3e-7, rtol=0)


def test_box_weights_are_pillows_even_where_a_window_skips_a_pixel() -> None:
    # 223 → 28: two windows are 7 wide, not 8 (Pillow's rounding), so this is no plain block mean
    w = resample.weights(223, 28, bilinear=False)
    assert sorted(set((w > 0).sum(axis=1))) == [7, 8]
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    a = np.random.default_rng(0).random((223, 9), dtype=np.float32)  # small enough for the product
    np.testing.assert_allclose(resample.resize_reference(a, 9, 28, False), _pillow(a, 9, 28, False), atol=3e-7)


@pytest.mark.parametrize("fn", [resample.resize, resample.resize_reference], ids=["resize", "reference"])
def test_same_size_is_a_copy(fn) -> None:
    a = np.ones((5, 7), dtype=np.float32)
    out = fn(a, 7, 5, bilinear=False)
    out[0, 0] = 2
    assert a[0, 0] == 1
