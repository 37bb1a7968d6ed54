"""Test numbers: 2–10 test digits of a public set laid out as people write a number.

Each digit's skeleton is traced into pen strokes (as the canvas renderings do) and the digits are
set on one line the way a hand writes them: sizes that vary by ±12 %, baselines that wander by
±6 % of the height, one slant for the whole line, and gaps from a hair to a whole digit wide. In
the ``touching`` renderings one neighbouring pair is pushed together until their strokes touch; in the
``pen-lifts`` ones the pen is lifted at some of the places where a digit's strokes meet. The
line is then drawn on a wide canvas (antialiased round pen, any colour, opaque or transparent) or
photographed on paper (the single-digit photo's paper, light, noise, blur and JPEG). Renderings
never see labels: the caller keeps the digits' labels as the expected text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from inkdigit.training.robustness.canvas import (
    _DARK_GROUNDS,
    _DARK_INKS,
    _LIGHT_GROUNDS,
    _LIGHT_INKS,
    _coverage,
    pen_lifts,
    trace_strokes,
)
from inkdigit.training.robustness.common import encode_jpeg, encode_png
from inkdigit.training.robustness.photo import _BLACK_INKS, _BLUE_INKS, HEIGHT, WIDTH, _paper

#: one rendering of a number: (its digits, each (H, W) in [0, 1] ink bright; a generator) → bytes
NumberRender = Callable[[list[np.ndarray], np.random.Generator], bytes]


@dataclass(frozen=True)
class Layout:
    """How the digits are set: gap range (× digit height), whether one pair touches, and whether
    the pen is lifted where strokes meet (see :func:`pen_lifts`). ``only``: draw that digit alone,
    everything else as with all of them (the same generator state gives the same line, paper and
    noise), which is how training code learns whose ink each pixel of a touching pair is."""

    gap: tuple[float, float] = (0.08, 0.6)
    touching: bool = False
    lifts: bool = False
    only: int | None = None


def _line_strokes(digits: list[np.ndarray], rng: np.random.Generator, layout: Layout,
                  pen: float) -> list[list[np.ndarray]]:
    """Each digit's strokes placed on the line, in units of the nominal digit height (y down).
    Gaps are measured between the slanted digits' extents plus the pen's width (in units), so
    digits of a ``touching=False`` layout never touch."""
    slant = float(rng.uniform(-0.25, 0.25))
    placed: list[list[np.ndarray]] = []
    x = 0.0
    for digit in digits:
        strokes = trace_strokes(digit)
        if not strokes:
            continue
        if layout.lifts:
            strokes = pen_lifts(strokes, rng, pen)
        size = float(rng.uniform(0.88, 1.12))
        base = float(rng.uniform(-0.06, 0.06))
        moved = [_slanted(s * size + np.array([0.0, 1.0 - size + base]), slant) for s in strokes]
        every = np.concatenate(moved)[:, 0]
        placed.append([s + np.array([x - every.min(), 0.0]) for s in moved])
        x += float(every.max() - every.min()) + float(rng.uniform(*layout.gap)) + pen
    return placed


def _slanted(s: np.ndarray, slant: float) -> np.ndarray:
    """Points sheared by ``slant`` about the line's middle (a forward slant leans tops right)."""
    out = s.copy()
    out[:, 0] += slant * (0.5 - s[:, 1])
    return out


def _masks(placed: list[list[np.ndarray]], unit: float, pen: float, pad: float) -> tuple[list[np.ndarray], int, int]:
    every = np.concatenate([np.concatenate(d) for d in placed])
    low, high = every.min(axis=0), every.max(axis=0)
    width = int(np.ceil((high[0] - low[0]) * unit + 2 * pad))
    height = int(np.ceil((high[1] - low[1]) * unit + 2 * pad))
    offset = np.array([pad, pad]) - low * unit
    return [_coverage([offset + s * unit for s in d], width, height, pen) for d in placed], width, height


def _touch(placed: list[list[np.ndarray]], k: int, unit: float, pen: float) -> None:
    """Move digits k+1… left until digit k+1's ink touches digit k's (a pixel of overlap)."""
    pair = [placed[k], placed[k + 1]]
    masks, _, _ = _masks(pair, unit, pen, pen)
    a, b = masks[0] > 96, masks[1] > 96
    rows = np.flatnonzero(a.any(axis=1) & b.any(axis=1))
    if rows.size:
        right_of_a = np.array([np.flatnonzero(a[r])[-1] for r in rows])
        left_of_b = np.array([np.flatnonzero(b[r])[0] for r in rows])
        gap_px = float((left_of_b - right_of_a).min()) + 1.5
    else:  # no row holds both: close the gap between their extents
        gap_px = float(np.flatnonzero(b.any(axis=0))[0] - np.flatnonzero(a.any(axis=0))[-1]) + 1.5
    move = np.array([gap_px / unit, 0.0])
    for d in placed[k + 1:]:
        for i in range(len(d)):
            d[i] = d[i] - move


