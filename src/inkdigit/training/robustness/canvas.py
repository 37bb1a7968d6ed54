"""Test digits redrawn as a person drawing in a browser canvas would send them.

A canvas drawing is not a scaled-up scan: its strokes have one constant width (the pen's, from
hairline to fat brush), antialiased edges, round caps and joins, and the digit sits anywhere on a
large surface, in any colour, possibly over a transparent background. To test that honestly each
digit's skeleton is traced into polylines (:func:`trace_strokes`) and redrawn the way a canvas
strokes a path (:func:`draw_canvas`), then exported as PNG. The shape (what the recognizer must
read) comes from the data set; only the pen, the surface and the export vary.
"""

from __future__ import annotations

from collections import defaultdict

import cv2
import numpy as np
from skimage.morphology import skeletonize

from inkdigit.training.robustness.common import Render, encode_png, upscale

TRACE_PX = 112  #: side the digit is traced at: fine enough for smooth strokes, cheap to skeletonize
INK_THRESHOLD = 0.45  #: upscaled ink above this is part of a stroke
MIN_SPUR_PX = 8  #: dead-end branches shorter than this (at TRACE_PX) are skeleton noise
SMOOTH_WINDOW = 7  #: moving-average window (points) that turns pixel staircases into curves
MAX_SUPERSAMPLED_PX = 2304  #: largest supersampled side: drawing a 1120 px canvas stays ~5 ms
_SHIFT = 4  #: fractional bits of the coordinates handed to OpenCV

RGB = tuple[int, int, int]
Pixel = tuple[int, int]
_DARK_INKS: tuple[RGB, ...] = ((0, 0, 0), (17, 17, 17), (34, 34, 34), (51, 51, 51), (30, 58, 138), (17, 24, 39))
_LIGHT_INKS: tuple[RGB, ...] = ((255, 255, 255), (249, 250, 251), (243, 244, 246), (229, 231, 235))
_LIGHT_GROUNDS: tuple[RGB, ...] = ((255, 255, 255), (250, 250, 250), (248, 250, 252), (243, 244, 246))
_DARK_GROUNDS: tuple[RGB, ...] = ((17, 24, 39), (0, 0, 0), (31, 41, 55), (24, 24, 27), (15, 23, 42))


def _adjacency(skeleton: np.ndarray) -> dict[Pixel, list[Pixel]]:
    """8-connected neighbours of each skeleton pixel, without a diagonal step where a 4-connected
    detour exists (so an L-shaped corner is a path, not a triangle of spurious junctions)."""
    pixels = {(int(r), int(c)) for r, c in np.argwhere(skeleton)}
    adj: dict[Pixel, list[Pixel]] = {}
    for r, c in sorted(pixels):
        near: list[Pixel] = []
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                q = (r + dr, c + dc)
                if (dr or dc) and q in pixels and not (
                        dr and dc and ((r + dr, c) in pixels or (r, c + dc) in pixels)):
                    near.append(q)
        adj[(r, c)] = near
    return adj


def _walk_graph(adj: dict[Pixel, list[Pixel]]) -> list[list[Pixel]]:
    """Every edge walked once: paths between key pixels (degree != 2), then the pure cycles."""
    seen: set[tuple[Pixel, Pixel]] = set()

    def mark(a: Pixel, b: Pixel) -> None:
        seen.add((a, b))
        seen.add((b, a))

    def walk(start: Pixel, nxt: Pixel) -> list[Pixel]:
        path, cur = [start, nxt], nxt
        mark(start, nxt)
        while len(adj[cur]) == 2 and cur != start:
            free = [n for n in adj[cur] if (cur, n) not in seen]
            if not free:
                break
            mark(cur, free[0])
            cur = free[0]
            path.append(cur)
        return path

    paths = [[p] for p, near in adj.items() if not near]  # isolated dots
    for only_keys in (True, False):  # the second pass finds the cycles, every pixel of degree 2
        for p, near in adj.items():
            if only_keys and len(near) == 2:
                continue
            paths += [walk(p, n) for n in near if (p, n) not in seen]
    return paths


