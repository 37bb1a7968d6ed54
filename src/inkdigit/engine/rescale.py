"""Preprocessing v3's first step: an enlarged small image is read at the resolution it was made at.

The same 8×8 scan read at 8 px and enlarged ×8 gave different answers under v2 (98.7 % against
89–91 % of MNIST test digits reduced to 8×8, robustness suite): at 64 px, a mosaic whose digit
fills the frame looked like a photo of lit paper, and nearest-neighbour blocks stayed blocky
through the 20 px box. Scale invariance means undoing the enlargement, so two cases are recognised:

* **Nearest-neighbour enlargement** (pixel art, screenshots, most "zoom" tools): every pixel repeats
  in runs along both axes. The run boundaries give the original grid exactly, even for a
  non-integer factor, and the original pixels are read back at the centres of its cells.
* **Smooth enlargement** (bilinear, bicubic, any interpolating filter): the image holds no detail
  finer than the factor. It is reduced by the largest factor (up to :data:`_MAX_SMOOTH`) whose
  reduce-and-enlarge round trip gives it back within :data:`_SMOOTH_TOL` of its range where it is
  inked, and again while that holds, so by construction the reduction loses almost nothing. Only
  a small original (at most :data:`_SMALL` px) is read at its native size: a larger one, such as a
  smooth drawing on a canvas, is read as well at the size it came in, and is left as it is; so is
  an image with sensor noise (a photo or a scan of paper), whose shading needs its resolution.

Only images between :data:`_MIN_SIDE` and :data:`_MAX_SIDE` px on their longer side are examined:
smaller ones are read well at their size (MNIST's 28 px digits are never blocky or that smooth), and
larger ones would make the check costly for little (a canvas export, with transparency, never
reaches it; nor does a 640×480 photo). Preprocessing v4 also asks whether an image is a
thumbnail or an enlargement of one (:func:`native_reading`), looking further than v3 looks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from inkdigit.engine.imageio import Pixels

_MIN_SIDE = 24  # smaller images are read at their size (MNIST is 28 px, USPS 16)
_MAX_SIDE = 512  # larger ones are not examined (cost; no digit scan is enlarged that far)
_MIN_CELLS = 6  # an original narrower than this is not a digit scan
_MAX_SMOOTH = 4  # smooth enlargements are reduced at most this much ...
_SMOOTH_TOL = 0.035  # ... when the round trip's RMS error, where there is ink, is under this × its range
#   (measured by ×2: 8×8 scans enlarged ×8 bilinear 0.009–0.017; canvas drawings 0.087 and more,
#   blurred scans 0.065 and more, MNIST digits at their size 0.17 and more)
_REDUCED_MIN = 16  # and never below this many pixels on the longer side
_NOISELESS = 0.5  # smooth enlargements are only looked for in images this free of noise (see _noiseless)
_LAPLACIAN = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
_SMALL = 48  # a smooth image is only read at its native size if that is at most this large
THUMBNAIL = 12  #: v4: an image at most this large at its native size is a thumbnail (an 8×8 scan)
_THUMB_SIDE = 8  # v4: a smooth enlargement is a thumbnail if it comes back through this many pixels ...
_THUMB_TOL = 0.085  # ... within this × its range where it is inked (see as_thumbnail)
_THUMB_NOISE_SIDE = 32  # v4: an image this small is not checked for noise before the round trip


def _runs(changes: np.ndarray) -> np.ndarray:
    """Lengths of the runs between the positions where ``changes`` (one per pixel pair) is set."""
    cuts = np.concatenate(([0], np.flatnonzero(changes) + 1, [changes.size + 1]))
    return np.diff(cuts)


def _cells(runs: np.ndarray) -> np.ndarray | None:
    """Centres of the original pixels along one axis, from its runs; None unless every run is a
    whole number (one or more) of one cell size of at least 2 px (runs of equal neighbours merge)."""
    inner = runs[1:-1] if runs.size > 2 else runs  # the edge runs may be cut by a crop
    if inner.size == 0 or inner.min() < 2:
        return None
    size = float(inner[inner < 1.5 * inner.min()].mean())
    counts = np.maximum(1, np.rint(runs / size)).astype(np.int64)
    if np.abs(runs - counts * size).max() > 0.5 * size or counts.sum() < _MIN_CELLS:
        return None
    starts = np.concatenate(([0], np.cumsum(runs)[:-1]))
    return np.concatenate([s + (np.arange(c) + 0.5) * (r / c) for s, r, c in zip(starts, runs, counts, strict=True)])


def _unblocked(px: Pixels, key: np.ndarray) -> Pixels | None:
    """``px`` read back at its original grid if it is a nearest-neighbour enlargement, else None."""
    across = _cells(_runs((key[:, 1:] != key[:, :-1]).any(axis=0)))
    if across is None:
        return None
    down = _cells(_runs((key[1:] != key[:-1]).any(axis=1)))
    if down is None:
        return None
    ys, xs = down.astype(np.int64), across.astype(np.int64)

    def pick(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a[ys][:, xs])

    return Pixels(pick(px.color), None if px.alpha is None else pick(px.alpha))


def _round_trip(gray: np.ndarray) -> Callable[[tuple[int, int], int], float] | None:
    """A function giving ``gray``'s error after a reduction to ``size`` (area) and an enlargement
    back (``interpolation``), relative to its range; None for a blank image.

    The error is measured where there is something to see (pixels off the border's colour, before
    or after the round trip) and relative to the image's range, so a small digit on a big blank
    canvas is judged by the digit, not averaged away by the blank."""
    lo, hi = float(gray.min()), float(gray.max())
    span = hi - lo
    if span < 0.05:
        return None
    ground = float(np.median(np.concatenate([gray[0], gray[-1], gray[1:-1, 0], gray[1:-1, -1]])))
    content = np.abs(gray - ground) > 0.05 * span
    h, w = gray.shape

    def error(size: tuple[int, int], interpolation: int) -> float:
        back = cv2.resize(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), (w, h), interpolation=interpolation)
        seen = content | (np.abs(back - ground) > 0.05 * span)
        return float(np.sqrt(np.mean(np.square(back - gray)[seen]))) / span

    return error


def _smooth_factor(gray: np.ndarray) -> int:
    """The largest factor (≤ :data:`_MAX_SMOOTH`) ``gray`` can be reduced by and enlarged back
    almost unchanged (:func:`_round_trip`, bilinear); 1 when there is none."""
    error = _round_trip(gray)
    if error is None:
        return 1
    h, w = gray.shape
    for f in range(_MAX_SMOOTH, 1, -1):
        sw, sh = round(w / f), round(h / f)
        if max(sw, sh) < _REDUCED_MIN or min(sw, sh) < 1:
            continue
        if error((sw, sh), cv2.INTER_LINEAR) <= _SMOOTH_TOL:
            return f
    return 1


def _noiseless(raw: np.ndarray) -> float:
    """The share of flat pixels (no neighbour differing by more than 2 levels a channel) whose
    Laplacian is exactly 0: most of them in a made image (interpolation leaves flat ground and
    straight ramps exact), few in a photo or a scan of paper (sensor noise: 0.06 at 1/255).
    Computed on the sum of the channels, in exact small integers held as float32 (OpenCV's speed)."""
    c = raw.astype(np.float32) if raw.dtype == np.uint8 else np.rint(raw * 255).astype(np.float32)
    channels = 1 if c.ndim == 2 else c.shape[2]
    if channels > 1:
        c = cv2.transform(c, np.ones((1, channels), np.float32))
    lap = cv2.filter2D(c, -1, _LAPLACIAN)[1:-1, 1:-1]
    step = 2 * channels
    flat = (cv2.absdiff(c[1:-1, 2:], c[1:-1, :-2]) <= step) & (cv2.absdiff(c[2:, 1:-1], c[:-2, 1:-1]) <= step)
    n = np.count_nonzero(flat)
    return float(np.count_nonzero(lap[flat] == 0) / n) if n else 0.0


def _gray(color: np.ndarray) -> np.ndarray:
    """The channels' mean (what ``color.mean(axis=2)`` gives, in a third of the time)."""
    if color.ndim == 2:
        return color
    return np.asarray((color[..., 0] + color[..., 1] + color[..., 2]) / np.float32(3), dtype=np.float32)


def at_native_size(px: Pixels) -> Pixels:
    """``px`` at the resolution it was made at: unchanged unless it is an enlargement (see the
    module docstring). Transparency marks a canvas export, which is never an enlargement."""
    return native_reading(px).pixels


def as_thumbnail(px: Pixels) -> Pixels | None:
    """The pixels to read ``px`` at when preprocessing v4 takes it for a thumbnail, else None
    (see :func:`native_reading`)."""
    found = native_reading(px, thumbnails=True)
    return found.pixels if found.thumbnail else None


@dataclass(frozen=True)
class Reading:
    """What to read an image at (:func:`native_reading`), and whether it is a thumbnail."""

    pixels: Pixels
    thumbnail: bool = False


def native_reading(px: Pixels, thumbnails: bool = False) -> Reading:
    """``px`` at the resolution v3 reads it at (:func:`at_native_size`), and with ``thumbnails``
    (preprocessing v4) whether it is a thumbnail: at most :data:`THUMBNAIL` px, an 8×8 scan's size,
    or an enlargement of one. Each test runs once, so v4 costs v3's work plus the thumbnail's.

    A thumbnail is opaque (transparency marks a canvas export) and at most 12 px, or a
    nearest-neighbour enlargement of one (looked for from 12 px: an 8×8 scan doubled is 16 px,
    which v3 reads blocky and v4 on its grid), or a smooth enlargement that comes back through 8×8
    (area reduction, bilinear or bicubic enlargement back) within :data:`_THUMB_TOL` of its range
    where it is inked: USPS and MNIST test digits reduced to 8×8 and enlarged ×4 to ×14 come back
    within 0.028–0.073, the same digits enlarged from their own 16 or 28 px only within 0.097 and
    more (150 of each, every filter). A smooth thumbnail is read where v3 reads it (reduced while
    lossless: measured better than at 8×8). Images over :data:`_THUMB_NOISE_SIDE` px must be
    noise-free first. Any other image: exactly v3's reading, not a thumbnail."""
    h, w = px.shape
    if px.alpha is not None or min(h, w) < 1:
        return Reading(px)
    if thumbnails and max(h, w) <= THUMBNAIL:
        return Reading(px, True)
    smallest = THUMBNAIL if thumbnails else _MIN_SIDE
    if not smallest <= max(h, w) <= _MAX_SIDE or min(h, w) < 3:
        return Reading(px)  # (a line 1-2 px thin has no inner pixels to judge and nothing to reduce)
    raw = px.color_u8 if px.color_u8 is not None else px.color  # exact repeats either way
    unblocked = _unblocked(px, _colour_key(raw))
    if max(h, w) < _MIN_SIDE:  # v4 only: a thumbnail's blocks, or read as v3 reads it (as it is)
        return Reading(unblocked, True) if unblocked is not None and max(unblocked.shape) <= THUMBNAIL else Reading(px)
    if unblocked is not None:
        return Reading(unblocked, thumbnails and max(unblocked.shape) <= THUMBNAIL)
    noiseless = _noiseless(raw) >= _NOISELESS
    thumbnail = thumbnails and (noiseless or max(h, w) <= _THUMB_NOISE_SIDE) and _through_8x8(px)
    if not noiseless:
        return Reading(px, thumbnail)  # sensor noise: a photo or a scan of paper, read at the size it came in
    small = px
    while max(small.shape) >= _MIN_SIDE:  # a ×8 enlargement comes back in steps: 64 → 32 → 16
        f = _smooth_factor(_gray(small.color))
        if f == 1:
            break
        size = (round(small.shape[1] / f), round(small.shape[0] / f))
        small = Pixels(cv2.resize(small.color, size, interpolation=cv2.INTER_AREA), None)
    # only a small original is read small: one with more pixels than that is read well at its size
    return Reading(small if max(small.shape) <= _SMALL else px, thumbnail)


def _colour_key(raw: np.ndarray) -> np.ndarray:
    """One exact integer per pixel's colour (float32 holds 24 bits: no room for 3 × 8 in floats)."""
    if raw.ndim != 3:
        return raw
    levels = raw if raw.dtype == np.uint8 else np.rint(raw * 255)
    return np.asarray(levels.astype(np.int32) @ np.array([1, 256, 65536], dtype=np.int32))


def _through_8x8(px: Pixels) -> bool:
    """Whether ``px`` comes back through :data:`_THUMB_SIDE` px (see :func:`native_reading`)."""
    h, w = px.shape
    error = _round_trip(_gray(px.color))
    if error is None:
        return False
    size = (max(1, round(w * _THUMB_SIDE / max(h, w))), max(1, round(h * _THUMB_SIDE / max(h, w))))
    return any(error(size, interpolation) <= _THUMB_TOL for interpolation in (cv2.INTER_LINEAR, cv2.INTER_CUBIC))
