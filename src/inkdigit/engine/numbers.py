"""Read a number: every digit of one line of handwriting, with its box, confidence and alternatives.

:mod:`inkdigit.engine.segment` cuts the line into pieces; each piece goes through the very same
preprocessing as a single digit and one model call reads them all (:mod:`inkdigit.engine.pieces`);
pieces of one digit broken by pen lifts are grouped again (:mod:`inkdigit.engine.grouping`). A
piece wider than a digit may be two digits that touch: for each such piece the straight cuts
crossing the least ink in its middle are tried, and on pieces wider than ``SEAM_WIDE`` digit
heights also the curved seams crossing the least ink (which go round a stroke overhanging the next
digit); both halves of every cut are read (again in one call), and the piece is split where the
halves read better than the whole, judged by the classifier's confidence and, when the model has
one, its piece scorer (a second gate, trained against halves of digits and touching pairs: with it,
the pieces tried start at 0.6 digit heights wide, so a touching "10" or "11" comes apart too) or
else its digit-or-not gate (which learnt that two digits side by side are not one digit). Halves
still wider than a digit are tried again, so three touching digits come apart too.

Measured on numbers made of MNIST and USPS *training* digits (never the benchmark's test digits),
600 per rendering: the piece scorer with 0.6 read 79.4 % of whole numbers on average over the four
renderings, against 74.3 % for the digit-or-not gate with 0.95 (and 77.2 % for the scorer with 0.95).
Seams beside the straight cuts, and a piece's quality falling with its height below 0.9 digit
heights, took numbers of MNIST training digits from 76.8 to 80.1 % (touching pairs on a canvas
68.7 → 73.0 %, in a photo 60.0 → 65.3 %; 300 per rendering) and of USPS ones from 73.4 to 76.5 %.

Pieces the piece scorer doubts are one digit are also cut along their strokes
(:mod:`inkdigit.engine.strokesplit`), which parts digits that interleave. Measured with cnn-v12 on
numbers of MNIST and USPS *training* digits (150 per rendering, seed 7): touching pairs on a
canvas 72.7 → 81.3 % (MNIST) and 70.7 → 84.7 % (USPS), in a photo 66.7 → 81.3 % and 61.3 → 75.3 %;
numbers without a touching pair as before (MNIST canvases 90.7 → 89.3 %, two numbers of 150, the
rest equal); with cnn-v15's piece scorer, trained on halves of touching pairs, 86.7 / 84.0 % and
84.0 / 79.3 %. A number takes 1.11 times as long with cnn-v15 (median of the per-number ratio,
120 numbers; 1.09 with cnn-v12; ``benchmarks/bench_numbers.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from inkdigit.engine.grouping import merge_broken
from inkdigit.engine.imageio import DEFAULT_LIMITS, Fit, ImageInput, ImageInputError, Limits, to_pixels
from inkdigit.engine.pieces import PieceRead, read_pieces
from inkdigit.engine.segment import (
    WORK_HEIGHT,
    WORK_WIDTH,
    Box,
    Cut,
    Line,
    Piece,
    Seam,
    SeparatorKind,
    cut_line,
    cuts,
    seams,
    spaces,
    split,
)
from inkdigit.engine.strokesplit import StrokeCut, stroke_cuts

if TYPE_CHECKING:
    from inkdigit.engine.recognizer import Recognizer

#: how many times a wide piece may be split again (three touching digits need two rounds)
SPLIT_ROUNDS = 3
#: a piece wider than this × the digit height is tried as two digits: by a model with a piece
#: scorer, and by one with only a digit-or-not gate (which would split narrow single digits)
WIDE_SCORED, WIDE = 0.6, 0.95
#: seams are tried on pieces wider than this × the digit height (narrower pairs, such as a touching
#: "11", do not interleave)
SEAM_WIDE = 0.9
#: how much better than the whole piece its two halves must read, by the piece's width in digit
#: heights: most digits are narrower than tall, a pair of them is wider (the first row that fits)
SPLIT_PRIOR = ((1.8, 0.1), (1.4, 0.7), (0.0, 1.5))


#: stroke cuts (:mod:`inkdigit.engine.strokesplit`) are tried on pieces wider than this × the digit
#: height that the piece scorer doubts are one digit (its logit below STROKES_LOGIT; without a piece
#: scorer, on pieces wider than WIDE): most single digits are wider than 0.6 heights, and stroke cuts
#: on every one of them doubled the time a number takes while only a pair gains from them
STROKES_WIDE, STROKES_LOGIT = 0.6, 0.0


def _strokes_tried(r: PieceRead, height: float) -> bool:
    if r.whole is None:
        return r.piece.box[2] > WIDE * height
    return r.piece.box[2] > STROKES_WIDE * height and r.whole < STROKES_LOGIT


def _split_prior(width: float, height: float) -> float:
    return next(prior for ratio, prior in SPLIT_PRIOR if width >= ratio * height)


#: where "?" stands in the text: a piece the model does not take for a digit
UNREAD = "?"
SEPARATOR_TEXT: dict[SeparatorKind, str] = {"space": " ", "dot": ".", "comma": ",", "dash": "-"}


class ImageTooWideError(ImageInputError):
    code = "image_too_wide"


class TooManyDigitsError(ImageInputError):
    code = "too_many_digits"


@dataclass(frozen=True)
class NumberLimits:
    """Refuse a line wider than ``max_width`` px, or holding more than ``max_digits`` digits."""

    max_width: int = 16384
    max_digits: int = 64


DEFAULT_NUMBER_LIMITS = NumberLimits()


@dataclass
class DigitReading:
    """One digit of a number: ``box`` is (x, y, width, height) in the input's pixels."""

    digit: int | None
    confidence: float
    box: Box
    top: list[tuple[int, float]]
    is_digit: bool
    image: np.ndarray | None = field(default=None, repr=False)  # the piece as the model saw it (28×28)


