"""Synthetic things that are not digits, for teaching the model to say so (Outlier Exposure).

A classifier trained on digits alone answers every input with some digit, often confidently.
Trained also on non-digits with a *uniform* target (Hendrycks et al., 2019, "Deep Anomaly
Detection with Outlier Exposure"), it stays unsure on them, and the model card's confidence
threshold then rejects them. The same images teach the digit-or-not gate (``training/gate.py``).
Kinds: scribbles, geometric shapes, letters and symbols that do not look like digits (printed, traced
into canvas strokes, or photographed), filled blobs, two digits side by side, noise, textures and
faces. Every one arrives as a user's input would and goes through the serving preprocessing.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from inkdigit.engine.imageio import ImageInputError
from inkdigit.engine.preprocess import DEFAULT_CONFIG, PreprocessConfig, preprocess, source_digest
from inkdigit.paths import cache_dir

# letters and symbols that no one would take for a digit: nothing round like 0 (C, D, U, a, e),
# upright like 1 (!, l, I, t, f), angled like 2, 4, 7 (Z, L, Y, F, r, y) or like 5 and 9 (S, $, P, q)
GLYPHS = "AEHKMNRVWXhkmnvwx#@&%*=~"
#: what the bundled-font kind draws: those, a few more symbols, and Greek capitals no digit resembles
LETTERS = GLYPHS + "+<>€¶ΣΩΦΨΠ"
#: the work is cut into this many chunks, each with its own seed, however many processes run them,
#: so the images depend on the seed alone (8: what two cores made before this was fixed)
CHUNKS = 8
KINDS = ("scribble", "shape", "glyph", "blob", "pair", "noise", "texture", "face", "letter")


def _canvas(size: int = 280) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("L", (size, size), 255)
    return img, ImageDraw.Draw(img)


def _scribble(rng: np.random.Generator) -> Image.Image:
    img, d = _canvas()
    pts = [tuple(rng.uniform(30, 250, 2)) for _ in range(int(rng.integers(5, 12)))]
    d.line(pts, fill=0, width=int(rng.integers(6, 22)), joint="curve")
    return img


def _shape(rng: np.random.Generator) -> Image.Image:
    img, d = _canvas()
    w = int(rng.integers(6, 20))
    cx, cy, r = rng.uniform(110, 170), rng.uniform(110, 170), rng.uniform(60, 110)
    kind = int(rng.integers(0, 4))  # no rectangles or triangles: a boxy 0 or a closed 4 is a digit
    if kind == 0:  # star
        pts = [(cx + r * (1 if i % 2 == 0 else .4) * math.cos(a), cy + r * (1 if i % 2 == 0 else .4) * math.sin(a))
               for i, a in enumerate(np.linspace(-math.pi / 2, 1.5 * math.pi, 11))]
        d.line(pts, fill=0, width=w, joint="curve")
    elif kind == 1:  # cross or hash
        for off in ((0,) if rng.random() < .5 else (-r / 3, r / 3)):
            d.line([(cx - r, cy + off), (cx + r, cy + off)], fill=0, width=w)
            d.line([(cx + off, cy - r), (cx + off, cy + r)], fill=0, width=w)
    elif kind == 2:  # spiral
        t = np.linspace(0, rng.uniform(3, 5) * math.pi, 60)
        pts = [(cx + r * s / t[-1] * math.cos(s), cy + r * s / t[-1] * math.sin(s)) for s in t]
        d.line(pts, fill=0, width=w, joint="curve")
    else:  # zigzag of four or more strokes (three would be a Z, which is how some write 2)
        n = int(rng.integers(4, 8))
        pts = [(cx - r + 2 * r * i / n, cy + (r / 2 if i % 2 else -r / 2)) for i in range(n + 1)]
        d.line(pts, fill=0, width=w, joint="curve")
    return img


def _glyph(rng: np.random.Generator) -> Image.Image:
    img, d = _canvas()
    font = ImageFont.load_default(size=int(rng.integers(120, 220)))
    d.text((rng.uniform(20, 80), rng.uniform(0, 40)), str(rng.choice(list(GLYPHS))), font=font, fill=0)
    return img


def _blob(rng: np.random.Generator) -> Image.Image:
    img, d = _canvas()
    for _ in range(int(rng.integers(1, 4))):
        x, y = rng.uniform(60, 220, 2)
        rx, ry = rng.uniform(15, 70, 2)
        d.ellipse((x - rx, y - ry, x + rx, y + ry), fill=0)
    return img


def _pair(rng: np.random.Generator, digits: np.ndarray) -> Image.Image:
    a, b = digits[rng.integers(0, len(digits), 2)]
    return Image.fromarray(255 - np.concatenate([a, b], axis=1))


def _noise(rng: np.random.Generator) -> Image.Image:
    """Sensor noise, blotches or salt and pepper over a whole frame: what a covered lens or an empty
    photo gives, which a digit reader must not read as an 8."""
    side = int(rng.integers(28, 320))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        a = rng.uniform(0, 255, (side, side))
    elif kind == 1:
        a = ndimage.gaussian_filter(rng.normal(128, 60, (side, side)), float(rng.uniform(1, side / 10)))
        a = (a - a.min()) / max(float(np.ptp(a)), 1e-6) * 255
    else:
        a = np.where(rng.random((side, side)) < rng.uniform(0.02, 0.3), 0.0, 255.0)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _texture(rng: np.random.Generator) -> Image.Image:
    """Hatching, a grid, a checkerboard or dots: printed or ruled patterns with no digit in them."""
    img, d = _canvas()
    step, w = int(rng.integers(14, 50)), int(rng.integers(2, 10))
    kind = int(rng.integers(0, 4))
    for k in range(-280, 560, step):
        if kind in (0, 1):  # hatching (one direction) or cross-hatching
            d.line([(k, 0), (k + 280, 280)], fill=0, width=w)
            if kind == 1:
                d.line([(k + 280, 0), (k, 280)], fill=0, width=w)
        elif kind == 2 and 0 <= k <= 280:  # grid
            d.line([(k, 0), (k, 280)], fill=0, width=w)
            d.line([(0, k), (280, k)], fill=0, width=w)
        elif kind == 3 and 0 <= k <= 280:  # dots
            for j in range(0, 280, step):
                d.ellipse((k - w, j - w, k + w, j + w), fill=0)
    return img


def _face(rng: np.random.Generator) -> Image.Image:
    """A smiley: a ring with eyes and a mouth (a ring alone would be a fair 0)."""
    img, d = _canvas()
    w = int(rng.integers(5, 16))
    cx, cy, r = rng.uniform(120, 160), rng.uniform(120, 160), rng.uniform(70, 110)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=0, width=w)
    for sx in (-1, 1):
        ex, ey, er = cx + sx * r * 0.38, cy - r * 0.3, max(w * 0.8, r * 0.1)
        d.ellipse((ex - er, ey - er, ex + er, ey + er), fill=0)
    smile = bool(rng.integers(2))
    box = (cx - r * 0.55, cy - r * (0.1 if smile else -0.25), cx + r * 0.55, cy + r * (0.6 if smile else 0.9))
    d.arc(box, 20 if smile else 200, 160 if smile else 340, fill=0, width=w)
    return img


def _font_files() -> list[Path]:
    """The fonts Matplotlib bundles (DejaVu, STIX, Computer Modern): the same files on every machine,
    so the letters are reproducible; none of them is a reserved handwriting font."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return sorted(p for p in folder.glob("*.ttf") if p.name.startswith(("DejaVuS", "STIXGeneral", "cmr", "cmss")))


