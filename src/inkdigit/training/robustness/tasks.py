"""The two benchmarks beside the digit suite: whole numbers, and telling non-digits apart.

``numbers``: numbers of 2–10 *test* digits laid out as people write them (:mod:`.numbers`), as canvas
drawings and photos, with and without a touching pair, read by ``Recognizer.read_number`` and scored
on the whole string. ``rejection``: synthetic non-digits of every kind (:mod:`inkdigit.training.negatives`,
drawn from generators no training run uses, pairs made of *test* digits), blank images and photos
of empty sheets (paper, a shadow's edge, ruled lines, an empty form box), scored as the
fraction answered "not a digit"; beside them the fraction of real test digits (MNIST, USPS) that
are rejected. Both return a :class:`~.suite.SuiteResult`, so the CLI prints, plots and writes them
in the digit suite's JSON shape.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image

from inkdigit.engine.imageio import ImageInputError
from inkdigit.engine.recognizer import Prediction, ReadRequest, Recognizer
from inkdigit.training import data
from inkdigit.training.robustness.suite import RenderingResult, SuiteResult

#: the lengths a numbers run draws from, evenly
LENGTHS = range(2, 11)


def _rng(seed: int, name: str, k: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode()), k, 20261202])


def run_numbers(card: str, dataset: data.DatasetName = "mnist", limit: int = 200, seed: int = 0,
                root: str | None = None, progress: Callable[[str, int, int], None] | None = None) -> SuiteResult:
    """``limit`` numbers per rendering; entries ``numbers/<rendering>`` and ``length/<n>``."""
    from inkdigit.training.robustness.numbers import RENDERINGS

    started = time.perf_counter()
    rec = Recognizer(card)
    digits = data.load(dataset, "test", root)
    images = digits.images.astype(np.float32) / 255.0
    result = SuiteResult(dataset, rec.name, seed, limit)
    by_length: dict[int, list[int]] = {n: [0, 0] for n in LENGTHS}
    done, total = 0, limit * len(RENDERINGS)
    for name, render in RENDERINGS.items():
        rng = _rng(seed, name)
        right = unreadable = 0
        for _ in range(limit):
            length = int(rng.choice(list(LENGTHS)))
            pick = rng.integers(0, len(images), length)
            truth = "".join(str(int(d)) for d in digits.labels[pick])
            try:
                ok = rec.read_number(render(list(images[pick]), rng)).text == truth
            except ImageInputError:
                ok, unreadable = False, unreadable + 1
            right += ok
            by_length[length][0] += ok
            by_length[length][1] += 1
            done += 1
            if progress:
                progress(f"numbers/{name}", done, total)
        result.renderings[f"numbers/{name}"] = RenderingResult(limit, round(right / limit, 5), 0.0, unreadable)
    for length, (right, n) in by_length.items():
        if n:
            result.renderings[f"length/{length}"] = RenderingResult(n, round(right / n, 5), 0.0)
    result.seconds = round(time.perf_counter() - started, 1)
    return result


def _blank(rng: np.random.Generator) -> Image.Image:
    """An empty canvas or sheet (maybe a faint smudge of paper texture): must be ``is_empty``."""
    side = int(rng.integers(28, 600))
    paper = rng.normal(float(rng.uniform(200, 255)), float(rng.uniform(0, 2)), (side, side))
    return Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))


#: what an empty sheet's photo may hold besides paper: nothing, a shadow's edge, ruled lines, a form's empty box
_EMPTY_SHEETS = ("paper", "shadow", "ruled", "box")


def _blank_photo(rng: np.random.Generator) -> bytes:
    """A phone photo of a sheet with nothing written on it, as the photo renderings take them: paper
    with its lighting, and maybe a shadow's edge, ruled lines or a form's empty box. Not a digit."""
    from inkdigit.training.robustness.photo import Extras, render_photo

    sheet = _EMPTY_SHEETS[int(rng.integers(len(_EMPTY_SHEETS)))]
    extras = Extras(shadow=sheet == "shadow", ruled=sheet == "ruled", box=sheet == "box")
    return render_photo(np.zeros((28, 28), np.float32), rng, extras)


def _non_digit(kind: str, rng: np.random.Generator, pairs_from: np.ndarray) -> Image.Image | bytes:
    from inkdigit.training import negatives

    if kind == "pair":
        return negatives._pair(rng, pairs_from)
    if kind == "blank":
        return _blank(rng)
    if kind == "blank-photo":
        return _blank_photo(rng)
    made: Image.Image | bytes = getattr(negatives, f"_{kind}")(rng)
    return made


def run_rejection(card: str, limit: int = 200, seed: int = 0, root: str | None = None,
                  progress: Callable[[str, int, int], None] | None = None,
                  digit_limit: int | None = None) -> SuiteResult:
    """``limit`` non-digits per kind (``negatives/<kind>``: accuracy = fraction rejected) and the
    MNIST and USPS test digits (``digits/<dataset>``, all of them or the first ``digit_limit``:
    accuracy as read, ``rejected`` the fraction answered "not a digit")."""
    from inkdigit.training import negatives

    started = time.perf_counter()
    rec = Recognizer(card)
    result = SuiteResult("negatives", rec.name, seed, limit)
    pairs_from = data.load("mnist", "test", root).images
    kinds = [*negatives.KINDS, "blank", "blank-photo"]
    done, total = 0, limit * len(kinds)
    for kind in kinds:
        rng = _rng(seed, kind)
        reads = rec.read_many([ReadRequest(_non_digit(kind, rng, pairs_from)) for _ in range(limit)])
        said_no = sum(1 for r in reads if isinstance(r, Prediction) and not r.is_digit)
        unreadable = sum(1 for r in reads if isinstance(r, ImageInputError))
        result.renderings[f"negatives/{kind}"] = RenderingResult(limit, round(said_no / limit, 5),
                                                                 round(said_no / limit, 5), unreadable)
        done += limit
        if progress:
            progress(f"negatives/{kind}", done, total)
    for dataset in ("mnist", "usps"):
        digits = data.load(dataset, "test", root)  # type: ignore[arg-type]
        images, labels = digits.images[:digit_limit], digits.labels[:digit_limit]
        reads = rec.read_many([ReadRequest(img) for img in images])
        preds = [r for r in reads if isinstance(r, Prediction)]
        right = sum(1 for r, y in zip(reads, labels, strict=True) if isinstance(r, Prediction) and r.digit == y)
        rejected = sum(1 for r in preds if not r.is_digit)
        n = len(labels)
        result.renderings[f"digits/{dataset}"] = RenderingResult(n, round(right / n, 5), round(rejected / n, 5),
                                                                 n - len(preds))
    result.seconds = round(time.perf_counter() - started, 1)
    return result
