"""The compiled kernels compute what the NumPy / Pillow code they replace computes.

Each kernel is checked against its reference on thousands of random inputs of the shapes
preprocessing feeds it; bit for bit where the arithmetic is the same operations in the same order
(shear, canvas ink, single-pass resize), within one float32 rounding of the intermediate where the
reference itself only approximates Pillow (two-pass resize).
"""

from __future__ import annotations

import shutil
import sysconfig

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from inkdigit.engine import native, preprocess, resample
from inkdigit.engine.imageio import Pixels

kernels = native.kernels


def _c_compiler() -> str | None:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc)


@pytest.mark.skipif(_c_compiler() is None, reason="no C compiler here, so pip installed inkdigit without "
                    "its compiled kernels (a supported install: the engine runs its NumPy code)")
def test_the_kernels_are_built_where_a_compiler_is() -> None:
    assert kernels is not None, (f"a C compiler is at {_c_compiler()}, but inkdigit.engine._kernels did not "
                                 "build: reinstall with `pip install -e .` and read the compiler's errors")


needs_kernels = pytest.mark.skipif(kernels is None, reason="the compiled kernels are not built here")


def _pillow(a: np.ndarray, width: int, height: int, bilinear: bool) -> np.ndarray:
    method = Image.Resampling.BILINEAR if bilinear else Image.Resampling.BOX
    return np.asarray(Image.fromarray(a, "F").resize((width, height), method), dtype=np.float32)


@needs_kernels
@pytest.mark.parametrize("bilinear", [False, True])
def test_resize_along_one_axis_is_pillow_exactly(bilinear: bool) -> None:
    rng = np.random.default_rng(1)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 200, 2))
        a = rng.random((h, w), dtype=np.float32)
        out = int(rng.integers(1, 120))
        for width, height in ((out, h), (w, out)):
            assert np.array_equal(resample.resize(a, width, height, bilinear), _pillow(a, width, height, bilinear))


@needs_kernels
@pytest.mark.parametrize("bilinear", [False, True])
def test_resize_along_both_axes_matches_the_reference(bilinear: bool) -> None:
    rng = np.random.default_rng(2)
    for _ in range(300):
        h, w, height, width = (int(v) for v in rng.integers(1, 200, 4))
        a = rng.random((h, w), dtype=np.float32)
        got = resample.resize(a, width, height, bilinear)
        assert got.shape == (height, width) and got.dtype == np.float32
        np.testing.assert_allclose(got, resample.resize_reference(a, width, height, bilinear), atol=2e-7, rtol=0)
        np.testing.assert_allclose(got, _pillow(a, width, height, bilinear), atol=2e-7, rtol=0)


@needs_kernels
def test_shear_is_the_numpy_shear_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    for i in range(1000):
        h, w = (int(v) for v in rng.integers(1, 80, 2))
        a = (rng.random((h, w), dtype=np.float32) * (rng.random((h, w)) > 0.5)).astype(np.float32)
        alpha, cy = rng.uniform(-0.6, 0.6), rng.uniform(0, h)
        pad = int(np.ceil(abs(alpha) * h / 2)) + 1
        shifts = alpha * np.arange(h) - pad - alpha * cy
        if i % 5 == 0:
            shifts = np.round(shifts)  # whole-pixel shifts: no blending, no zeroed edge samples
        out_w = w + 2 * pad
        got = preprocess._shift_rows(a, shifts, out_w)
        assert got.tobytes() == preprocess._shift_rows_reference(a, shifts, out_w).tobytes()


def _random_alpha(rng: np.random.Generator, i: int) -> np.ndarray:
    h, w = (int(v) for v in rng.integers(8, 300, 2))
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(0, 4))):
        points = [(int(rng.integers(0, w)), int(rng.integers(0, h))) for _ in range(3)]
        draw.line(points, fill=int(rng.integers(1, 256)), width=int(rng.integers(1, 25)))
    if i % 3 == 0:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 3))))
    a = np.asarray(img).copy()
    if i % 5 == 0:  # a faintly opaque ground: noise for the floor to measure
        a = np.maximum(a, rng.integers(0, 30, a.shape).astype(np.uint8))
    if i % 7 == 0:  # mostly opaque: not a transparent canvas, the colours decide
        a = np.where(a > 0, a, 255).astype(np.uint8)
    return a


@needs_kernels
def test_canvas_ink_is_the_numpy_ink_bit_for_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    outcomes = set()
    for i in range(1500):
        alpha = _random_alpha(rng, i)
        px = Pixels(np.zeros((*alpha.shape, 3), dtype=np.uint8), alpha)
        got = preprocess.ink_map(px)
        with monkeypatch.context() as m:
            m.setattr(native, "kernels", None)
            want = preprocess.ink_map(Pixels(np.zeros((*alpha.shape, 3), dtype=np.uint8), alpha))
        if want is None:
            assert got is None
            outcomes.add("blank")
        else:
            assert got is not None and got.dtype == np.float32
            assert got.shape == want.shape and got.tobytes() == want.tobytes()
            outcomes.add("ink")
    assert outcomes == {"blank", "ink"}


@needs_kernels
def test_kernels_refuse_buffers_that_do_not_match_their_shapes() -> None:
    a = np.zeros((4, 5), dtype=np.float32)
    with pytest.raises(ValueError):
        kernels.resize(a, 4, 6, np.empty((2, 2), np.float32), 2, 2, False)
    with pytest.raises(ValueError):
        kernels.shift_rows(a, 4, 5, np.empty((4, 7), np.float32), 7, np.zeros(3))
    with pytest.raises(ValueError):
        kernels.alpha_ink(np.zeros((4, 5), np.uint8), 5, 5, 0.08)
