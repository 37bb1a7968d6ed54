"""Scans and MNIST-C corruptions: digits as an office scanner or a benchmark would damage them.

Two kinds of rendering live here, each a :data:`~inkdigit.training.robustness.common.Render`:

* **Scans.** ``binarised``: the digit upscaled ×3 (bicubic), thresholded at 0.5 and saved black ink
  on white as a 1-bit PNG, as a document scanner in "black & white" mode writes it. ``speckle``: the
  same scan after a dusty glass: a share U(0.5 %, 1.5 %) of its pixels flipped (salt and pepper)
  and 2–4 square dust blobs of 2–3 px whose corner lies ≥ 6 px from the ink. Both are 3× the
  input's size.
* **MNIST-C** (Mu & Gilmer 2019, github.com/google-research/mnist-c, ``corruptions.py``): the 15
  corruptions of its published benchmark, each at the severity MNIST-C publishes (the default of
  its function), applied at 28×28 in MNIST's convention (white ink on black) and saved as a gray
  PNG. A USPS digit (16×16) is first upsampled to 28×28 (bicubic) so every pixel-size parameter
  keeps MNIST-C's meaning; its renderings are therefore 28×28, not 16×16. Parameters as MNIST-C:
  shot-noise Poisson with λ = 3·x (severity 5); impulse-noise salt and pepper on 17 % of pixels
  (severity 4); glass-blur Gaussian σ 0.7, 2 passes of swapping each inner pixel with probability ½
  with a neighbour at offset in {-1, 0}², Gaussian σ 0.7 again (severity 1); motion-blur radius 10,
  σ 3, angle U(-45°, 45°) (severity 1); shear 0.4 rad, rotate 0.4 rad (both random sign, about the
  centre 13.5, severity 2); scale ×0.7 about the centre (severity 3); translate 3 px on each axis,
  random signs (severity 3); brightness +0.5 on HSV value, i.e. clip(x + 0.5) for a gray image
  (severity 5); stripe inverts columns 0–6 and 21–27; fog adds 3 × a diamond-square plasma map
  (decay 1.4, its 28×28 top-left corner) and rescales (severity 5); spatter (severity 4) pastes
  mud of value 63/255 where a smoothed N(0.65, 0.3) field exceeds 0.65; dotted-line and zigzag
  add MNIST-C's anti-aliased 2.3 px lines; canny-edges is ``skimage.feature.canny`` (σ 1).

Deviations, all of implementation rather than of parameters: MNIST-C's motion blur calls
ImageMagick (Wand), which we lack; :func:`_motion_blur` re-implements ImageMagick's MotionBlurImage
kernel (one-sided Gaussian weights over 2·radius + 1 taps along the angle, edge pixels repeated),
without any gamma handling ImageMagick might apply to gray PNGs. Shear is built with the matrix of the
scikit-image MNIST-C used, ``[[1, -sin s], [0, cos s]]`` (scikit-image has since changed what its
``shear`` means). Salt-and-pepper draws each pixel independently (scikit-image's current method)
rather than a fixed count. Randomness comes from the given generator in a different order than
NumPy's global one, so no image equals a published MNIST-C image; the distributions are the same.
MNIST-C's ``identity`` is left out (it changes nothing). The rest of ``ALL_CORRUPTIONS`` (frost,
snow, pessimal noise, ...) is not in its published benchmark and is not here.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage import feature, filters, transform

from inkdigit.training.robustness.common import Render, encode_png, to_u8, upscale

#: MNIST-C's image side; every corruption works at this size
SIDE = 28
_CENTRE = (SIDE - 1) / 2
Corruption = Callable[[np.ndarray, np.random.Generator], np.ndarray]


# ---------------------------------------------------------------- scans


def _scan_ink(digit: np.ndarray) -> np.ndarray:
    """Where a 1-bit scan of the digit, ×3, has ink (True)."""
    return upscale(digit, 3 * digit.shape[0]) > 0.5


def _encode_bilevel(ink: np.ndarray) -> bytes:
    """A 1-bit PNG, black ink on white paper."""
    buf = io.BytesIO()
    Image.fromarray(~ink).save(buf, format="PNG")  # a bool array becomes mode "1": True is white
    return buf.getvalue()


def binarised(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """A clean black-and-white office scan (deterministic: ``rng`` is unused)."""
    return _encode_bilevel(_scan_ink(digit))


def speckle(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """The office scan of a dusty page: flipped pixels everywhere plus dust blobs off the digit."""
    ink = _scan_ink(digit)
    away = ndimage.distance_transform_edt(~ink) if ink.any() else np.full(ink.shape, np.inf)
    ink ^= rng.random(ink.shape) < rng.uniform(0.005, 0.015)
    h, w = ink.shape
    spots = np.argwhere(away[: h - 3, : w - 3] >= 6)
    for _ in range(int(rng.integers(2, 5)) if len(spots) else 0):
        y, x = spots[rng.integers(len(spots))]
        size = int(rng.integers(2, 4))
        ink[y : y + size, x : x + size] = True
    return _encode_bilevel(ink)


# ---------------------------------------------------------------- MNIST-C helpers


def _native(digit: np.ndarray) -> np.ndarray:
    """The digit as MNIST-C takes it: 28×28 floats in [0, 1], ink bright (a square USPS digit is
    upsampled, bicubic)."""
    x = np.asarray(digit, dtype=np.float64)
    return x if x.shape == (SIDE, SIDE) else upscale(x, SIDE).astype(np.float64)


def _warp(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``x`` resampled (bilinear, black outside) where ``matrix`` maps output (col, row) to input."""
    return np.asarray(transform.warp(x, inverse_map=transform.AffineTransform(matrix=matrix)))


