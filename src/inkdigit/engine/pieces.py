"""One line's pieces read as digits: each through the single-digit preprocessing, all in one model
call, and how much each reads like one whole digit (:meth:`PieceRead.quality`), which both the
grouping of broken digits (:mod:`inkdigit.engine.grouping`) and the splitting of touching ones
(:mod:`inkdigit.engine.numbers`) maximise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from inkdigit.engine.preprocess import PreprocessConfig, preprocess
from inkdigit.engine.segment import Piece

if TYPE_CHECKING:
    from inkdigit.engine.recognizer import Recognizer

#: a piece lower than this × the digit height is probably part of a digit (a 5's bar)
SHORT = 0.55
#: a piece lower than this × the digit height reads less like a digit the lower it is (the digits
#: of a number are about as tall as each other): a cut that leaves a 6 its loop alone, or a 7 its
#: bar, gives a piece too low to be a whole digit
LOW = 0.9
#: the piece scorer's logit is divided by this before it is taken as a probability. Why: taken
#: as it is, it doubted whole digits drawn unusually (a 9 at logit -5.5, a 5 twice as wide as tall)
#: so far that the classifier's confident halves won and the digit was split ("9" → "01"). Measured
#: with cnn-v6 on numbers of MNIST and USPS *training* digits (300 per rendering, seed 7; canvas,
#: canvas with a touching pair, photo, photo with a touching pair): 1 → 2 took MNIST from 90.7 /
#: 69.3 / 93.3 / 68.0 to 92.7 / 70.3 / 93.7 / 66.3 % and USPS from 90.0 / 66.0 / 95.0 / 59.3 to
#: 90.7 / 67.3 / 95.3 / 59.7 %; 3 gained less (MNIST 93.0 / 70.0 / 93.7 / 65.7), and no
#: scorer at all read 19 % of the touching pairs
WHOLE_TEMPERATURE = 2.0


@dataclass
class PieceRead:
    """A piece and what the model made of it (``probs`` None: blank after preprocessing)."""

    piece: Piece
    probs: np.ndarray | None  # None: blank after preprocessing
    gate: float | None
    image: np.ndarray | None = None  # preprocessed
    whole: float | None = None  # the piece scorer's logit: one whole digit, not part of one or two

    def quality(self, rec: Recognizer, height: float) -> float:
        """How much this reads like one digit: its confidence, times the belief that it is one
        whole digit (the piece scorer's, else the gate's), less the lower it is than the line's
        digits (a stray bar, or a 6's loop cut from its stroke, is no whole digit)."""
        if self.probs is None:
            return 0.0
        q = float(self.probs.max())
        if self.piece.box[3] < SHORT * height:
            q *= 0.3
        q *= min(1.0, self.piece.box[3] / (LOW * height)) ** 3
        if q < rec.min_confidence:
            q *= 0.1
        belief = self.whole / WHOLE_TEMPERATURE if self.whole is not None else self.gate
        if belief is not None:  # as a probability (the gate's threshold is set far more leniently)
            q *= 0.5 * (1.0 + math.tanh(belief / 2))  # the logistic function, without overflow
        return q


def framed(ink: np.ndarray) -> np.ndarray:
    """A piece's ink with a margin of background: 2 px, or a quarter of its larger side when ink
    covers a third of its box. Why: the single-digit preprocessing takes an image's commonest
    colour for its background, and a bold stroke filling a tight box would be taken for it (an 8
    written with a thick marker was read as its hollow outline, a 7); with the wide margin,
    background is most of the image. Only bold pieces get it: the wide margin on every piece cost 8 %
    more time per number, on bold ones alone 3 % (median ratios, 160 canvas and photo numbers).
    A single-digit image cropped tight round a bold digit still has this problem: the margin
    fixes the number path, where the ink's polarity is known, not the shared preprocessing."""
    bold = np.count_nonzero(ink > 0.5) > ink.size / 3
    return np.pad(ink, 2 + max(ink.shape) // 4 if bold else 2)


def piece_config(cfg: PreprocessConfig) -> PreprocessConfig:
    """The preprocessing a piece of a line is read with: the card's, but v3 for a v4 card. v4
    differs from v3 on thumbnails only (images at most 12 px), made for 8×8 scans; a piece that
    small is a digit of a small handwritten number, whose faint edge v4's low ink floor keeps:
    numbers of four 7–8 px digits were read worse through it (a review's check, 30 numbers: 19 → 17
    right with cnn-v15's weights; the numbers benchmark's digits are larger and read alike). So
    pieces keep v3's reading."""
    return replace(cfg, version="3") if cfg.version == "4" else cfg


def read_pieces(rec: Recognizer, pieces: list[Piece]) -> list[PieceRead]:
    """Every piece preprocessed as a single digit, all read in one model call."""
    cfg = piece_config(rec.preprocess_config)
    pres = [preprocess(framed(p.ink), cfg) for p in pieces]
    live = [i for i, pre in enumerate(pres) if not pre.is_empty]
    out = [PieceRead(p, None, None) for p in pieces]
    if live:
        probs, gate, whole = rec.piece_scores(np.stack([pres[i].image for i in live]))
        for k, i in enumerate(live):
            out[i] = PieceRead(pieces[i], probs[k], None if gate is None else float(gate[k]), pres[i].image,
                               None if whole is None else float(whole[k]))
    return out