@dataclass
class SeparatorReading:
    """A space, dot, comma or dash between digits; ``after`` digits come before it."""

    kind: SeparatorKind
    box: Box
    after: int


@dataclass
class NumberReading:
    """What a line reads: ``text`` holds the digits ("?" for a piece that is no digit), ``formatted``
    the separators as well; ``confidence`` is the chance every digit is right (their product)."""

    text: str
    formatted: str
    confidence: float
    digits: list[DigitReading] = field(default_factory=list)
    separators: list[SeparatorReading] = field(default_factory=list)
    is_empty: bool = False
    elapsed_ms: float = 0.0


def _split_wide(rec: Recognizer, reads: list[PieceRead], height: float) -> list[PieceRead]:
    """Split every piece wider than a digit where its halves read better than it does."""
    for _ in range(SPLIT_ROUNDS):
        limit = WIDE_SCORED if rec.has_piece_scorer else WIDE
        wide = [i for i, r in enumerate(reads) if r.piece.box[2] > limit * height]
        options: list[tuple[int, Piece, Piece]] = []
        seen: set[tuple[int, Box, bytes]] = set()  # a seam through a gap and a straight cut often agree
        for i in wide:
            tried: list[Cut | Seam | StrokeCut] = [*cuts(reads[i].piece, height)]
            if reads[i].piece.box[2] > SEAM_WIDE * height:
                tried += seams(reads[i].piece, height)
            if _strokes_tried(reads[i], height):
                tried += stroke_cuts(reads[i].piece.ink, height)
            for cut in tried:
                halves = split(reads[i].piece, cut)
                if halves is not None and (key := (i, halves[0].box, halves[0].ink.tobytes())) not in seen:
                    seen.add(key)
                    options.append((i, *halves))
        if not options:
            return reads
        halves_read = read_pieces(rec, [p for _, a, b in options for p in (a, b)])
        best: dict[int, tuple[float, PieceRead, PieceRead]] = {}
        for k, (i, _, _) in enumerate(options):
            left, right = halves_read[2 * k], halves_read[2 * k + 1]
            q = left.quality(rec, height) * right.quality(rec, height)
            prior = _split_prior(reads[i].piece.box[2], height)
            if q > prior * reads[i].quality(rec, height) and q > best.get(i, (0.0,))[0]:
                best[i] = (q, left, right)
        if not best:
            return reads
        out: list[PieceRead] = []
        for i, r in enumerate(reads):
            out.extend(best[i][1:] if i in best else (r,))
        reads = out
    return reads


