"""How well the reader's candidate cuts can part a touching pair, by whose ink each side holds.

python docs/experiments/cnn-v15/ownership.py MODEL [N] [--no-strokes]

For N touching pairs of MNIST and USPS *training* digits per rendering (canvas, photo; seed 11),
each pair is drawn three times from one generator state (``Layout.only``: the pair, then each
digit alone on the same line, paper and noise), so the share of each digit's ink on either side of
a cut is known. Per pair the reader misreads as a single piece: the best candidate's "own share",
min(left digit's ink on the left, right digit's ink on the right), over the straight cuts and
seams, and over the stroke cuts; printed as quartiles, and how many reach 0.9. With
``--no-strokes`` the pairs are read as before stroke cuts (the pairs that reader misread).
"""

from __future__ import annotations

import sys

import numpy as np

from inkdigit.engine import numbers as nb
from inkdigit.engine.grouping import merge_broken
from inkdigit.engine.imageio import Fit, to_pixels
from inkdigit.engine.pieces import read_pieces
from inkdigit.engine.recognizer import Recognizer
from inkdigit.engine.segment import INK, _reduced, cut_line, cuts, line_ink, seams
from inkdigit.engine.strokesplit import stroke_cuts
from inkdigit.paths import store
from inkdigit.training import data
from inkdigit.training.fragments import _shares
from inkdigit.training.robustness.numbers import Layout, drawn_apart, render_canvas, render_photo


def own_share(own: list[np.ndarray], left: np.ndarray) -> float:
    return min(_shares(own[0], left), 1 - _shares(own[1], left))


def main() -> None:
    if "--no-strokes" in sys.argv:
        sys.argv.remove("--no-strokes")
        nb.STROKES_WIDE = float("inf")
    rec = Recognizer(store().find(sys.argv[1]))
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    for ds, start in (("mnist", 50000), ("usps", 0)):
        digits = data.load(ds, "train")
        images, labels = digits.images[start:].astype(np.float32) / 255.0, digits.labels[start:]
        for name, render in (("canvas", render_canvas), ("photo", render_photo)):
            rng = np.random.default_rng([11, len(ds), len(name)])
            right, lines, strokes = 0, [], []
            for _ in range(n):
                pick = rng.integers(0, len(images), 2)
                truth = "".join(str(int(x)) for x in labels[pick])
                drawn = drawn_apart(render, list(images[pick]), rng, Layout(touching=True))
                if rec.read_number(drawn[0]).text == truth:
                    right += 1
                    continue
                px = [to_pixels(b, nb.DEFAULT_LIMITS, Fit(nb.WORK_HEIGHT, nb.WORK_WIDTH)) for b in drawn]
                line = cut_line(px[0], rec.preprocess_config)
                reads, _ = merge_broken(rec, read_pieces(rec, line.pieces), line.height, line.marks)
                alone = [line_ink(_reduced(p)[0], rec.preprocess_config) for p in px[1:]]
                if len(reads) != 1 or alone[0] is None or alone[1] is None:
                    continue
                p = reads[0].piece
                x, y, w, h = p.box
                own = [np.where(p.ink > INK, a[y:y + h, x:x + w], 0.0) for a in alone]
                shape = p.ink.shape
                lines.append(max([own_share(own, c.left_of(shape)) for c in [*cuts(p, line.height),
                                                                              *seams(p, line.height)]] or [0.0]))
                strokes.append(max([own_share(own, c.left_of(shape)) for c in stroke_cuts(p.ink, line.height)]
                                   or [0.0]))
            for label, best in (("cuts and seams", lines), ("stroke cuts", strokes)):
                q = [round(float(v), 3) for v in np.quantile(best, [0.25, 0.5, 0.75])] if best else []
                print(f"{ds} {name}: {right}/{n} read; misread as one piece: {len(best)}; {label}: quartiles "
                      f"{q}, >= 0.9: {sum(b >= 0.9 for b in best)}")


if __name__ == "__main__":
    main()
