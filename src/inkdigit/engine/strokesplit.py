"""Split two touching digits along their strokes, not along a line through the image.

Why: where two digits interleave (a 9's tail curling under the 6 beside it, a 7's bar over the
next digit, a 1 drawn against a 0), no straight cut and no seam from top to bottom separates
them: each must cut a stroke off one digit or hand it to the other. Measured on touching pairs
of MNIST and USPS *training* digits (canvases and photos, 200 per kind): among the pairs the
reader misread as one piece, the best straight cut or seam left each digit a median of 0.73-0.83
of its own ink, the best stroke cut 0.90-0.94 (``docs/experiments/cnn-v15/ownership.py``); a
minimum cut through the ink graph did no better than the straight cuts (every stroke is as thin as the place
where two digits touch). Ink drawn with a pen is strokes: this module cuts the piece's skeleton
into branches at its junctions, gives every ink pixel to the branch it is drawn around, and
proposes the ways of dealing the branches to a left and a right digit that follow the line's
left-to-right order (every order cut, with the branches spanning that cut given to either side).
The classifier then judges each proposal as it judges a cut (:mod:`inkdigit.engine.numbers`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from inkdigit.engine.segment import INK

#: a piece lower than this is enlarged to it (px) before its skeleton is taken: at a photo's
#: 30-40 px a stroke is 5 px wide and its skeleton too coarse to tell where two digits meet
TALL = 96
#: a piece whose skeleton has more branches than this is a scribble, not two digits
MAX_BRANCHES = 30
#: at most this many proposals per piece (each costs two reads)
PROPOSALS = 24
#: strokes wider than this × the digit height are a marker's: their skeleton is spurs, not strokes
#: (it dealt a bold 3 into "93"), and stroke cuts are not tried. Touching pairs drawn as the numbers
#: benchmark draws them (MNIST training digits, 150 canvases and photos): 0.12 median, 0.21 at the
#: 99th percentile; digits drawn with a thick marker (the tests' bold digits) 0.29-0.35
BOLD = 0.25
#: a branch this near an order cut (× the piece's width) is tried on the other side of it too
NEAR = 0.25

_K8 = np.ones((3, 3), np.uint8)


@dataclass(frozen=True, eq=False)
class StrokeCut:
    """A split of a piece's pixels between a left and a right digit along its strokes."""

    left: np.ndarray  # (H, W) bool: the pixels that go to the left digit

    def left_of(self, shape: tuple[int, int]) -> np.ndarray:
        """(H, W) mask of the pixels dealt to the left digit."""
        return self.left[:shape[0], :shape[1]]


def _owners(ink: np.ndarray, height: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Each pixel's branch of the skeleton (-1: around a junction, dealt with the left digit), and
    each branch's (mean, first, last) column; None for a skeleton with too few or too many
    branches, or strokes too bold (``BOLD``) for a digit ``height`` px high."""
    from skimage.morphology import skeletonize  # here: importing it costs 0.2 s, and most reads never split

    inked = ink > INK
    skeleton = skeletonize(inked)
    if skeleton.sum() < 3:
        return None
    across = cv2.distanceTransform(np.pad(inked.astype(np.uint8), 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    if 2 * float(np.median(across[skeleton])) > BOLD * height:
        return None
    neighbours = cv2.filter2D(skeleton.astype(np.uint8), -1, _K8, borderType=cv2.BORDER_CONSTANT) - skeleton
    junctions = cv2.dilate((skeleton & (neighbours >= 3)).astype(np.uint8), _K8).astype(bool)
    n, labels = cv2.connectedComponents((skeleton & ~junctions).astype(np.uint8), connectivity=8)
    if not 2 <= n - 1 <= MAX_BRANCHES:
        return None
    seeds = np.where(skeleton & ~junctions, labels, 0)
    seeds[skeleton & junctions] = -1
    _, (iy, ix) = ndimage.distance_transform_edt(~skeleton, return_indices=True)
    cols = np.nonzero(labels)[1]
    which = labels[labels > 0]
    spans = np.array([[cols[which == i].mean(), cols[which == i].min(), cols[which == i].max()]
                      for i in range(1, n)])
    return seeds[iy, ix], spans


def stroke_cuts(ink: np.ndarray, height: float, limit: int = PROPOSALS) -> list[StrokeCut]:
    """Ways to deal a piece's strokes to two digits, left to right (see the module's docstring);
    ``height`` is the line's digit height in the piece's pixels."""
    h0, w0 = ink.shape
    scale = max(1.0, TALL / max(h0, 1))
    work = ink if scale == 1.0 else cv2.resize(ink.astype(np.float32), (round(w0 * scale), round(h0 * scale)),
                                               interpolation=cv2.INTER_CUBIC)
    found = _owners(work, height * scale)
    if found is None:
        return []
    owner, spans = found
    if scale != 1.0:
        owner = cv2.resize(owner.astype(np.int32), (w0, h0), interpolation=cv2.INTER_NEAREST)
    order = np.argsort(spans[:, 0]) + 1  # branch ids, left to right by their middle
    middles = np.sort(spans[:, 0])
    # each order cut; one branch across it swapped; one near it swapped (a tail running on under
    # the next digit starts where that digit stands); two across it swapped
    tiers: list[list[set[int]]] = [[], [], [], []]
    near = NEAR * w0 * scale  # spans are in the enlarged piece's pixels
    for k in range(1, len(order)):
        base = {int(i) for i in order[:k]}
        border = (middles[k - 1] + middles[k]) / 2
        spanning = [i + 1 for i in range(len(spans)) if spans[i, 1] < border < spans[i, 2]]
        close = [i + 1 for i in range(len(spans)) if i + 1 not in spanning
                 and spans[i, 1] < border + near and spans[i, 2] > border - near]
        tiers[0].append(base)
        tiers[1] += [base ^ {b} for b in spanning]
        tiers[2] += [base ^ {b} for b in close]
        tiers[3] += [base ^ {a, b} for j, a in enumerate(spanning) for b in spanning[j + 1:]]
    proposals: list[StrokeCut] = []
    seen: set[frozenset[int]] = set()
    for left in (x for tier in tiers for x in tier):
        key = frozenset(left)
        if not key or len(key) == len(spans) or key in seen:
            continue
        seen.add(key)
        proposals.append(StrokeCut(np.isin(owner, list(key)) | (owner == -1)))
        if len(proposals) == limit:
            break
    return proposals
