"""Run the robustness suite: every rendering of the same test digits, read by one served model.

Each rendering (``<family>/<name>``) turns the *test* digits of MNIST or USPS into the bytes real
input arrives as, and the model reads them through :meth:`Recognizer.read_many`, exactly as the
server does (decoding, the card's preprocessing, calibration, rejection). A digit answered as
"not a digit" counts as wrong, as it does for the user, and is also counted as ``rejected``.

Determinism: the digits are one seeded sample of the test set, the same for every rendering; the
randomness of rendering a chunk of digits is seeded by (seed, rendering, chunk), so the figures do
not depend on how many processes run the chunks. Work runs in a process pool (one recognizer per
process, one ONNX thread each), because rendering and preprocessing are per-image Python work.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inkdigit.engine.imageio import ImageInputError
from inkdigit.engine.recognizer import Prediction, ReadRequest, ReadResult, Recognizer
from inkdigit.training import data
from inkdigit.training.robustness.common import Render, encode_png, to_u8

FAMILIES = ("clean", "scale", "canvas", "photo", "scan")
CHUNK = 50

#: progress callback: (rendering name, digits read so far, total digits to read)
SuiteProgress = Callable[[str, int, int], None]


def _native(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """The test image as the data set stores it (light ink on black), as a PNG."""
    return encode_png(to_u8(digit))


@functools.cache
def renderings() -> dict[str, Render]:
    """Every rendering, ``<family>/<name>`` → render function, in family order (built once per
    process: chunks and training images look renderings up by name, thousands of times)."""
    from inkdigit.training.robustness import canvas, photo, scale, scan

    found: dict[str, Render] = {"clean/native": _native}
    for family, module in (("scale", scale), ("canvas", canvas), ("photo", photo), ("scan", scan)):
        found.update({f"{family}/{name}": render for name, render in module.RENDERINGS.items()})
    return found


#: the families that apply to a data set's digits, where not all do: optdigits' 8×8 scans are
#: already the low-resolution input the ``scale`` family makes, and too coarse to trace, photograph
#: or corrupt like a 28 px digit
DATASET_FAMILIES: dict[str, tuple[str, ...]] = {"optdigits": ("clean", "scale")}


def select(patterns: Sequence[str] | None, dataset: str = "mnist") -> list[str]:
    """Rendering names matching any of ``patterns`` (shell globs, or a bare family name); without
    patterns, every rendering that applies to ``dataset``."""
    names = list(renderings())
    if not patterns:
        families = DATASET_FAMILIES.get(dataset)
        return [n for n in names if families is None or n.split("/")[0] in families]
    chosen = [n for n in names if any(fnmatch.fnmatch(n, p) or n.split("/")[0] == p for p in patterns)]
    if not chosen:
        raise ValueError(f"no rendering matches {', '.join(patterns)}; there are: {', '.join(names)}")
    return chosen


@dataclass
class RenderingResult:
    """How one model read one rendering: ``accuracy`` and ``rejected`` are fractions of ``n``."""

    n: int
    accuracy: float
    rejected: float
    unreadable: int = 0  # images the reader refused as input (should stay 0)


@dataclass
class SuiteResult:
    dataset: str
    model: str
    seed: int
    limit: int
    renderings: dict[str, RenderingResult] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The ``--json`` contract: dataset, model, and per rendering n / accuracy / rejected."""
        return {"dataset": self.dataset, "model": self.model, "seed": self.seed,
                "renderings": {k: asdict(v) for k, v in self.renderings.items()}}

    @classmethod
    def from_summary(cls, raw: dict[str, Any]) -> SuiteResult:
        """A result read back from its ``summary()`` (a saved JSON file)."""
        renderings = {k: RenderingResult(**v) for k, v in raw["renderings"].items()}
        limit = max((r.n for r in renderings.values()), default=0)
        return cls(raw["dataset"], raw["model"], int(raw.get("seed", 0)), limit, renderings)


