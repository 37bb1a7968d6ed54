"""Latency of reading a whole number, and what the stroke cuts for touching digits cost.

Renders numbers of 2–10 MNIST *training* digits as the numbers benchmark does (canvas and photo,
with and without a touching pair; seeded) and reads each with ``Recognizer.read_number`` twice,
in turn: as shipped (straight cuts, seams and stroke cuts) and with stroke cuts switched off (the
reader before them), so both are timed on the same inputs in the same run while the machine's
speed drifts. Prints median / p90 per reader and the median of the per-number ratio.
Run: ``INKDIGIT_DATA_DIR=… python benchmarks/bench_numbers.py [--numbers 200] [--model NAME]``.
"""

from __future__ import annotations

import argparse
import time
import zlib

import numpy as np

from inkdigit import paths
from inkdigit.engine import numbers
from inkdigit.engine.recognizer import Recognizer
from inkdigit.training import data
from inkdigit.training.robustness.numbers import RENDERINGS


def timed(rec: Recognizer, image: bytes) -> float:
    t = time.perf_counter()
    rec.read_number(image)
    return (time.perf_counter() - t) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--numbers", type=int, default=200, help="numbers in all, split over the renderings")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    rec = Recognizer(paths.store().find(args.model or paths.default_model()))
    digits = data.load("mnist", "train")
    images = digits.images.astype(np.float32) / 255.0
    inputs: list[bytes] = []
    for name, render in RENDERINGS.items():
        rng = np.random.default_rng([zlib.crc32(name.encode()), 20261203])
        for _ in range(args.numbers // len(RENDERINGS)):
            pick = rng.integers(0, len(images), int(rng.integers(2, 11)))
            inputs.append(render(list(images[pick]), rng))
    shipped = numbers.STROKES_WIDE
    both, straight = [], []
    for image in [*inputs[:10], *inputs]:  # the first ten warm up
        both.append(timed(rec, image))
        numbers.STROKES_WIDE = float("inf")  # the baseline: no piece is wide enough for stroke cuts
        try:
            straight.append(timed(rec, image))
        finally:
            numbers.STROKES_WIDE = shipped
    both, straight = both[10:], straight[10:]
    for label, ms in (("cuts, seams, stroke cuts (shipped)", both), ("cuts and seams (baseline)", straight)):
        q = np.percentile(ms, [50, 90])
        print(f"{label:<36} median {q[0]:7.1f} ms   p90 {q[1]:7.1f} ms")
    ratio = np.median(np.array(both) / np.array(straight))
    print(f"{len(inputs)} numbers, {rec.name}; median ratio shipped / baseline: {ratio:.2f}")


if __name__ == "__main__":
    main()