def _letter(rng: np.random.Generator) -> Image.Image | bytes:
    """A letter or symbol from a bundled font: printed on a canvas, traced into canvas pen strokes,
    or photographed on paper (the ways a digit arrives)."""
    from inkdigit.training.robustness.canvas import render_strokes, trace_strokes
    from inkdigit.training.robustness.photo import render_photo

    files = _font_files()
    font = ImageFont.truetype(str(files[int(rng.integers(len(files)))]), 120)
    glyph = Image.new("L", (200, 200), 0)
    ImageDraw.Draw(glyph).text((100, 100), str(rng.choice(list(LETTERS))), font=font, fill=255, anchor="mm")
    box = glyph.getbbox()
    if box is None:
        return _glyph(rng)
    small = glyph.crop(box)
    small.thumbnail((28, 28), Image.Resampling.LANCZOS)
    ink = np.asarray(small, dtype=np.float32) / 255.0
    how = int(rng.integers(0, 3))
    if how == 0:
        img, _ = _canvas()
        big = glyph.crop(box)
        big.thumbnail((int(rng.integers(60, 240)),) * 2, Image.Resampling.LANCZOS)
        img.paste(Image.fromarray(255 - np.asarray(big)), (int(rng.integers(0, 280 - big.width + 1)),
                                          int(rng.integers(0, 280 - big.height + 1))))
        return img
    if how == 1:
        return render_strokes(trace_strokes(ink), rng)
    side = max(ink.shape)  # a flat glyph (=, ~) padded square: a photo sizes its subject by height
    square = np.zeros((side, side), np.float32)
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    square[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    return render_photo(square, rng)


def _work(args: tuple[int, int, np.ndarray, PreprocessConfig]) -> np.ndarray:
    n, seed, digits, cfg = args
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    while len(out) < n:
        kind = KINDS[int(rng.integers(0, len(KINDS)))]
        img = _pair(rng, digits) if kind == "pair" else globals()[f"_{kind}"](rng)
        try:
            pre = preprocess(img, cfg)
        except ImageInputError:  # a rendering the reader refuses teaches nothing
            continue
        if not pre.is_empty:
            out.append((pre.image * 255).round().astype(np.uint8))
    return np.stack(out)


def make_negatives(n: int, seed: int, digits: np.ndarray, cfg: PreprocessConfig = DEFAULT_CONFIG,
                   workers: int | None = None) -> np.ndarray:
    """``n`` preprocessed non-digit images (n, 28, 28) uint8, reproducible from ``seed``; cached.

    ``digits`` (raw MNIST images) supply the two-digits-side-by-side kind.
    """
    here = Path(__file__).parent
    sources = (Path(__file__), here / "robustness" / "canvas.py", here / "robustness" / "photo.py",
               here / "robustness" / "common.py")
    code = source_digest() + "".join(hashlib.sha256(p.read_bytes()).hexdigest() for p in sources)
    digest = hashlib.sha256(np.ascontiguousarray(digits).tobytes()).hexdigest()
    key = hashlib.sha256(f"{n}-{seed}-{code}-{cfg.to_dict()}-{digest}".encode()).hexdigest()[:16]
    path = cache_dir() / "prepared" / f"negatives-{key}.npy"
    if path.exists():
        return np.load(path)
    workers = workers or os.cpu_count() or 1
    chunks = [(len(c), seed * 1000 + i, digits, cfg) for i, c in enumerate(np.array_split(np.arange(n), CHUNKS))
              if len(c)]
    if workers == 1 or n < 500:
        images = np.concatenate([_work(c) for c in chunks])
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            images = np.concatenate(list(pool.map(_work, chunks)))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, images)
    return images
