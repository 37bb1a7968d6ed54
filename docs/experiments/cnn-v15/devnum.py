"""Whole numbers read, on numbers of MNIST and USPS *training* digits: where the reader was tuned.

python docs/experiments/cnn-v15/devnum.py MODEL [N] [SEED] [--no-strokes]

The numbers benchmark (``inkdigit robustness --task numbers``) draws *test* digits, which no choice
may be made on; this draws the same renderings (lengths 2-10) from MNIST train[50000:] and USPS
train, N per rendering (150) with SEED (7). ``--no-strokes``: the reader before stroke cuts.
Prints one line per rendering, a JSON object of them all and their mean.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from inkdigit.engine import numbers as nb
from inkdigit.engine.recognizer import Recognizer
from inkdigit.paths import store
from inkdigit.training import data
from inkdigit.training.robustness.numbers import RENDERINGS
from inkdigit.training.robustness.tasks import LENGTHS


def main() -> None:
    if "--no-strokes" in sys.argv:
        sys.argv.remove("--no-strokes")
        nb.STROKES_WIDE = float("inf")
    rec = Recognizer(store().find(sys.argv[1]))
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 150
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    result = {}
    for ds, start in (("mnist", 50000), ("usps", 0)):
        digits = data.load(ds, "train")
        images, labels = digits.images[start:].astype(np.float32) / 255.0, digits.labels[start:]
        for name, render in RENDERINGS.items():
            rng = np.random.default_rng([seed, len(ds), len(name)])
            right = 0
            for _ in range(n):
                pick = rng.integers(0, len(images), int(rng.choice(list(LENGTHS))))
                truth = "".join(str(int(x)) for x in labels[pick])
                right += rec.read_number(render(list(images[pick]), rng)).text == truth
            result[f"{ds}/{name}"] = round(right / n, 4)
            print(ds, name, result[f"{ds}/{name}"], flush=True)
    print(json.dumps(result))
    print("mean", round(float(np.mean(list(result.values()))), 4))


if __name__ == "__main__":
    main()