def _about_centre(a: np.ndarray) -> np.ndarray:
    """MNIST-C's affine: the 2×2 map ``a`` with the translation that keeps (13.5, 13.5) fixed."""
    m = np.eye(3)
    m[:2, :2] = a
    m[:2, 2] = _CENTRE * (1 - a.sum(axis=1))
    return m


def _line(c0: float, r0: float, c1: float, r1: float) -> np.ndarray:
    """MNIST-C's ``line_from_points``: a line of log-decaying intensity 2.3 px (vertically) wide."""
    if c1 == c0:
        return np.zeros((SIDE, SIDE))
    cc, rr = np.meshgrid(np.arange(SIDE, dtype=np.float64), np.arange(SIDE, dtype=np.float64), sparse=True)
    dist = np.clip(np.abs(rr - ((r1 - r0) / (c1 - c0) * (cc - c0) + r0)), 0, 2.3 - 1e-10)
    out = np.clip(np.log(1 - dist / 2.3) + 1, 0, 1)
    out[:, : max(0, int(np.floor(c0)))] = 0
    out[:, int(np.ceil(c1)) :] = 0
    return out


def _plasma_fractal(rng: np.random.Generator, size: int = 256, decay: float = 1.4) -> np.ndarray:
    """The diamond-square height map of ImageNet-C/MNIST-C (its ``wibble * U(-wibble, wibble)``
    quirk kept), in [0, 1]."""
    m = np.zeros((size, size))
    step, wibble = size, 100.0
    while step >= 2:
        half = step // 2
        corners = m[0::step, 0::step]
        squares = corners + np.roll(corners, -1, axis=0)
        squares += np.roll(squares, -1, axis=1)
        m[half::step, half::step] = squares / 4 + wibble * rng.uniform(-wibble, wibble, squares.shape)
        dr, ul = m[half::step, half::step], m[0::step, 0::step]
        lt = dr + np.roll(dr, 1, axis=0) + ul + np.roll(ul, -1, axis=1)
        m[0::step, half::step] = lt / 4 + wibble * rng.uniform(-wibble, wibble, lt.shape)
        tt = dr + np.roll(dr, 1, axis=1) + ul + np.roll(ul, -1, axis=0)
        m[half::step, 0::step] = tt / 4 + wibble * rng.uniform(-wibble, wibble, tt.shape)
        step //= 2
        wibble /= decay
    m -= m.min()
    return m / m.max()


# ---------------------------------------------------------------- MNIST-C corruptions ([0, 1] → [0, 1])


