"""Pieces of a number that are not one digit, for teaching the digit-or-not gate to say so.

Why: reading a number (``engine/numbers.py``) splits a piece wider than a digit where its two
halves read better than the whole. With a gate trained only on whole non-digits (``negatives.py``),
the halves of one wide digit often read *well*: a wide 8 cut down the middle reads "0" and "0", a
6 reads "6" and "6", and on numbers made of MNIST *train* digits 1.3 % of single digits were split
so. The same weakness picks the wrong cut between two touching digits; and two digits that touch
("10", "63"), squeezed into one 20×20 box, read as one digit the gate believed in (logits of 7-9).
Each piece here is made exactly as the reader makes one: training digits drawn on a canvas or
photographed (``robustness.numbers``) and cut into a line's pieces by ``engine.segment.cut_line``.
Half of them are *halves*: a single digit's piece cut again at every candidate cut
``engine.segment.cuts`` proposes. Left out: halves as narrow as a stroke (those may be a real 1),
and halves holding most of the digit's ink (a sliver cut off an edge leaves the digit itself).
The other half are *touching pairs*: two digits pushed together until they touch, one piece.
Every piece is preprocessed as the reader preprocesses a piece.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from inkdigit.engine.imageio import ImageInputError, to_pixels
from inkdigit.engine.preprocess import DEFAULT_CONFIG, PreprocessConfig, preprocess, source_digest, stroke_width
from inkdigit.engine.segment import cut_line, cuts, split
from inkdigit.paths import cache_dir

#: a half narrower than this × its height is a stroke (it may be a 1): never a negative
STROKE = 0.35
#: a half holding more than this share of its piece's ink is most of the digit (a sliver was cut
#: off an edge): still that digit, so never a negative; one holding less than LEAST is a speck
MOST, LEAST = 0.65, 0.15
#: ink whose spread across its main axis is below THIN × its spread along it, or below WIDTH × its
#: stroke width (a thick bar, however short), is one straight stroke at any slant: maybe a 1, never a
#: negative. On MNIST train: 97 % of 1s are strokes so, and 0.2 % of the other digits.
THIN, WIDTH = 0.3, 0.55
#: a touching pair's piece is at least this wide, × its height
PAIR_WIDE = 0.75
#: the work is cut into this many chunks, each with its own seed, however many processes run them,
#: so the pieces depend on the seed alone
CHUNKS = 8


def _is_stroke(image: np.ndarray) -> bool:
    """Whether a preprocessed (28, 28) image in [0, 1] is one straight stroke."""
    ys, xs = np.nonzero(image > 0.2)
    if len(xs) < 3:
        return True
    cov = np.cov(np.stack([xs, ys]).astype(np.float64), aweights=image[ys, xs])
    low, high = (float(np.sqrt(max(v, 0.0))) for v in np.linalg.eigvalsh(cov))
    return low < THIN * high or low < WIDTH * stroke_width(image)


def _work(args: tuple[int, int, np.ndarray, PreprocessConfig]) -> np.ndarray:
    from inkdigit.training.robustness.numbers import Layout, render_canvas, render_photo

    n, seed, digits, cfg = args
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    while len(out) < n:
        pair = rng.random() < 0.5
        chosen = [digits[int(i)].astype(np.float32) / 255.0 for i in rng.integers(len(digits), size=1 + pair)]
        render = render_canvas if rng.random() < 0.6 else render_photo
        try:
            line = cut_line(to_pixels(render(chosen, rng, Layout(touching=True))), cfg)
        except ImageInputError:
            continue
        if pair:  # the two digits as one piece (a digit drawn in two strokes makes more: skipped),
            # as wide as two digits are (one digit may hide the other, or be lost as a speck)
            if len(line.pieces) == 1 and line.pieces[0].box[2] >= PAIR_WIDE * line.pieces[0].box[3]:
                pre = preprocess(np.pad(line.pieces[0].ink, 2), cfg)
                if not pre.is_empty:
                    out.append((pre.image * 255).round().astype(np.uint8))
            continue
        for piece in line.pieces:
            total = float(piece.ink.sum())
            halves = [h for cut in cuts(piece, line.height) for h in (split(piece, cut) or ())]
            for half in halves:
                if half.box[2] < STROKE * half.box[3] or not LEAST <= half.ink.sum() / total <= MOST:
                    continue
                pre = preprocess(np.pad(half.ink, 2), cfg)
                if not pre.is_empty and not _is_stroke(pre.image):
                    out.append((pre.image * 255).round().astype(np.uint8))
    return np.stack(out[:n])


def make_fragments(n: int, seed: int, digits: np.ndarray, cfg: PreprocessConfig = DEFAULT_CONFIG,
                   workers: int | None = None) -> np.ndarray:
    """``n`` preprocessed halves of digits (n, 28, 28) uint8 from raw ``digits`` (N, 28, 28) uint8,
    reproducible from ``seed``; cached like the other prepared data."""
    here = Path(__file__).parent
    sources = (Path(__file__), here.parent / "engine" / "segment.py", here / "robustness" / "numbers.py",
               here / "robustness" / "common.py",
               here / "robustness" / "canvas.py", here / "robustness" / "photo.py")
    code = source_digest() + "".join(hashlib.sha256(p.read_bytes()).hexdigest() for p in sources)
    digest = hashlib.sha256(np.ascontiguousarray(digits).tobytes()).hexdigest()
    key = hashlib.sha256(f"{n}-{seed}-{code}-{cfg.to_dict()}-{digest}".encode()).hexdigest()[:16]
    path = cache_dir() / "prepared" / f"fragments-{key}.npy"
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
