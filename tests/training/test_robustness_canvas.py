"""Canvas renderings: real test digits redrawn as browser-canvas strokes, and still readable."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from inkdigit.training.robustness.canvas import RENDERINGS, digit_box, draw_canvas, trace_strokes

# the documented (canvas side, digit height as a fraction of it) of each rendering
SIZES = {name: ((280, 1120), (0.3, 0.9)) for name in
         ("opaque-dark-ink", "opaque-light-ink", "transparent-dark-ink", "transparent-light-ink")}
SIZES["thin-pen"] = ((840, 1120), (0.5, 0.9))
SIZES["thick-brush"] = ((280, 560), (0.3, 0.6))


@pytest.fixture(scope="module")
def digits(mnist_test) -> tuple[np.ndarray, np.ndarray]:
    """The first 40 MNIST test digits as the suite hands them over: float32 in [0, 1], ink bright."""
    return mnist_test.images[:40].astype(np.float32) / 255.0, mnist_test.labels[:40]


def _decode(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    img.load()
    return img


def _ink(img: Image.Image) -> np.ndarray:
    """Where the ink is (alpha if transparent, else distance from the corner's colour), as a mask."""
    a = np.asarray(img).astype(np.int32)
    if img.mode == "RGBA" and a[..., 3].min() < 255:
        return a[..., 3] > 127
    return np.abs(a[..., :3] - a[0, 0, :3]).max(axis=-1) > 100


def _height(mask: np.ndarray) -> int:
    rows = np.flatnonzero(mask.any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_each_rendering_is_a_png_of_the_documented_size_mode_and_ink(name: str, digits) -> None:
    (lo_side, hi_side), (lo_frac, hi_frac) = SIZES[name]
    for i, digit in enumerate(digits[0][:6]):
        img = _decode(RENDERINGS[name](digit, np.random.default_rng(i)))
        assert img.width == img.height and lo_side <= img.width <= hi_side
        a = np.asarray(img)
        if name.startswith("transparent"):
            assert img.mode == "RGBA"
            clear = a[..., 3] == 0
            assert clear.mean() > 0.5 and (a[..., 3] == 255).any()
            assert not a[clear, :3].any(), "unpainted canvas pixels export as (0, 0, 0, 0)"
            painted = a[a[..., 3] > 0, :3].mean()
            assert (painted < 90) if "dark-ink" in name else (painted > 200)
        elif name.startswith("opaque"):
            assert img.mode in ("RGB", "RGBA")
            assert img.mode == "RGB" or (a[..., 3] == 255).all()
            ground = a[0, 0, :3].mean()
            assert (ground > 200) if "dark-ink" in name else (ground < 60)
        frac = _height(_ink(img)) / img.height
        assert lo_frac - 0.1 <= frac <= hi_frac + 0.05, (i, frac)


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_renderings_are_deterministic_for_a_seed_and_vary_across_seeds(name: str, digits) -> None:
    digit = digits[0][0]
    first = RENDERINGS[name](digit, np.random.default_rng(7))
    assert RENDERINGS[name](digit, np.random.default_rng(7)) == first
    assert RENDERINGS[name](digit, np.random.default_rng(8)) != first


@pytest.mark.parametrize("frac", [0.3, 0.6, 0.9])
def test_the_ink_is_the_requested_height_and_stays_inside_wherever_it_is_put(frac: float, digits) -> None:
    strokes = trace_strokes(digits[0][2])  # a 1: tall and narrow, so its height is never narrowed
    for centre in ((0.0, 0.0), (300.0, 300.0), (600.0, 600.0)):
        rgba = draw_canvas(strokes, 600, 12.0, frac, centre, True, True)
        ink = rgba[..., 3] > 127
        assert abs(_height(ink) / 600 - frac) <= 0.1 * frac
        w, h = digit_box(strokes, 600, 12.0, frac)
        assert w < h and ink.any(axis=0).sum() <= w + 2


def test_strokes_have_the_pen_width_round_caps_and_antialiased_edges() -> None:
    gray = draw_canvas([np.array([[0.0, 0.0], [0.0, 1.0]])], 300, 20.0, 0.8, (150.3, 150), True, False)
    assert gray.shape == (300, 300, 3) and (gray[0, 0] == 255).all()
    row = gray[150, :, 0].astype(np.float64)
    assert abs((255 - row).sum() / 255 - 20.0) < 1.0  # the stroke is 20 px wide
    assert ((row > 20) & (row < 235)).sum() >= 2  # edges are partly covered, not stair-stepped
    ink = gray[..., 0] < 128
    assert abs(_height(ink) - 240) <= 2  # round caps add half the pen at each end, within the height
    top = np.flatnonzero(ink.any(axis=1))[0]
    assert ink[top + 2].sum() < ink[top + 10].sum() <= 20  # the cap narrows towards its end


def test_a_one_traces_as_one_or_two_short_open_strokes_and_a_zero_as_a_closed_loop(mnist_test) -> None:
    images, labels = mnist_test.images[:60].astype(np.float32) / 255.0, mnist_test.labels[:60]
    for digit in images[labels == 1][:4]:
        strokes = trace_strokes(digit)
        assert 1 <= len(strokes) <= 2
        for s in strokes:
            assert s.ndim == 2 and s.shape[1] == 2 and not np.allclose(s[0], s[-1])
        every = np.concatenate(strokes)
        assert every.min() >= 0 and abs(every[:, 1].max() - 1.0) < 1e-9 and every[:, 0].max() < 0.7
    closed = [any(len(s) > 20 and np.allclose(s[0], s[-1]) for s in trace_strokes(d))
              for d in images[labels == 0][:4]]
    assert sum(closed) >= 3, closed  # some people leave a 0 open (the 4th here), most close it
    ring = np.zeros((28, 28), np.uint8)
    cv2.ellipse(ring, (14, 14), (7, 10), 0, 0, 360, 255, 2)
    (loop,) = trace_strokes(ring.astype(np.float32) / 255.0)
    assert np.allclose(loop[0], loop[-1]) and len(loop) > 40


def test_a_blank_digit_draws_an_empty_canvas() -> None:
    assert trace_strokes(np.zeros((28, 28), np.float32)) == []
    img = _decode(RENDERINGS["transparent-dark-ink"](np.zeros((16, 16), np.float32), np.random.default_rng(0)))
    assert not np.asarray(img)[..., 3].any()


def test_usps_sized_digits_trace_too() -> None:
    usps_like = np.zeros((16, 16), np.float32)
    usps_like[3:13, 7:9] = 1.0
    (stroke,) = trace_strokes(usps_like)
    assert stroke[:, 1].max() == pytest.approx(1.0) and stroke[:, 0].max() < 0.2


@pytest.fixture(scope="module")
def recognizer():
    from inkdigit.engine.recognizer import Recognizer
    from inkdigit.engine.store import shipped_dir

    return Recognizer(shipped_dir() / "cnn-v1.json", threads=1)


@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_the_shipped_recognizer_reads_the_drawings(name: str, digits, recognizer) -> None:
    images, labels = digits
    pngs = [RENDERINGS[name](d, np.random.default_rng(100 + i)) for i, d in enumerate(images)]
    read = [recognizer.predict(png).digit for png in pngs]
    accuracy = float(np.mean(np.array([-1 if r is None else r for r in read]) == labels))
    assert accuracy >= 0.8, f"{name}: {accuracy:.2f}"
