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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from inkdigit.engine.imageio import ImageInputError, to_pixels
from inkdigit.engine.preprocess import DEFAULT_CONFIG, PreprocessConfig, preprocess, source_digest, stroke_width
from inkdigit.engine.segment import INK, Cut, Seam, _reduced, cut_line, cuts, line_ink, seams, split
from inkdigit.engine.strokesplit import StrokeCut, stroke_cuts
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
T = TypeVar("T")

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


#: a half of a touching pair holding at least CLEAN of one digit's ink and at most 1 − CLEAN of the
#: other's is that digit, cut where it meets its neighbour: a whole digit to the piece scorer
CLEAN = 0.92
#: a half holding at least MIXED of each digit's ink is a digit with a piece of its neighbour
#: (or two halves): never one whole digit
MIXED = 0.2


def _shares(own: np.ndarray, left: np.ndarray) -> float:
    """The share of one digit's ink left of a cut."""
    total = float(own.sum())
    return float((own * left).sum()) / total if total > 0 else 0.0


#: with ``strokes``, at most this many of a pair's stroke cuts (drawn at random) are kept: the reader
#: proposes up to 24, and every one kept makes two halves of the same pair
STROKE_SAMPLE = 8


def _pair_cuts(args: tuple[int, int, np.ndarray, PreprocessConfig],
               strokes: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Halves of touching pairs cut where the reader tries to cut them, each labelled by whose ink
    it holds (each digit drawn alone with the same generator state tells): (whole digits, not).
    With ``strokes``, also along the pair's strokes (``engine.strokesplit``), as the reader cuts a
    piece its scorer doubts."""
    from inkdigit.engine.pieces import framed
    from inkdigit.training.robustness.numbers import Layout, drawn_apart, render_canvas, render_photo

    n, seed, digits, cfg = args
    rng = np.random.default_rng(seed)
    found: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    while min(len(found[0]), len(found[1])) < n:
        chosen = [digits[int(i)].astype(np.float32) / 255.0 for i in rng.integers(len(digits), size=2)]
        render = render_canvas if rng.random() < 0.6 else render_photo
        drawn = [to_pixels(b) for b in drawn_apart(render, chosen, rng, Layout(touching=True))]
        line = cut_line(drawn[0], cfg)
        if len(line.pieces) != 1 or line.pieces[0].box[2] < PAIR_WIDE * line.pieces[0].box[3]:
            continue
        piece = line.pieces[0]
        x, y, w, h = piece.box
        alone = [line_ink(_reduced(px)[0], cfg) for px in drawn[1:]]  # the same size as the pair's
        if alone[0] is None or alone[1] is None:
            continue
        inked = piece.ink > INK
        own = [np.where(inked, a[y:y + h, x:x + w], 0.0) for a in (alone[0], alone[1])]
        tried: list[Cut | Seam | StrokeCut] = [*cuts(piece, line.height), *seams(piece, line.height)]
        if strokes:
            proposed = stroke_cuts(piece.ink, line.height)
            keep = rng.permutation(len(proposed))[:STROKE_SAMPLE]
            tried += [proposed[int(i)] for i in sorted(keep)]
        for cut in tried:
            halves = split(piece, cut)
            if halves is None:
                continue
            left = cut.left_of(piece.ink.shape)
            a_left, b_left = _shares(own[0], left), _shares(own[1], left)
            for half, (a, b) in zip(halves, ((a_left, b_left), (1 - a_left, 1 - b_left)), strict=True):
                whole = max(a, b) >= CLEAN and min(a, b) <= 1 - CLEAN
                if not whole and min(a, b) < MIXED:
                    continue  # a digit less a sliver, or a part of one: the single-digit halves' kind
                pre = preprocess(framed(half.ink), cfg)
                if not pre.is_empty:
                    found[0 if whole else 1].append((pre.image * 255).round().astype(np.uint8))
    return np.stack(found[0][:n]), np.stack(found[1][:n])


def make_pair_cuts(n: int, seed: int, digits: np.ndarray, cfg: PreprocessConfig = DEFAULT_CONFIG,
                   workers: int | None = None, strokes: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``n`` halves of touching pairs that are one whole digit and ``n`` that are not (each
    (n, 28, 28) uint8), cut at the reader's candidate cuts (``strokes``: its stroke cuts too);
    reproducible from ``seed``, cached."""
    splitter = Path(__file__).parent.parent / "engine" / "strokesplit.py"
    path = (_cache_path("pair-strokes", n, seed, digits, cfg, (splitter,)) if strokes
            else _cache_path("pair-cuts", n, seed, digits, cfg))
    if path.exists():
        both = np.load(path)
        return both[:n], both[n:]
    parts = _in_chunks(partial(_pair_cuts, strokes=strokes), n, seed, digits, cfg, workers)
    whole, not_whole = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.concatenate([whole, not_whole]))
    return whole, not_whole


def _in_chunks(work: Callable[[tuple[int, int, np.ndarray, PreprocessConfig]], T], n: int, seed: int,
               digits: np.ndarray, cfg: PreprocessConfig, workers: int | None) -> list[T]:
    """``work`` on CHUNKS chunks of ``n``, each with its own seed, in as many processes as there are
    cores: the results depend on the seed alone, not on the number of processes."""
    workers = workers or os.cpu_count() or 1
    chunks = [(len(c), seed * 1000 + i, digits, cfg) for i, c in enumerate(np.array_split(np.arange(n), CHUNKS))
              if len(c)]
    if workers == 1 or n < 500:
        return [work(c) for c in chunks]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(work, chunks))


def _cache_path(kind: str, n: int, seed: int, digits: np.ndarray, cfg: PreprocessConfig,
                extra: tuple[Path, ...] = ()) -> Path:
    """Where prepared pieces are cached: keyed by everything that makes them (this module, the
    segmentation, the renderers, the preprocessing, and the ``extra`` sources of this kind), so a
    change to any of them makes them anew."""
    here = Path(__file__).parent
    sources = (Path(__file__), here.parent / "engine" / "segment.py", here.parent / "engine" / "pieces.py",
               here / "robustness" / "numbers.py", here / "robustness" / "common.py",
               here / "robustness" / "canvas.py", here / "robustness" / "photo.py", *extra)
    code = source_digest() + "".join(hashlib.sha256(p.read_bytes()).hexdigest() for p in sources)
    digest = hashlib.sha256(np.ascontiguousarray(digits).tobytes()).hexdigest()
    key = hashlib.sha256(f"{n}-{seed}-{code}-{cfg.to_dict()}-{digest}".encode()).hexdigest()[:16]
    return cache_dir() / "prepared" / f"{kind}-{key}.npy"


def make_fragments(n: int, seed: int, digits: np.ndarray, cfg: PreprocessConfig = DEFAULT_CONFIG,
                   workers: int | None = None) -> np.ndarray:
    """``n`` preprocessed halves of digits (n, 28, 28) uint8 from raw ``digits`` (N, 28, 28) uint8,
    reproducible from ``seed``; cached like the other prepared data."""
    path = _cache_path("fragments", n, seed, digits, cfg)
    if path.exists():
        return np.load(path)
    images = np.concatenate(_in_chunks(_work, n, seed, digits, cfg, workers))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, images)
    return images