def _ends(paths: list[list[Pixel]]) -> dict[Pixel, list[int]]:
    ends: dict[Pixel, list[int]] = defaultdict(list)
    for i, path in enumerate(paths):
        if len(path) > 1:
            ends[path[0]].append(i)
            ends[path[-1]].append(i)
    return ends


def _prune(paths: list[list[Pixel]]) -> list[list[Pixel]]:
    """Without spurs (short dead-end branches) and specks, unless nothing else would be left."""
    while True:
        ends = _ends(paths)
        longest = max((len(p) for p in paths), default=0)
        keep = [p for p in paths if len(p) >= MIN_SPUR_PX or len(p) == longest
                or (len(p) > 1 and len(ends[p[0]]) != 1 and len(ends[p[-1]]) != 1)]
        if len(keep) == len(paths):
            return paths
        paths = keep


def _merge(paths: list[list[Pixel]]) -> list[list[Pixel]]:
    """Paths joined through every pixel where exactly two of them meet (left so by pruning)."""
    paths = [list(p) for p in paths]
    merged = True
    while merged:
        merged = False
        for node, ids in _ends(paths).items():
            if len(ids) == 2 and ids[0] != ids[1]:
                a, b = paths[ids[0]], paths[ids[1]]
                a = a if a[-1] == node else a[::-1]
                b = b if b[0] == node else b[::-1]
                paths[ids[0]] = a + b[1:]
                del paths[ids[1]]
                merged = True
                break
    return paths


def _smooth(xy: np.ndarray, closed: bool) -> np.ndarray:
    """Moving average along the path; an open path keeps its ends (where it meets others)."""
    half = SMOOTH_WINDOW // 2
    if len(xy) <= 2 * half + 1:
        return xy
    padded = np.concatenate([xy[-half - 1:-1], xy, xy[1:half + 1]]) if closed else np.pad(
        xy, ((half, half), (0, 0)), mode="edge")
    kernel = np.full(SMOOTH_WINDOW, 1.0 / SMOOTH_WINDOW)
    out = np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in (0, 1)], axis=1)
    if closed:
        out[-1] = out[0]
    else:
        out[0], out[-1] = xy[0], xy[-1]
    return out


def trace_strokes(digit: np.ndarray) -> list[np.ndarray]:
    """The digit's centre lines as polylines: float (n, 2) arrays of (x, y), top-left at (0, 0),
    in units of the digit's height (aspect kept; a flat digit's unit is at least a quarter of its
    width). A closed loop (a 0's) repeats its first point last; a dot is a single point. A blank
    digit gives no strokes. ``digit`` is as the data set stores it: (H, W) in [0, 1], ink bright.
    """
    big = cv2.GaussianBlur(upscale(digit, TRACE_PX), (0, 0), 1.5)
    skeleton = skeletonize(big > INK_THRESHOLD)
    paths = _merge(_prune(_walk_graph(_adjacency(skeleton))))
    if not paths:
        return []
    lines = [_smooth(np.array([(c, r) for r, c in p], dtype=np.float64), len(p) > 2 and p[0] == p[-1])
             for p in paths]
    every = np.concatenate(lines)
    low, high = every.min(axis=0), every.max(axis=0)
    unit = max(float(high[1] - low[1]), float(high[0] - low[0]) / 4, 1.0)
    return [(line - low) / unit for line in lines]


def digit_box(strokes: list[np.ndarray], canvas: int, stroke_px: float, digit_frac: float) -> tuple[float, float]:
    """(width, height) in px of the ink :func:`draw_canvas` draws: ``digit_frac`` of the canvas high,
    stroke included, narrowed if needed so that it fits the canvas."""
    if not strokes:
        return 0.0, 0.0
    extent = np.concatenate(strokes).max(axis=0)
    scale = max(0.0, digit_frac * canvas - stroke_px) / max(float(extent[1]), 1e-9)
    if extent[0] > 0:
        scale = min(scale, max(0.0, canvas - stroke_px) / float(extent[0]))
    return float(extent[0]) * scale + stroke_px, float(extent[1]) * scale + stroke_px


