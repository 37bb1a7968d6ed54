"""Synthetic things that are not digits, for teaching the model to say so (Outlier Exposure).

A classifier trained on digits alone answers every input with some digit, often confidently.
Trained also on non-digits with a *uniform* target (Hendrycks et al., 2019, "Deep Anomaly
Detection with Outlier Exposure"), it stays unsure on them, and the model card's confidence
threshold then rejects them. Kinds: scribbles, geometric shapes, letters and symbols that do not
look like digits, filled blobs, two digits side by side. Every one is drawn large on a canvas and
goes through the serving preprocessing, like any user input.
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

from inkdigit.engine.preprocess import DEFAULT_CONFIG, PreprocessConfig, preprocess, source_digest
from inkdigit.paths import cache_dir

# letters and symbols that no one would take for a digit: nothing round like 0 (C, D, U, a, e),
# upright like 1 (!, l, I, t, f), angled like 2, 4, 7 (Z, L, Y, F, r, y) or like 5 and 9 (S, $, P, q)
GLYPHS = "AEHKMNRVWXhkmnvwx#@&%*=~"
KINDS = ("scribble", "shape", "glyph", "blob", "pair")


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


def _work(args: tuple[int, int, np.ndarray, PreprocessConfig]) -> np.ndarray:
    n, seed, digits, cfg = args
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    while len(out) < n:
        kind = KINDS[int(rng.integers(0, len(KINDS)))]
        img = _pair(rng, digits) if kind == "pair" else globals()[f"_{kind}"](rng)
        pre = preprocess(img, cfg)
        if not pre.is_empty:
            out.append((pre.image * 255).round().astype(np.uint8))
    return np.stack(out)


def make_negatives(n: int, seed: int, digits: np.ndarray, cfg: PreprocessConfig = DEFAULT_CONFIG,
                   workers: int | None = None) -> np.ndarray:
    """``n`` preprocessed non-digit images (n, 28, 28) uint8, reproducible from ``seed``; cached.

    ``digits`` (raw MNIST images) supply the two-digits-side-by-side kind.
    """
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest() + source_digest()
    key = hashlib.sha256(f"{n}-{seed}-{code}-{cfg.to_dict()}-{digits.shape}".encode()).hexdigest()[:16]
    path = cache_dir() / "prepared" / f"negatives-{key}.npy"
    if path.exists():
        return np.load(path)
    workers = workers or os.cpu_count() or 1
    chunks = [(len(c), seed * 1000 + i, digits, cfg) for i, c in enumerate(np.array_split(np.arange(n), workers * 4))
              if len(c)]
    if workers == 1 or n < 500:
        images = np.concatenate([_work(c) for c in chunks])
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            images = np.concatenate(list(pool.map(_work, chunks)))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, images)
    return images