def sample(dataset: data.DatasetName, limit: int | None, seed: int,
           root: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``limit`` test digits (all if None), drawn once for the seed: (N, H, W) float32 in [0, 1], labels."""
    digits = data.load(dataset, "test", root)
    order = np.random.default_rng(seed).permutation(len(digits.labels))
    if limit is not None:
        order = np.sort(order[:limit])
    return digits.images[order].astype(np.float32) / 255.0, digits.labels[order].astype(np.int64)


_worker_recognizers: list[Recognizer] = []


def _init_worker(cards: list[str]) -> None:
    global _worker_recognizers
    _worker_recognizers = [Recognizer(card, threads=1) for card in cards]


def _chunk_rng(seed: int, name: str, chunk: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode()), chunk])


def _counts(results: Sequence[ReadResult], labels: np.ndarray) -> tuple[int, int, int, int]:
    correct = rejected = unreadable = 0
    for result, label in zip(results, labels, strict=True):
        if isinstance(result, ImageInputError):
            unreadable += 1
            continue
        assert isinstance(result, Prediction)
        correct += int(result.digit == label)
        rejected += int(result.digit is None)
    return len(labels), correct, rejected, unreadable


def read_chunk(recs: Sequence[Recognizer], name: str, images: np.ndarray, labels: np.ndarray, seed: int,
               chunk: int) -> list[tuple[int, int, int, int]]:
    """Render one chunk once and read it with each of ``recs``: per model (n, correct, rejected,
    unreadable). Rendering costs more than reading (a photo is 640×480), so models compared on the
    same images share it."""
    render = renderings()[name]
    rng = _chunk_rng(seed, name, chunk)
    requests = [ReadRequest(render(img, rng)) for img in images]
    return [_counts(rec.read_many(requests), labels) for rec in recs]


def _pooled_chunk(name: str, images: np.ndarray, labels: np.ndarray, seed: int,
                  chunk: int) -> list[tuple[int, int, int, int]]:
    assert _worker_recognizers, "the pool initialiser loads the recognizers"
    return read_chunk(_worker_recognizers, name, images, labels, seed, chunk)


def _chunks(n: int) -> Iterator[tuple[int, slice]]:
    for k, start in enumerate(range(0, n, CHUNK)):
        yield k, slice(start, min(n, start + CHUNK))


def run(card: Path, dataset: data.DatasetName, names: Sequence[str] | None = None, limit: int | None = 1000,
        seed: int = 0, root: str | None = None, workers: int | None = None,
        progress: SuiteProgress | None = None) -> SuiteResult:
    """Measure the model of ``card`` on each rendering in ``names`` (default all) of ``dataset``."""
    return run_models([card], dataset, names, limit, seed, root, workers, progress)[0]


def run_models(cards: Sequence[Path], dataset: data.DatasetName, names: Sequence[str] | None = None,
               limit: int | None = 1000, seed: int = 0, root: str | None = None, workers: int | None = None,
               progress: SuiteProgress | None = None) -> list[SuiteResult]:
    """:func:`run` for several models on the very same rendered images, each rendered once: one
    result per card, in order, each what :func:`run` gives for that card alone."""
    started = time.perf_counter()
    chosen = list(names) if names else select(None, dataset)
    images, labels = sample(dataset, limit, seed, root)
    results = [SuiteResult(dataset, Recognizer(card, threads=1).name, seed, len(labels)) for card in cards]
    workers = workers or os.cpu_count() or 1
    totals = {name: np.zeros((len(cards), 4), dtype=np.int64) for name in chosen}
    done, total = 0, len(chosen) * len(labels)
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=([str(c) for c in cards],)) as pool:
        futures = [(name, pool.submit(_pooled_chunk, name, images[part], labels[part], seed, k))
                   for name in chosen for k, part in _chunks(len(labels))]
        for name, future in futures:
            counts = np.array(future.result(), dtype=np.int64)
            totals[name] += counts
            done += int(counts[0, 0])
            if progress:
                progress(name, done, total)
    seconds = round(time.perf_counter() - started, 1)
    for m, result in enumerate(results):
        for name in chosen:
            n, correct, rejected, unreadable = (int(v) for v in totals[name][m])
            result.renderings[name] = RenderingResult(n, round(correct / max(1, n), 5),
                                                      round(rejected / max(1, n), 5), unreadable)
        result.seconds = seconds
    return results


def plot(results: Sequence[SuiteResult], path: Path) -> Path:
    """A horizontal bar chart of accuracy per rendering, one bar per result (model), to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(n for r in results for n in r.renderings))
    height = max(3.0, 0.22 * len(names) * max(1, len(results)) + 1.0)
    fig, ax = plt.subplots(figsize=(8, height))
    bar = 0.8 / max(1, len(results))
    ys = np.arange(len(names))
    for k, r in enumerate(results):
        acc = [100 * r.renderings[n].accuracy if n in r.renderings else 0.0 for n in names]
        ax.barh(ys + k * bar, acc, height=bar, label=f"{r.model} (n = {r.limit})")
    ax.set_yticks(ys + bar * (len(results) - 1) / 2, names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(max(0.0, min(50.0, *(100 * v.accuracy for r in results for v in r.renderings.values())) - 5), 100)
    ax.set_xlabel("accuracy (%): digits read correctly; 'not a digit' counts as wrong")
    ax.set_title(f"Robustness suite, {results[0].dataset.upper()} test digits")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