def _shot_noise(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(rng.poisson(x * 3) / 3.0, 0, 1)


def _impulse_noise(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    flipped = rng.random(x.shape) < 0.17
    return np.where(flipped, (rng.random(x.shape) < 0.5).astype(np.float64), x)


def _glass_blur(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    y = (filters.gaussian(x, sigma=0.7) * 255).astype(np.uint8)  # truncated, as MNIST-C's np.uint8
    inner = range(SIDE - 1, 1, -1)
    coins = rng.random((2, len(inner), len(inner))) < 0.5
    steps = rng.integers(-1, 1, size=(2, len(inner), len(inner), 2))
    for it in range(2):
        for i, h in enumerate(inner):
            for j, w in enumerate(inner):
                if coins[it, i, j]:
                    dx, dy = steps[it, i, j]
                    y[h, w], y[h + dy, w + dx] = y[h + dy, w + dx], y[h, w]
    return np.clip(filters.gaussian(y / 255.0, sigma=0.7), 0, 1)


def _motion_blur(x: np.ndarray, rng: np.random.Generator, radius: int = 10, sigma: float = 3.0) -> np.ndarray:
    width = 2 * radius + 1
    taps = np.arange(width)
    kernel = np.exp(-(taps**2) / (2 * sigma**2))
    kernel /= kernel.sum()
    angle = np.deg2rad(rng.uniform(-45, 45))
    dx = np.ceil(taps * np.cos(angle) - 0.5).astype(int)
    dy = np.ceil(taps * np.sin(angle) - 0.5).astype(int)
    padded = np.pad(to_u8(x).astype(np.float64) / 255.0, width, mode="edge")
    h, w = x.shape
    out = sum(k * padded[width + oy : width + oy + h, width + ox : width + ox + w]
              for k, ox, oy in zip(kernel, dx, dy, strict=True))
    return np.clip(np.asarray(out), 0, 1)


def _shear(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    s = 0.4 * rng.choice([-1, 1])
    return _warp(x, _about_centre(np.array([[1.0, -np.sin(s)], [0.0, np.cos(s)]])))


def _rotate(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r = 0.4 * rng.choice([-1, 1])
    return _warp(x, _about_centre(np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])))


def _scale(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _warp(x, _about_centre(np.eye(2) / 0.7))


def _translate(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    m = np.eye(3)
    m[:2, 2] = 3 * rng.choice([-1, 1], size=2)
    return _warp(x, m)


def _brightness(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(x + 0.5, 0, 1)  # HSV value + 0.5: a gray pixel's value is the pixel itself


def _stripe(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    y = x.copy()
    y[:, :7] = 1 - y[:, :7]
    y[:, 21:] = 1 - y[:, 21:]
    return y


def _fog(x: np.ndarray, rng: np.random.Generator, strength: float = 3.0) -> np.ndarray:
    top = float(x.max())
    y = x + strength * _plasma_fractal(rng)[:SIDE, :SIDE]
    return np.clip(y * top / (top + strength), 0, 1)


def _spatter(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    liquid = filters.gaussian(rng.normal(0.65, 0.3, x.shape), sigma=1)
    mask = filters.gaussian((liquid > 0.65).astype(np.float64), sigma=1.5)
    mask[mask < 0.8] = 0
    return np.clip(x * (1 - mask) + 63 / 255 * mask, 0, 1)


def _dotted_line(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r0, r1 = rng.integers(0, 27, size=2)
    line = _line(0, float(r0), 27, float(r1))
    line[:, (np.arange(SIDE) // 2) % 2 == 0] = 0  # every other 2-px run of columns is a gap
    return np.clip(x + line, 0, 1)


def _zigzag(x: np.ndarray, rng: np.random.Generator, a: float = 2.0, b: float = 2.0) -> np.ndarray:
    c0, c1 = 2, 25
    r0 = int(rng.integers(0, 27))
    r1 = r0 + int(rng.integers(-5, 5))
    theta = np.arctan((r1 - r0) / (c1 - c0))
    d = (c1 - c0) / np.cos(theta)
    points = [(0.0, 0.0)]
    r_i = 0.0
    for i in range(int((d - a) // (2 * a)) + 1):
        r_i = (-1) ** i * b
        points.append(((2 * i + 1) * a, r_i))
    max_c = 2 * a * (d // (2 * a))
    if d != max_c:
        points.append((d, r_i / (2 * (d - max_c))))  # MNIST-C's end point, odd as it is
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    cs, rs = rot @ np.array(points).T + np.array([[c0], [r0]])
    y = x.copy()
    for i in range(1, len(cs)):
        y = np.clip(y + _line(cs[i - 1], rs[i - 1], cs[i], rs[i]), 0, 1)
    return y


def _canny_edges(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return feature.canny(x).astype(np.float64)


def _mnist_c(corrupt: Corruption) -> Render:
    """A rendering that applies ``corrupt`` to the digit at 28×28 and saves a gray PNG."""

    def render(digit: np.ndarray, rng: np.random.Generator) -> bytes:
        return encode_png(to_u8(corrupt(_native(digit), rng)))

    render.__name__ = render.__qualname__ = corrupt.__name__.lstrip("_").replace("_", "-")
    render.__doc__ = f"MNIST-C's {corrupt.__name__.lstrip('_')} at its published severity, as a gray PNG."
    return render


#: the corruptions of MNIST-C's published benchmark (less identity), in its order
MNIST_C: dict[str, Corruption] = {
    "shot-noise": _shot_noise, "impulse-noise": _impulse_noise, "glass-blur": _glass_blur,
    "motion-blur": _motion_blur, "shear": _shear, "scale": _scale, "rotate": _rotate,
    "brightness": _brightness, "translate": _translate, "stripe": _stripe, "fog": _fog,
    "spatter": _spatter, "dotted-line": _dotted_line, "zigzag": _zigzag, "canny-edges": _canny_edges,
}

#: every rendering of this family by name (the suite prefixes "scan/")
RENDERINGS: dict[str, Render] = {
    "binarised": binarised,
    "speckle": speckle,
    **{name: _mnist_c(corrupt) for name, corrupt in MNIST_C.items()},
}
