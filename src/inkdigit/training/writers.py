"""Simulated writers: one person's habit, applied to public digits, drawn as a browser canvas draws.

Used to show (and test) that learning from corrections works: the shipped model was trained on
continental 1s with a short flag and reads them, but a writer whose flag is longer than the 1 is
tall, level with its top, with a short foot, makes 1s that look like a 7 with a straight stem;
the shipped model reads nearly all of them as 7 (measured: 7 of 200 MNIST-test 1s drawn so by
cnn-v5 read as 1). The digits are MNIST *training* 1s by default, so a model tuned on them is
still measured on test digits it has never seen in any form.
"""

from __future__ import annotations

import numpy as np

from inkdigit.training import data
from inkdigit.training.realistic import Strokes, _line, _unit


def long_flag_one(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A 1 with a lead-in flag longer than the digit is tall, almost level, and a short foot."""
    pts = np.concatenate(strokes)
    top, bottom = pts[np.argmin(pts[:, 1])], pts[np.argmax(pts[:, 1])]
    flag, angle = rng.uniform(1.1, 1.4), np.deg2rad(rng.uniform(0.0, 10.0))
    foot = rng.uniform(0.2, 0.3)
    return [*strokes, _line((top[0] - flag * np.cos(angle), top[1] + flag * np.sin(angle)), (top[0], top[1])),
            _line((bottom[0] - foot, bottom[1]), (bottom[0] + foot, bottom[1]))]


def long_flag_ones(n: int, seed: int = 0, split: data.Split = "train", root: str | None = None,
                   skip: int = 0) -> list[bytes]:
    """``n`` canvas PNGs of MNIST 1s (from the ``skip``-th on) written with :func:`long_flag_one`."""
    from inkdigit.training.robustness import canvas

    digits = data.load("mnist", split, root)
    ones = digits.images[digits.labels == 1]
    out: list[bytes] = []
    for i, digit in enumerate(ones[skip:], start=skip):
        if len(out) == n:
            break
        strokes = canvas.trace_strokes(digit.astype(np.float32) / 255.0)
        if strokes:
            rng = np.random.default_rng([seed, i])
            out.append(canvas.render_strokes(_unit(long_flag_one(_unit(strokes), rng)), rng))
    return out