def _coverage(lines: list[np.ndarray], width: int, height: int, stroke_px: float) -> np.ndarray:
    """uint8 ink coverage of a ``width`` × ``height`` px box: ``lines`` (x, y in px; pixel i spans
    [i, i + 1)) stroked ``stroke_px`` wide with round caps and joins, supersampled then averaged.

    OpenCV draws a thick line a whole, odd number of pixels wide (``thickness + 1``, an odd
    ``thickness`` drawing like the next even one), and averages down fast only by whole factors.
    So the supersampled pen is drawn at the odd widths either side of its true width and the two
    blended: the pixels along the edges get the fraction the true width covers of them.
    """
    f = max(1, min(4, MAX_SUPERSAMPLED_PX // max(width, height, 1)))
    pen = stroke_px * f
    narrow = max(1, 2 * int((pen - 1) / 2) + 1)  # the odd width at or just below the pen's
    wide_part = float(np.clip((pen - narrow) / 2, 0.0, 1.0))
    pts = [np.rint((line * f - 0.5) * (1 << _SHIFT)).astype(np.int32) for line in lines]  # fixed point

    def stroke(odd_width: int) -> np.ndarray:
        mask = np.zeros((height * f, width * f), dtype=np.uint8)
        for p in pts:
            if len(p) == 1:
                cv2.circle(mask, (int(p[0, 0]), int(p[0, 1])), round((pen - 1) / 2 * (1 << _SHIFT)), 255, -1,
                           cv2.LINE_8, _SHIFT)
            else:  # OpenCV's thick segments have round ends, so consecutive ones join round
                cv2.polylines(mask, [p.reshape(-1, 1, 2)], False, 255, max(1, odd_width - 1), cv2.LINE_8, _SHIFT)
        return mask

    mask = stroke(narrow)
    if wide_part > 0.02:
        mask = cv2.addWeighted(mask, 1.0 - wide_part, stroke(narrow + 2), wide_part, 0.0)
    return mask if f == 1 else cv2.resize(mask, (width, height), interpolation=cv2.INTER_AREA)


def draw_canvas(strokes: list[np.ndarray], canvas: int, stroke_px: float, digit_frac: float,
                centre: tuple[float, float], dark_ink: bool, transparent: bool, *,
                ink: RGB | None = None, ground: RGB | None = None, opaque_alpha: bool = False) -> np.ndarray:
    """``strokes`` (from :func:`trace_strokes`) stroked on a ``canvas``-px square as a browser does.

    The ink is ``digit_frac`` of the canvas high (stroke width included), centred on ``centre``
    (x, y in px) but moved if needed to lie fully inside. Strokes are ``stroke_px`` wide with round
    caps and joins, antialiased by supersampling. ``transparent``: uint8 RGBA, ink colour where any
    ink covers a pixel, alpha the coverage, every other pixel (0, 0, 0, 0), like a canvas export with
    nothing painted behind the strokes. Otherwise uint8 RGB (RGBA with alpha 255 if
    ``opaque_alpha``) blended over ``ground``. ``ink`` defaults to black (``dark_ink``) or white,
    ``ground`` to white or the dark grey-blue #111827 of a dark-themed page.
    """
    ink = ink or ((0, 0, 0) if dark_ink else (255, 255, 255))
    ground = ground or ((255, 255, 255) if dark_ink else (17, 24, 39))
    out = np.zeros((canvas, canvas, 4 if transparent else 3), np.uint8)
    if not transparent:  # one row, broadcast down: numpy fills a whole image from a tuple slowly
        out[:] = np.tile(np.array(ground, np.uint8), canvas).reshape(canvas, 3)
    box_w, box_h = digit_box(strokes, canvas, stroke_px, digit_frac)
    if strokes and box_h > 0:
        _paint(out, strokes, stroke_px, (box_w, box_h), centre, ink, ground)
    return cv2.cvtColor(out, cv2.COLOR_RGB2RGBA) if opaque_alpha and not transparent else out


def _paint(out: np.ndarray, strokes: list[np.ndarray], stroke_px: float, size: tuple[float, float],
           centre: tuple[float, float], ink: RGB, ground: RGB) -> None:
    """The strokes painted into ``out`` (RGB over ``ground``, or RGBA), at ``size`` px (stroke
    included) around ``centre``, moved as little as needed to lie inside."""
    canvas, (box_w, box_h) = out.shape[0], size
    scale = (box_h - stroke_px) / max(float(np.concatenate(strokes)[:, 1].max()), 1e-9)
    x0 = max(0.0, min(centre[0] - box_w / 2, canvas - box_w))  # the outer max: rounding
    y0 = max(0.0, min(centre[1] - box_h / 2, canvas - box_h))
    bx, by = int(np.floor(x0)), int(np.floor(y0))
    bw, bh = min(canvas, int(np.ceil(x0 + box_w))) - bx, min(canvas, int(np.ceil(y0 + box_h))) - by
    offset = np.array([x0 - bx + stroke_px / 2, y0 - by + stroke_px / 2])
    cover = _coverage([offset + line * scale for line in strokes], bw, bh, stroke_px)
    box = out[by:by + bh, bx:bx + bw]  # everything outside is untouched ground
    if out.shape[2] == 4:  # a canvas stores premultiplied colour; its export un-premultiplies to the ink
        box[cover > 0, :3] = ink
        box[..., 3] = cover
    else:  # ground + (ink - ground) * coverage, looked up per channel
        a = np.arange(256, dtype=np.float64)[:, None] / 255
        ground_, ink_ = np.array(ground, np.float64), np.array(ink, np.float64)
        lut = np.rint(ground_ + (ink_ - ground_) * a).astype(np.uint8).reshape(1, 256, 3)
        box[...] = cv2.LUT(cv2.merge([cover, cover, cover]), lut)


#: with pen lifts (:func:`pen_lifts`), each stroke end that meets another stroke is pulled back with this chance ...
LIFT_CHANCE = 0.5
#: ... leaving this gap (× digit height) between the pen's edges
LIFT_GAP = (0.02, 0.06)


def pen_lifts(strokes: list[np.ndarray], rng: np.random.Generator, pen: float) -> list[np.ndarray]:
    """The digit written with the pen lifted at some of the places where its strokes meet: a 4's
    stem apart from its bar, a 5's flag off its body, a 7's bar short of its stem. Each stroke end
    that lies on another stroke is pulled back along its stroke, with chance ``LIFT_CHANCE``, by
    ``LIFT_GAP`` beyond the ``pen`` width (both in units of the digit height): a visible gap where
    strokes meet at a wide angle (where they meet at a shallow one, the ends may still touch); a
    stroke too short to lose three such gaps stays whole. The strokes given are left as they were.
    Why: traced digits are one connected skeleton, while a hand lifts the pen inside digits, and a
    number reader must join the pieces again (the numbers issue names a 5 or a 4 in two strokes and
    a 7 with a detached bar)."""
    out = []
    for i, s in enumerate(strokes):
        for end in (0, -1):
            point = s[end]
            meets = any(np.min(np.linalg.norm(t - point, axis=1)) < 1e-6 for j, t in enumerate(strokes) if j != i)
            if len(s) < 3 or not meets or rng.random() >= LIFT_CHANCE:
                continue
            gap = pen + float(rng.uniform(*LIFT_GAP))
            path = s if end == 0 else s[::-1]
            along = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
            if along[-1] <= 3 * gap:
                continue
            path = path[along >= gap]
            s = path if end == 0 else path[::-1]
        out.append(s)
    return out


def _pick(rng: np.random.Generator, options: tuple[RGB, ...]) -> RGB:
    return options[int(rng.integers(len(options)))]


def _render(digit: np.ndarray, rng: np.random.Generator, *, dark_ink: bool | None, transparent: bool | None,
            canvas: tuple[int, int], frac: tuple[float, float], stroke: tuple[float, float],
            stroke_frac: tuple[float, float]) -> bytes:
    """One random canvas drawing: side, size, place, pen (clamped to ``stroke_frac`` of the digit's
    height, as a legible hand keeps it) and colours drawn from ``rng``; None style choices are drawn too."""
    return render_strokes(trace_strokes(digit), rng, dark_ink=dark_ink, transparent=transparent, canvas=canvas,
                          frac=frac, stroke=stroke, stroke_frac=stroke_frac)


def render_strokes(strokes: list[np.ndarray], rng: np.random.Generator, *, dark_ink: bool | None = None,
                   transparent: bool | None = None, canvas: tuple[int, int] = (280, 1120),
                   frac: tuple[float, float] = (0.3, 0.9), stroke: tuple[float, float] = (3.0, 30.0),
                   stroke_frac: tuple[float, float] = (0.03, 0.2), lifts: bool = False) -> bytes:
    """:func:`_render` for strokes already traced (or drawn: training's writing-style variants),
    in units of the digit's height. ``lifts``: the pen is lifted where strokes meet
    (:func:`pen_lifts`, the gaps measured against this drawing's pen); without it no extra random
    number is drawn, so a drawing is the same as before lifts existed."""
    side = int(rng.integers(canvas[0], canvas[1] + 1))
    digit_frac = float(rng.uniform(*frac))
    height = digit_frac * side
    pen = float(np.clip(rng.uniform(*stroke), stroke_frac[0] * height, stroke_frac[1] * height))
    if lifts and strokes:
        extent = max(float(np.concatenate(strokes)[:, 1].max()), 1e-9)
        strokes = pen_lifts(strokes, rng, pen * extent / max(height - pen, 1e-9))
    dark = bool(rng.integers(2)) if dark_ink is None else dark_ink
    clear = bool(rng.integers(2)) if transparent is None else transparent
    ink = _pick(rng, _DARK_INKS if dark else _LIGHT_INKS)
    ground = _pick(rng, _LIGHT_GROUNDS if dark else _DARK_GROUNDS)
    opaque_alpha = bool(rng.integers(2))  # browsers export RGBA even when opaque; other apps RGB
    w, h = digit_box(strokes, side, pen, digit_frac)
    centre = (float(rng.uniform(w / 2, max(w / 2, side - w / 2))), float(rng.uniform(h / 2, max(h / 2, side - h / 2))))
    return encode_png(draw_canvas(strokes, side, pen, digit_frac, centre, dark, clear,
                                  ink=ink, ground=ground, opaque_alpha=opaque_alpha))


def _style(dark_ink: bool | None, transparent: bool | None, canvas: tuple[int, int] = (280, 1120),
           frac: tuple[float, float] = (0.3, 0.9), stroke: tuple[float, float] = (3.0, 30.0),
           stroke_frac: tuple[float, float] = (0.03, 0.2)) -> Render:
    def render(digit: np.ndarray, rng: np.random.Generator) -> bytes:
        return _render(digit, rng, dark_ink=dark_ink, transparent=transparent, canvas=canvas, frac=frac,
                       stroke=stroke, stroke_frac=stroke_frac)

    return render


#: the canvas renderings by name (the suite prefixes "canvas/"); the pen renderings draw colours
#: and transparency at random
RENDERINGS: dict[str, Render] = {
    "opaque-dark-ink": _style(dark_ink=True, transparent=False),
    "opaque-light-ink": _style(dark_ink=False, transparent=False),
    "transparent-dark-ink": _style(dark_ink=True, transparent=True),
    "transparent-light-ink": _style(dark_ink=False, transparent=True),
    "thin-pen": _style(None, None, canvas=(840, 1120), frac=(0.5, 0.9), stroke=(3.0, 3.0), stroke_frac=(0.0, 1.0)),
    "thick-brush": _style(None, None, canvas=(280, 560), frac=(0.3, 0.6), stroke=(18.0, 30.0),
                          stroke_frac=(0.0, 0.22)),
}
