"""One versioned function that turns any image of a digit into MNIST's 28×28 format.

MNIST digits are white ink on black, size-normalised to fit a 20×20 box keeping their aspect ratio,
then centred by centre of mass in 28×28. Models trained on it fail on real input mostly because
real input is not like that: dark ink on paper, a thin pen line on a 1000-pixel canvas, a small
digit in a corner, a shadow across a photo. Every stage below removes one of those differences, and
the *same* function prepares training data, so the model learns exactly what serving will show it.

Stages (each can be returned as an image): ``input`` gray view → (v3, enlarged images only)
``native`` (the image at the size it was made at) → ``ink`` (ink strength in [0, 1],
whatever the polarity or colour) → ``cleaned`` (specks removed) → ``cropped`` (to the digit, at a
fixed working scale) → ``stroke`` (stroke width normalised) → ``deskewed`` → ``fitted`` (20×20
box) → ``final`` (28×28, centred by mass). Change anything that alters outputs → bump ``VERSION``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

from inkdigit.engine import native, resample
from inkdigit.engine.imageio import DEFAULT_LIMITS, Fit, ImageInput, Limits, Pixels, to_pixels

#: the version new models are trained with; every version in VERSIONS stays readable for the
#: cards that name it (v1: the original pipeline, below; v2: ``preprocess_v2``; v3: v2 reading an
#: enlarged image at its native size, ``rescale``, and keeping faint ink that links a digit's pieces;
#: v4: v3 reading thumbnails (8×8 scans, enlarged or not) without cutting their grey strokes, see
#: ``preprocess_v2.digit``; it differs from v3 on thumbnails only, so a model trained on v3 is served
#: through it)
VERSION = "3"
VERSIONS = ("1", "2", "3", "4")

_HERE = Path(__file__).parent
#: every source file whose code defines preprocessing's output (the compiled kernels mirror the
#: NumPy code exactly, but an edit to either could change results): caches of preprocessed data
#: are keyed on their contents
SOURCES = tuple(_HERE / name for name in ("preprocess.py", "preprocess_v2.py", "resample.py", "imageio.py",
                                          "native.py", "rescale.py", "_kernels.c"))


def source_digest() -> str:
    """SHA-256 over :data:`SOURCES`: an edit that forgot to bump ``VERSION`` still cannot reuse
    data preprocessed by the old code."""
    digest = hashlib.sha256()
    for path in SOURCES:
        if path.exists():  # an installed wheel carries no C source; its build is keyed by the rest
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()

# Process-wide, and on purpose: on images this small OpenCV's thread pool only adds hand-offs
# (preprocessing a canvas: 0.75 ms single-threaded, 0.98 ms with 2 threads), and both serving and
# training already run one image per core.
cv2.setNumThreads(1)
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))  # scipy.ndimage's default structure


@dataclass(frozen=True)
class PreprocessConfig:
    """Parameters of the normalisation; stored in every model card so serving matches training."""

    version: str = VERSION  # which pipeline: one of VERSIONS
    size: int = 28  # output side
    box: int = 20  # the digit's longer side is scaled to this
    work: int = 64  # longer side of the crop while stroke width and slant are normalised
    stroke: float = 8.0  # target stroke width at the working scale (MNIST's median, ≈ 2.5 px at 20)
    stroke_low: float = 0.6  # strokes thinner than stroke*low are thickened ...
    stroke_high: float = 1.7  # ... thicker than stroke*high are thinned
    deskew: bool = True
    max_skew: float = 0.6
    max_side: int = 1024  # larger inputs are first reduced (a digit is never that fine)
    min_contrast: float = 0.08  # below this the image is treated as blank
    speck_ratio: float = 0.04  # components smaller than this fraction of the largest are noise

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


DEFAULT_CONFIG = PreprocessConfig()
V1_CONFIG = PreprocessConfig(version="1")


@dataclass
class Preprocessed:
    """Result: ``image`` (size×size float32 in [0, 1], ink bright), ``is_empty``, optional stages."""

    image: np.ndarray
    is_empty: bool
    stages: dict[str, np.ndarray] = field(default_factory=dict)


def _gray(px: Pixels) -> np.ndarray:
    c = px.color
    if c.ndim == 2:
        return c
    return c @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _reduce(px: Pixels, max_side: int) -> Pixels:
    """``px`` at most ``max_side`` on its longer side, by block means (a decoded image arrives
    reduced already, see ``imageio.Fit``; arrays and PIL images do not). An axis shorter than the
    factor is averaged whole, so a 2×6000 strip stays a strip rather than becoming empty."""
    h, w = px.shape
    factor = int(np.ceil(max(h, w) / max_side))
    if factor <= 1:
        return px
    fy, fx = min(factor, h), min(factor, w)

    def down(a: np.ndarray) -> np.ndarray:
        hh, ww = (a.shape[0] // fy) * fy, (a.shape[1] // fx) * fx
        a = a[:hh, :ww]
        shape = (hh // fy, fy, ww // fx, fx) + a.shape[2:]
        return a.reshape(shape).mean(axis=(1, 3), dtype=np.float32)

    return Pixels(down(px.color), None if px.alpha is None else down(px.alpha))


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])


def _quantile(a: np.ndarray, q: float) -> float:
    """One order statistic of a small sample (the element at ``int(q * (n - 1))`` when sorted).

    Exact, by sorting; but ink maps are mostly exact zeros, so only the nonzero values are sorted
    (``np.partition``'s introselect degrades badly on such mostly-equal data: 0.4 ms against 0.02).
    """
    flat = a.ravel()
    i = int(q * (flat.size - 1))
    neg = flat[flat < 0]
    if i < neg.size:
        return float(np.sort(neg)[i])
    pos = flat[flat > 0]
    i -= flat.size - pos.size  # the zeros (and negatives) sort below every positive value
    return float(np.sort(pos)[i]) if i >= 0 else 0.0


def _sample(strength: np.ndarray) -> np.ndarray:
    """About 4k pixels of ``strength``, evenly spread."""
    step = max(1, int(np.sqrt(strength.size / 4096)))
    return strength[::step, ::step]


def _top(strength: np.ndarray, sample: np.ndarray | None = None) -> float:
    """The strength of a digit's core in ``strength``: its 99.7th percentile, or half its maximum
    where a thin stroke is fewer pixels than that. An image whose top is under ``min_contrast`` is blank."""
    sample = _sample(strength) if sample is None else sample
    peak = float(strength.max())
    return max(_quantile(sample, 0.997) if sample.size > 400 else peak, 0.5 * peak)


def _normalise(strength: np.ndarray, min_contrast: float, crop: bool = True,
               floor_share: float | None = None) -> np.ndarray | None:
    """Map raw ink strength to [0, 1], background noise → 0 and the digit's core → 1, cropped to
    the box holding every inked pixel (everything outside it is 0) unless ``crop`` is False; None
    if the image is blank. ``floor_share`` (a made thumbnail, v4): the floor is that share of the
    peak, with no noise term: a thumbnail has no noise, and the ramps that interpolation leaves
    around its strokes would pass for it and cut its grey strokes away.

    Statistics come from a subsample of ~4k pixels: plenty for a noise level, and it keeps a
    canvas in well under a millisecond. The full-image maximum guards against a subsample that
    misses every pixel of a thin stroke.
    """
    sample = _sample(strength)
    top = _top(strength, sample)
    if top < min_contrast:
        return None
    quiet = sample[sample < 0.25 * top]  # background-like pixels: their spread is the noise
    floor = 0.18 * top if floor_share is None else floor_share * top
    if floor_share is None and quiet.size and quiet.any():  # a clean background (a canvas) has no noise to measure
        med = _quantile(quiet, 0.5)
        floor = max(floor, med + 6.0 * 1.4826 * _quantile(np.abs(quiet - med), 0.5))
    if floor >= top * 0.9:
        return None
    if not crop:
        return np.clip((strength - floor) / (top - floor), 0.0, 1.0).astype(np.float32)
    box = _bbox(strength, floor)
    if box is None:
        return None
    y0, y1, x0, x1 = box
    region = strength[max(0, y0 - 1): y1 + 1, max(0, x0 - 1): x1 + 1]
    return np.clip((region - floor) / (top - floor), 0.0, 1.0).astype(np.float32)


def _distance(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Euclidean colour distance of each pixel from ``ref`` (absolute difference for gray)."""
    if a.ndim == 1 or a.shape[-1:] != ref.shape:
        return np.abs(a - ref)
    # channel by channel: numpy's reductions over a 3-long last axis are several times slower
    total = np.square(a[..., 0] - ref[0])
    total += np.square(a[..., 1] - ref[1])
    total += np.square(a[..., 2] - ref[2])
    return np.sqrt(total)


def _mode_colour(sample: np.ndarray, exact: bool = False) -> np.ndarray:
    """The most frequent colour (32 levels a channel), refined as the mean of the pixels in it, or
    with ``exact`` as the most frequent 8-bit colour within it (a made image's background exactly)."""
    q = np.minimum((sample * 32).astype(np.int32), 31)
    codes = q if q.ndim == 1 else (q[:, 0] * 32 + q[:, 1]) * 32 + q[:, 2]
    top = np.bincount(codes).argmax()
    members = sample[codes == top]
    if not exact:
        return np.asarray(members.mean(axis=0), dtype=np.float32)
    e = np.rint(members * 255).astype(np.int32)
    fine = e if e.ndim == 1 else (e[:, 0] * 256 + e[:, 1]) * 256 + e[:, 2]
    codes, counts = np.unique(fine, return_counts=True)  # not bincount: RGB codes reach 2^24
    return np.asarray(members[int(np.argmax(fine == codes[counts.argmax()]))], dtype=np.float32)


#: a mostly opaque image whose opaque part has fewer pixels than this share off its commonest
#: colour is one flat colour: its shape is in the alpha channel alone
_FLAT_OPAQUE = 0.002

#: v3: a made image's background holds at least this share of exactly one colour among the pixels
#: near it; photos' sensor noise keeps theirs under 0.14 (robustness suite, every photo rendering)
_EXACT_SHARE = 0.3


def _flat_background(color: np.ndarray, version: int = 1) -> np.ndarray | None:
    """The background colour if the image has a uniform one (canvas, scan, data set), else None.

    The background is the most frequent colour. It counts as uniform when most pixels, and most
    of the border, are close to it; tiny images always do (too small to estimate a photo's shading
    locally, and a size-normalised digit may touch every edge). From v2 (``version``), a background
    of exactly one colour marks a made image even when the digit covers most of it; v3 measures
    that exactness against the exact commonest colour rather than the mean of its bin, so the enlarged block
    mosaic of a low-resolution scan, whose digit fills the frame, is not taken for a photo.
    """
    step = max(1, max(color.shape[:2]) // 128)
    sample = color[::step, ::step].reshape(-1, *color.shape[2:])
    bg = _mode_colour(sample)
    if max(color.shape[:2]) < 64:
        return bg
    distance = _distance(sample, bg)
    near = float(np.mean(distance < 0.1))
    border = _distance(_border(color), bg)
    border_near = float(np.mean(border < 0.15))
    if version < 2:
        return bg if near > 0.5 and border_near > 0.6 else None
    # v2: a background exactly one colour is a made image (canvas, scan, data set), even where a big
    # digit covers most of it and reaches the border; lit paper never is exactly one colour
    close = max(1, int(np.count_nonzero(distance < 0.1)))
    if version >= 3:
        exact = _distance(sample, _mode_colour(sample, exact=True)) < 0.5 / 255
        if np.count_nonzero(exact) / close >= _EXACT_SHARE:
            return bg if near > 0.1 else None
    elif np.count_nonzero(distance < 0.006) / close >= 0.5:
        return bg if near > 0.2 and border_near > 0.3 else None
    lit = float(np.percentile(border, 90)) > 0.08  # a vignette, a gradient or a shadow on the border
    return bg if near > 0.5 and border_near > 0.6 and not lit else None


def _is_gray(px: Pixels) -> bool:
    """True when every pixel's three channels are equal (checked exactly on the 8-bit data)."""
    raw = px.color_u8
    if raw is None or raw.ndim != 3:
        return False
    return bool(np.array_equal(raw[..., 0], raw[..., 1]) and np.array_equal(raw[..., 1], raw[..., 2]))


def _input_view(px: Pixels) -> np.ndarray:
    """The input in gray, for display; transparency shown over a ground the ink contrasts with
    (white strokes from a dark-themed canvas would vanish on white)."""
    gray = _gray(px)
    if px.alpha is None:
        return gray
    inked = px.alpha > 0.5
    ground = 0.0 if inked.any() and float(gray[inked].mean()) > 0.5 else 1.0
    return gray * px.alpha + ground * (1 - px.alpha)


def ink_map(px: Pixels, cfg: PreprocessConfig = DEFAULT_CONFIG) -> np.ndarray | None:
    """Ink strength per pixel in [0, 1], whatever the ink's colour or polarity; None if blank.

    Transparency wins when present (canvas exports draw opaque strokes on a transparent ground).
    Otherwise the background is the border's median colour; if the border is uniform the ink is
    the colour distance from it (any ink colour, light or dark). A non-uniform border means a photo:
    then the background is estimated locally by a morphological closing (or opening for light ink)
    much wider than a stroke, and the ink is the difference from it, which removes shading.
    """
    found = plain_ink(px, cfg)
    return _photo_ink(found, cfg) if isinstance(found, Pixels) else found


def plain_ink(px: Pixels, cfg: PreprocessConfig, strict: bool = False,
              crop: bool = True, floor_share: float | None = None) -> np.ndarray | Pixels | None:
    """The ink of an image with transparency or a uniform background (None if blank); for a photo
    (neither), the pixels its ink must be estimated from, transparency composited away. ``strict``
    (v2) tells made images (a background of exactly one colour) from photos of lit paper. The ink
    is cropped to the inked box unless ``crop`` is False (a line of several digits keeps its frame)."""
    alpha8, kernels = (px.alpha_u8, native.kernels) if crop else (None, None)  # the fast paths crop
    if alpha8 is not None and kernels is not None:  # the same steps as below, compiled
        found = kernels.alpha_ink(np.ascontiguousarray(alpha8), alpha8.shape[0], alpha8.shape[1],
                                   float(cfg.min_contrast))
        if found is None:
            return None
        if isinstance(found, tuple):
            buf, rows, cols = found
            return np.frombuffer(buf, dtype=np.float32).reshape(rows, cols)
    elif alpha8 is not None:  # 8-bit alpha: decide and crop in integers, convert only the digit's box
        box = _bbox(alpha8, 0)
        if box is None:  # fully transparent
            return None
        y0, y1, x0, x1 = box
        inked = alpha8[y0:y1, x0:x1]  # outside it every pixel is 0, so count only here
        n, opaque = alpha8.size, np.count_nonzero(inked >= 128)
        if n - opaque > 0.02 * n and np.count_nonzero(inked > 128) < 0.5 * n:
            return _normalise(inked.astype(np.float32) * np.float32(1 / 255), cfg.min_contrast)
    if px.alpha is not None and float(np.mean(px.alpha < 0.5)) > 0.02:
        alpha = px.alpha
        if float(np.mean(alpha > 0.5)) < 0.5:
            return _normalise(alpha, cfg.min_contrast, crop)
        # mostly opaque: the transparent part takes the opaque part's commonest colour (its paper or
        # canvas); composited onto black, a transparent margin of a light image read as ink. But when
        # the opaque part is one flat colour, the shape is in the alpha alone (paper with the digit
        # cut out, a cut-out digit filling its frame): then black, or white under a dark colour,
        # keeps it visible.
        solid = px.color[alpha > 0.5]
        ground = _mode_colour(solid)
        spread = _distance(solid, ground) * (np.float32(3 ** -0.5) if solid.ndim == 2 else np.float32(1))
        if float(np.mean(spread > cfg.min_contrast)) < _FLAT_OPAQUE:
            ground = np.full_like(ground, 1.0 if float(np.mean(ground)) < 0.5 else 0.0)
        a = alpha[..., None] if px.color.ndim == 3 else alpha
        px = Pixels((px.color * a + ground * (1 - a)).astype(np.float32), None)
    color = px.color
    if color.ndim == 3 and _is_gray(px):
        color = color[..., 0]  # a gray picture saved as RGB: one channel says it all, three times faster
    bg = _flat_background(color, int(cfg.version) if strict else 1)
    if bg is not None:
        strength = _distance(color, bg) if color.ndim == 2 else _distance(color, bg) * np.float32(3 ** -0.5)
        return _normalise(strength.astype(np.float32, copy=False), cfg.min_contrast, crop, floor_share)
    return px


def _photo_ink(px: Pixels, cfg: PreprocessConfig) -> np.ndarray | None:
    """Ink of a photo (a non-uniform background): the difference from a local background estimate."""
    # sensor noise first (it would pass for ink in the shadows), then shading
    gray = ndimage.gaussian_filter(_gray(px), sigma=max(0.8, max(px.color.shape[:2]) / 500))
    size = max(3, int(max(gray.shape) / 6)) | 1
    small = max(1, int(max(gray.shape) / 192))
    g = gray[::small, ::small]
    k = max(3, size // small)

    def smooth_up(bg: np.ndarray) -> np.ndarray:
        bg = ndimage.uniform_filter(bg, size=max(3, k // 4))
        if small > 1:
            zoom = (gray.shape[0] / bg.shape[0], gray.shape[1] / bg.shape[1])
            bg = ndimage.zoom(bg, zoom, order=1, grid_mode=True, mode="nearest")
        return bg[: gray.shape[0], : gray.shape[1]]

    # polarity: strokes answer strongly to the top-hat of their own polarity, shading to neither;
    # but the paper inside a loop answers too, so light ink (chalk) must win clearly
    closed, opened = ndimage.grey_closing(g, size=(k, k)), ndimage.grey_opening(g, size=(k, k))
    dark_ink = 1.5 * np.percentile(closed - g, 99.9) >= np.percentile(g - opened, 99.9)
    background = smooth_up(closed if dark_ink else opened)
    # dark ink absorbs a fraction of the light falling on the paper: measure it relative to the
    # local paper brightness, so a stroke in shadow is as strong as one in full light
    strength = (background - gray) / np.maximum(background, 0.1) if dark_ink else gray - background
    return _normalise(np.maximum(strength, 0).astype(np.float32), cfg.min_contrast)


def _clean(ink: np.ndarray, cfg: PreprocessConfig) -> np.ndarray | None:
    """Zero specks far smaller than the digit; None if nothing digit-sized remains.

    OpenCV's connected components and dilation compute exactly what ``ndimage.label`` (8-connected)
    and ``binary_dilation`` (cross, zero border) do, in a fraction of the time.
    """
    mask = (ink > 0.35).view(np.uint8)
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    n = count - 1  # label 0 is the background
    if n == 0:
        return None
    if n == 1:  # the commonest case, one stroke or touching strokes: nothing to remove
        return ink if cv2.countNonZero(mask) >= 4 else None
    areas = np.bincount(labels.ravel(), minlength=count)[1:]
    largest = int(areas.max())
    if largest < 4:
        return None
    keep_ids = np.flatnonzero(areas >= max(2, cfg.speck_ratio * largest)) + 1
    if len(keep_ids) == n:
        return ink
    lookup = np.zeros(count, dtype=np.uint8)
    lookup[keep_ids] = 1
    keep = cv2.dilate(lookup[labels], _CROSS, iterations=2, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return np.where(keep > 0, ink, 0.0).astype(np.float32)


def _bbox(a: np.ndarray, thr: float) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of the pixels above ``thr``; None when there are none."""
    mask = a if thr == 0 and a.dtype == np.uint8 else (a > thr).view(np.uint8)
    x, y, w, h = cv2.boundingRect(np.ascontiguousarray(mask))
    if w == 0:
        return None
    return y, y + h, x, x + w


def _crop(a: np.ndarray, thr: float) -> np.ndarray | None:
    """``a`` cropped to the box of its pixels above ``thr``; None when there are none."""
    box = _bbox(a, thr)
    if box is None:
        return None
    y0, y1, x0, x1 = box
    return a[y0:y1, x0:x1]


def _resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area averaging when shrinking (sharp, alias-free, like MNIST's own), bilinear when growing
    (Pillow's filters, which define v1; see ``resample``)."""
    shrink = width <= a.shape[1] and height <= a.shape[0]
    return resample.resize(a, width, height, bilinear=not shrink)


def _fit(a: np.ndarray, side: int) -> np.ndarray:
    """Scale ``a`` so its longer side is ``side``, keeping aspect (antialiased)."""
    h, w = a.shape
    scale = side / max(h, w)
    return _resize(a, max(1, round(w * scale)), max(1, round(h * scale)))


def _grow_smooth(a: np.ndarray, side: int) -> np.ndarray:
    """:func:`_fit` enlarging bicubic (clipped to [0, 1]); shrinking stays area averaging."""
    h, w = a.shape
    scale = side / max(h, w)
    if scale <= 1:
        return _fit(a, side)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.clip(cv2.resize(a, size, interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


def _disk(r: int) -> np.ndarray:
    """A disk-shaped structuring element (uint8, as OpenCV takes it)."""
    y, x = np.ogrid[-r: r + 1, -r: r + 1]
    return np.asarray(x * x + y * y <= r * r + r * 0.5, dtype=np.uint8)


def stroke_width(a: np.ndarray) -> float:
    """Mean stroke width in pixels: 2 × ink area / boundary length (exact for long strokes)."""
    mask = (a > 0.5).view(np.uint8)
    area = cv2.countNonZero(mask)
    if area == 0:
        return 0.0
    inner = cv2.countNonZero(cv2.erode(mask, _CROSS, borderType=cv2.BORDER_CONSTANT, borderValue=0))
    return 2.0 * area / max(1, area - inner)


def _normalise_stroke(a: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    width = stroke_width(a)
    if 0 < width < cfg.stroke * cfg.stroke_low:
        r = max(1, round((cfg.stroke - width) / 2))
        # pad first: a straight thin line's crop is as narrow as the line, with no room to grow
        return cv2.dilate(np.pad(a, r), _disk(r), borderType=cv2.BORDER_REFLECT)
    if width > cfg.stroke * cfg.stroke_high:
        r = max(1, round((width - cfg.stroke) / 2))
        thinner = cv2.erode(a, _disk(r), borderType=cv2.BORDER_REFLECT)
        if cv2.countNonZero((thinner > 0.5).view(np.uint8)) >= 0.25 * cv2.countNonZero((a > 0.5).view(np.uint8)):
            return thinner
    return a


def _deskew(a: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """Shear horizontally so the digit's principal axis is vertical (moment-based, as in LeCun '98)."""
    total = float(a.sum())
    if total <= 0:
        return a
    h, w = a.shape
    dy = np.arange(h, dtype=np.float64)
    dx = np.arange(w, dtype=np.float64)
    rows = a.sum(axis=1)
    cy, cx = float(rows @ dy / total), float(a.sum(axis=0) @ dx / total)
    dy -= cy
    dx -= cx
    mu02 = float(rows @ (dy * dy) / total)
    mu11 = float(dy @ a @ dx / total)
    if mu02 < 1e-3:
        return a
    alpha = min(max(mu11 / mu02, -cfg.max_skew), cfg.max_skew)
    if abs(alpha) < 0.02:
        return a
    pad = int(np.ceil(abs(alpha) * h / 2)) + 1
    # output (y, x) samples input (y, x - pad + alpha * (y - cy))
    return _shift_rows(a, alpha * np.arange(h) - pad - alpha * cy, w + 2 * pad)


def _shift_rows(a: np.ndarray, shifts: np.ndarray, out_w: int) -> np.ndarray:
    """Row y of the output samples row y of ``a`` at x + shifts[y], linearly interpolated, 0 outside
    (compiled where the kernels are built, with the same arithmetic as :func:`_shift_rows_reference`)."""
    kernels = native.kernels
    if kernels is None:
        return _shift_rows_reference(a, shifts, out_w)
    src = np.ascontiguousarray(a, dtype=np.float32)
    out = np.empty((src.shape[0], out_w), dtype=np.float32)
    kernels.shift_rows(src, src.shape[0], src.shape[1], out, out_w, np.ascontiguousarray(shifts, dtype=np.float64))
    return out


def _shift_rows_reference(a: np.ndarray, shifts: np.ndarray, out_w: int) -> np.ndarray:
    """:func:`_shift_rows` in NumPy.

    The same numbers as ``ndimage.affine_transform(order=1, mode="constant")`` for a horizontal
    shear, which must treat every output pixel as a general 2-D point and is ten times slower.
    A shift is constant along a row, so is its fractional part: two gathers and a blend. Zero
    columns around ``a`` make every sample beyond its edges 0, except the one on each side that
    blends an edge pixel with the zero next to it (source x in (-1, 0) or (w - 1, w)): those two
    per row are zeroed afterwards.
    """
    h, w = a.shape
    left = np.floor(shifts)
    frac = shifts - left
    first = left.astype(np.intp)
    lo = min(0, int(first.min()))  # zero columns needed left of x = 0 ...
    hi = max(w, int(first.max()) + out_w + 1)  # ... and right of x = w - 1, so no gather leaves its row
    padded = np.zeros((h, hi - lo), dtype=np.float64)
    padded[:, -lo: w - lo] = a
    idx = (np.arange(h) * (hi - lo) - lo + first)[:, None] + np.arange(out_w)
    flat = padded.ravel()
    weight = frac[:, None]
    out = flat[idx] * (1.0 - weight) + flat[idx + 1] * weight
    y = np.flatnonzero(frac > 0)
    for edge in (-1 - first[y], w - 1 - first[y]):  # output x whose source lies just past an edge
        inside = (edge >= 0) & (edge < out_w)
        out[y[inside], edge[inside]] = 0.0
    return out.astype(np.float32)


def _centre(fitted: np.ndarray, size: int) -> np.ndarray:
    """Place ``fitted`` in a size×size frame so its centre of mass sits at the frame's centre."""
    out = np.zeros((size, size), dtype=np.float32)
    h, w = fitted.shape
    total = fitted.sum()
    if total <= 0:
        cy, cx = (h - 1) / 2, (w - 1) / 2
    else:  # ndimage.center_of_mass's arithmetic, without its generality's overhead
        cy = float((fitted * np.arange(h, dtype=np.float64)[:, None]).sum() / total)
        cx = float((fitted * np.arange(w, dtype=np.float64)[None, :]).sum() / total)
    top = int(round(size / 2 - cy))  # MNIST puts the centre of mass at (14, 14)
    left = int(round(size / 2 - cx))
    top = min(max(top, 0), size - h)
    left = min(max(left, 0), size - w)
    out[top: top + h, left: left + w] = fitted
    return out


Show = Callable[[str, np.ndarray], np.ndarray]


def preprocess(source: ImageInput | Pixels, cfg: PreprocessConfig = DEFAULT_CONFIG,
               return_stages: bool = False, limits: Limits = DEFAULT_LIMITS) -> Preprocessed:
    """Normalise one image to MNIST format with the pipeline ``cfg.version`` names. An image with
    no digit-like ink is ``is_empty``."""
    if cfg.version not in VERSIONS:
        raise ValueError(f"preprocessing v{cfg.version} is not implemented here (this inkdigit has "
                         f"{', '.join('v' + v for v in VERSIONS)})")
    fit = Fit(cfg.max_side, cfg.max_side, round_up=True)  # decoded as _reduce would reduce it
    px = source if isinstance(source, Pixels) else to_pixels(source, limits, fit)
    px = _reduce(px, cfg.max_side)
    stages: dict[str, np.ndarray] = {}

    def show(name: str, img: np.ndarray) -> np.ndarray:
        if return_stages:
            stages[name] = img
        return img

    if return_stages:
        show("input", _input_view(px))
    if cfg.version == "1":
        image = _digit_v1(px, cfg, show)
    else:
        from inkdigit.engine import preprocess_v2

        image = preprocess_v2.digit(px, cfg, show)
    if image is None:
        return Preprocessed(np.zeros((cfg.size, cfg.size), dtype=np.float32), True, stages)
    return Preprocessed(image, False, stages)


def restore_contrast(crop: np.ndarray) -> np.ndarray:
    """Shrinking a pen line much thinner than a working pixel leaves it faint: restore its contrast."""
    inked = crop[crop > 0.02]
    peak = _quantile(inked, 0.99) if inked.size else 1.0
    if peak < 0.9:
        return np.clip(crop / max(peak, 0.05), 0.0, 1.0)
    return crop


def frame(region: np.ndarray) -> np.ndarray:
    """``region`` with a one-pixel border of zeros (np.pad(region, 1), without its overhead)."""
    framed = np.zeros((region.shape[0] + 2, region.shape[1] + 2), dtype=region.dtype)
    framed[1:-1, 1:-1] = region
    return framed


def _digit_v1(px: Pixels, cfg: PreprocessConfig, show: Show) -> np.ndarray | None:
    """Preprocessing v1: ink → specks removed → crop → stroke width → deskew → 20 px box → centred."""
    ink = ink_map(px, cfg)
    if ink is None:
        return None
    show("ink", ink)  # cropped to the inked region
    cleaned = _clean(ink, cfg)
    region = None if cleaned is None else _crop(show("cleaned", cleaned), 0.1)
    if region is None:
        return None
    return finish(region, cfg, show, _normalise_stroke)


def finish(region: np.ndarray, cfg: PreprocessConfig, show: Show,
           stroke: Callable[[np.ndarray, PreprocessConfig], np.ndarray], smooth: bool = False) -> np.ndarray | None:
    """The stages every version shares once the digit is cropped: working scale → ``stroke`` (each
    version's stroke-width rule) → deskew → 20 px box → centred by mass; None if nothing is left.
    ``smooth`` (a thumbnail, v4): enlarged to the working scale bicubic, not bilinear, whose
    straight ramps between a few big pixels leave diamond-shaped corners on every curve."""
    framed = frame(region)
    grown = _grow_smooth(framed, cfg.work) if smooth else _fit(framed, cfg.work)
    crop = show("cropped", restore_contrast(grown))
    crop = show("stroke", stroke(crop, cfg))
    if cfg.deskew:
        crop = show("deskewed", _deskew(crop, cfg))
    digit = _crop(crop, 0.05)
    if digit is None:
        return None
    fitted = show("fitted", np.clip(_fit(digit, cfg.box), 0.0, 1.0))
    return show("final", _centre(fitted, cfg.size))


def preprocess_many(images: np.ndarray, cfg: PreprocessConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Preprocess a stack of (N, H, W) images; returns (N, size, size) float32. Blank → zeros."""
    out = np.zeros((len(images), cfg.size, cfg.size), dtype=np.float32)
    for i, img in enumerate(images):
        out[i] = preprocess(img, cfg).image
    return out