def line_coverage(digits: list[np.ndarray], rng: np.random.Generator, layout: Layout,
                  unit: float, pen: float) -> np.ndarray:
    """uint8 coverage of the number drawn with a ``pen``-px pen, digits ``unit`` px high."""
    placed = _line_strokes(digits, rng, layout, pen / unit)
    if layout.touching and len(placed) >= 2:
        _touch(placed, int(rng.integers(0, len(placed) - 1)), unit, pen)
    masks, _, _ = _masks(placed, unit, pen, pen)
    if layout.only is None:
        return np.maximum.reduce(masks)
    # a digit with no strokes to trace is not on the line: drawn alone, it is nothing
    return masks[layout.only] if layout.only < len(masks) else np.zeros_like(masks[0])


def render_canvas(digits: list[np.ndarray], rng: np.random.Generator, layout: Layout = Layout()) -> bytes:
    """The number drawn on a wide browser canvas and exported as PNG."""
    unit = float(rng.uniform(60, 160))
    pen = float(np.clip(rng.uniform(3, 24), 0.05 * unit, 0.18 * unit))
    cover = line_coverage(digits, rng, layout, unit, pen)
    h, w = cover.shape
    margin_x, margin_y = int(rng.integers(10, 120)), int(rng.integers(10, 80))
    canvas = np.zeros((h + 2 * margin_y, w + 2 * margin_x), np.uint8)
    canvas[margin_y:margin_y + h, margin_x:margin_x + w] = cover
    dark = bool(rng.integers(2))
    inks = _DARK_INKS if dark else _LIGHT_INKS
    ink = np.array(inks[int(rng.integers(len(inks)))], np.float32)
    if rng.random() < 0.5:  # transparent: ink colour where painted, alpha the coverage
        out = np.zeros((*canvas.shape, 4), np.uint8)
        out[canvas > 0, :3] = ink.astype(np.uint8)
        out[..., 3] = canvas
        return encode_png(out)
    grounds = _LIGHT_GROUNDS if dark else _DARK_GROUNDS
    ground = np.array(grounds[int(rng.integers(len(grounds)))], np.float32)
    a = canvas.astype(np.float32)[..., None] / 255
    return encode_png(np.rint(ground + (ink - ground) * a).astype(np.uint8))


def render_photo(digits: list[np.ndarray], rng: np.random.Generator, layout: Layout = Layout()) -> bytes:
    """The number written on paper and photographed (640×480 JPEG)."""
    drawn = line_coverage(digits, rng, layout, 100.0, float(rng.uniform(6, 14))).astype(np.float32) / 255
    h, w = drawn.shape
    scale = min(rng.uniform(0.12, 0.35) * HEIGHT / h, 0.92 * WIDTH / w)
    cover = cv2.resize(drawn, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    h, w = cover.shape
    top, left = int(rng.integers(4, max(5, HEIGHT - h - 4))), int(rng.integers(4, max(5, WIDTH - w - 4)))
    coverage = np.zeros((HEIGHT, WIDTH), np.float32)
    coverage[top:top + h, left:left + w] = cover
    inks = _BLUE_INKS if rng.random() < 0.4 else _BLACK_INKS
    colour = np.array(inks[int(rng.integers(len(inks)))], np.float32)
    opacity = coverage * rng.uniform(0.85, 1.0)
    image = _paper(rng) * (1.0 - opacity[..., None]) + colour * opacity[..., None]
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.2))
    image += rng.normal(0.0, rng.uniform(0.008, 0.03), size=image.shape).astype(np.float32)
    return encode_jpeg(np.clip(image, 0.0, 1.0), int(rng.integers(60, 91)))


def drawn_apart(render: Callable[[list[np.ndarray], np.random.Generator, Layout], bytes], digits: list[np.ndarray],
                rng: np.random.Generator, layout: Layout) -> list[bytes]:
    """The number drawn whole, then each digit alone where it stands on that line (``Layout.only``),
    every drawing from ``rng``'s present state, so the same line, paper and noise; ``rng`` moves
    on as after one drawing. Why: which pixel is whose ink is known only so."""
    state = rng.bit_generator.state
    out = []
    for only in (None, *range(len(digits))):
        again = np.random.Generator(type(rng.bit_generator)())
        again.bit_generator.state = state
        out.append(render(digits, again, replace(layout, only=only)))
    rng.bit_generator.state = again.bit_generator.state
    return out


#: the number renderings by name (the benchmark prefixes "numbers/")
RENDERINGS: dict[str, NumberRender] = {
    "canvas": lambda d, rng: render_canvas(d, rng, Layout()),
    "canvas-touching": lambda d, rng: render_canvas(d, rng, Layout(touching=True)),
    "photo": lambda d, rng: render_photo(d, rng, Layout()),
    "photo-touching": lambda d, rng: render_photo(d, rng, Layout(touching=True)),
    "canvas-pen-lifts": lambda d, rng: render_canvas(d, rng, Layout(lifts=True)),
    "photo-pen-lifts": lambda d, rng: render_photo(d, rng, Layout(lifts=True)),
}