def _box(b: Box, scale: tuple[float, float], size: tuple[int, int]) -> Box:
    """A work-pixel box in the input's pixels, inside the image (``size`` is its width, height)."""
    x0, y0 = min(size[0] - 1, round(b[0] * scale[0])), min(size[1] - 1, round(b[1] * scale[1]))
    x1, y1 = min(size[0], round((b[0] + b[2]) * scale[0])), min(size[1], round((b[1] + b[3]) * scale[1]))
    return (x0, y0, max(1, x1 - x0), max(1, y1 - y0))


def _digit(rec: Recognizer, r: PieceRead, scale: tuple[float, float], size: tuple[int, int],
           top_k: int) -> DigitReading:
    box = _box(r.piece.box, scale, size)
    if r.probs is None:
        return DigitReading(None, 0.0, box, [], False)
    order = np.argsort(r.probs)[::-1][:top_k]
    conf = float(r.probs[order[0]])
    gate = None if r.gate is None else np.array([r.gate])
    ok = bool(rec.accepts(r.probs[None, :], gate, in_number=True)[0])
    return DigitReading(int(order[0]) if ok else None, conf, box, [(int(d), float(r.probs[d])) for d in order], ok,
                        r.image)


def read_number(rec: Recognizer, image: ImageInput, limits: Limits = DEFAULT_LIMITS,
                number_limits: NumberLimits = DEFAULT_NUMBER_LIMITS, top_k: int = 3) -> NumberReading:
    """Read the number in ``image`` (one line of handwriting). Raises ``ImageInputError`` for an
    unreadable image, one wider than ``number_limits.max_width`` or holding more digits than
    ``number_limits.max_digits``."""
    start = time.perf_counter()
    px = to_pixels(image, limits, Fit(WORK_HEIGHT, WORK_WIDTH))  # cut_line reduces it that far anyway
    if px.source_shape[1] > number_limits.max_width:
        raise ImageTooWideError(f"The image is {px.source_shape[1]} px wide; numbers are read up to "
                                f"{number_limits.max_width} px wide. Crop it to the line of digits.")
    line: Line = cut_line(px, rec.preprocess_config)
    if len(line.pieces) > number_limits.max_digits:
        raise TooManyDigitsError(f"The image holds {len(line.pieces)} separate marks; at most "
                                 f"{number_limits.max_digits} digits are read per image.")
    reads = read_pieces(rec, line.pieces) if line.pieces else []
    reads, taken = merge_broken(rec, reads, line.height, line.marks)
    reads = _split_wide(rec, reads, line.height)
    kept = [s for s in line.separators if not any(m.separator is s for m in taken)]
    if len(reads) > number_limits.max_digits:
        raise TooManyDigitsError(f"The image holds {len(reads)} digits; at most "
                                 f"{number_limits.max_digits} are read per image.")
    size = (px.source_shape[1], px.source_shape[0])
    # boxes go back to the pixels as sent: through the line's reduction and the decoder's
    scale = (line.scale[0] * size[0] / px.shape[1], line.scale[1] * size[1] / px.shape[0])
    top_k = max(1, top_k)
    digits = [_digit(rec, r, scale, size, top_k) for r in reads]
    gaps = spaces([r.piece for r in reads], line.height, kept)
    separators = sorted(kept + gaps, key=lambda s: s.box[0])
    # a separator's place among the digits, after any splitting: the digits whose centre is left of its centre
    seps = [SeparatorReading(s.kind, _box(s.box, scale, size),
                             sum(1 for r in reads if r.piece.x0 + r.piece.box[2] / 2 < s.box[0] + s.box[2] / 2))
            for s in separators]
    text = "".join(UNREAD if d.digit is None else str(d.digit) for d in digits)
    formatted = "".join(SEPARATOR_TEXT[s.kind] for s in seps if s.after == 0)
    for k, ch in enumerate(text, start=1):
        formatted += ch + "".join(SEPARATOR_TEXT[s.kind] for s in seps if s.after == k)
    confidence = float(np.prod([d.confidence if d.is_digit else 0.0 for d in digits])) if digits else 0.0
    return NumberReading(text, formatted.strip(), round(confidence, 6), digits, seps, not digits,
                         (time.perf_counter() - start) * 1000)
