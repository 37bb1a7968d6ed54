"""Regression check: the shipped default model on a small, seeded sample of the robustness suite.

The full suite is a documented command (README, "What it reads"); this runs 100 test digits of one
or two renderings per family, so a change to preprocessing, the renderings or the model that costs
real-input accuracy fails here. Thresholds sit a little under what the shipped model measured on
this very sample (seed 0), to absorb nothing but floating-point noise across machines.
"""

from __future__ import annotations

import pytest

from inkdigit import paths
from inkdigit.training.robustness import suite

#: rendering → (lowest accuracy, highest rejected fraction) on 100 digits, seed 0; cnn-v4 measured
MNIST = {
    "clean/native": (0.96, 0.02),  # measured 0.99 / 0.00
    "scale/x8-bilinear": (0.96, 0.02),  # measured 0.99 / 0.00
    "scale/from8-x8-nearest": (0.96, 0.02),  # measured 0.99 / 0.00
    "scale/from8-x8-bilinear": (0.93, 0.02),  # measured 0.96 / 0.00
    "canvas/opaque-dark-ink": (0.95, 0.02),  # measured 0.98 / 0.00
    "canvas/thin-pen": (0.96, 0.02),  # measured 0.99 / 0.00
    "photo/paper": (0.96, 0.02),  # measured 0.99 / 0.00
    "photo/shadow": (0.95, 0.02),  # measured 0.98 / 0.00
    "photo/form-box": (0.95, 0.02),  # measured 0.98 / 0.00
    "scan/binarised": (0.95, 0.02),  # measured 0.98 / 0.00
    "scan/impulse-noise": (0.7, 0.1),  # measured 0.73 / 0.08
}
USPS = {
    "clean/native": (0.95, 0.02),  # measured 0.98 / 0.00
    "scale/x8-bilinear": (0.95, 0.02),  # measured 0.98 / 0.00
    "scale/from8-x8-nearest": (0.95, 0.03),  # measured 0.98 / 0.01
    "scale/from8-x8-bilinear": (0.95, 0.02),  # measured 0.98 / 0.00
    "canvas/opaque-dark-ink": (0.95, 0.03),  # measured 0.98 / 0.01
    "canvas/thin-pen": (0.94, 0.03),  # measured 0.97 / 0.01
    "photo/paper": (0.94, 0.03),  # measured 0.97 / 0.01
    "photo/shadow": (0.94, 0.03),  # measured 0.97 / 0.01
    "photo/form-box": (0.93, 0.04),  # measured 0.96 / 0.02
    "scan/binarised": (0.94, 0.04),  # measured 0.97 / 0.02
    "scan/impulse-noise": (0.85, 0.09),  # measured 0.88 / 0.07
}
#: UCI's real 8×8 scans: the answer must not depend on the size they are enlarged to
OPTDIGITS = {
    "clean/native": (0.89, 0.02),  # measured 0.92 / 0.00
    "scale/x8-nearest": (0.89, 0.02),  # measured 0.92 / 0.00
    "scale/x8-bilinear": (0.91, 0.02),  # measured 0.94 / 0.00
    "scale/x16-bicubic": (0.92, 0.02),  # measured 0.95 / 0.00
}


@pytest.mark.parametrize("dataset,expected", [("mnist", MNIST), ("usps", USPS), ("optdigits", OPTDIGITS)])
def test_the_shipped_model_reads_real_looking_input(dataset: str, expected: dict[str, tuple[float, float]]) -> None:
    card = paths.store().find(paths.default_model())
    result = suite.run(card, dataset, list(expected), limit=100, seed=0)  # type: ignore[arg-type]
    misses = {name: (r.accuracy, r.rejected) for name, r in result.renderings.items()
              if r.accuracy < expected[name][0] or r.rejected > expected[name][1]}
    assert not misses, f"below the regression thresholds {expected}: {misses}"
