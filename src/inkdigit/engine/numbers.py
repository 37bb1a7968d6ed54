"""Read a number: every digit of one line of handwriting, with its box, confidence and alternatives.

:mod:`inkdigit.engine.segment` cuts the line into pieces; each piece goes through the very same
preprocessing as a single digit and one model call reads them all. A piece wider than a digit may
be two digits that touch: for each such piece the straight cuts crossing the least ink in its
middle are tried, and on pieces wider than ``SEAM_WIDE`` digit heights also the curved seams
crossing the least ink (which go round a stroke overhanging the next digit); both halves of every
cut are read (again in one call), and the piece is split where the halves read better than the
whole, judged by the classifier's confidence and, when the model has one, its
piece scorer (a second gate, trained against halves of digits and touching pairs: with it, the
pieces tried start at 0.6 digit heights wide, so a touching "10" or "11" comes apart too) or else
its digit-or-not gate (which learnt that two digits side by side are not one digit). Halves still
wider than a digit are tried again, so three touching digits come apart too.

Measured on numbers made of MNIST and USPS *training* digits (never the benchmark's test digits),
600 per rendering: the piece scorer with 0.6 read 79.4 % of whole numbers on average over the four
renderings, against 74.3 % for the digit-or-not gate with 0.95 (and 77.2 % for the scorer with 0.95).
Seams beside the straight cuts, and a piece's quality falling with its height below 0.9 digit
heights, took numbers of MNIST training digits from 76.8 to 80.1 % (touching pairs on a canvas
68.7 → 73.0 %, in a photo 60.0 → 65.3 %; 300 per rendering) and of USPS ones from 73.4 to 76.5 %.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from inkdigit.engine.imageio import DEFAULT_LIMITS, Fit, ImageInput, ImageInputError, Limits, to_pixels
from inkdigit.engine.preprocess import preprocess
from inkdigit.engine.segment import (
    WORK_HEIGHT,
    WORK_WIDTH,
    Box,
    Cut,
    Line,
    Mark,
    Piece,
    Seam,
    SeparatorKind,
    cut_line,
    cuts,
    merge,
    overlap,
    seams,
    spaces,
    split,
)

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
#: pieces this close (× the digit height) or overlapping are tried together, as one digit
NEAR = 0.12
#: up to this many neighbouring pieces (and the marks among them) are tried as one digit (a 4
#: written in three strokes) ...
MAX_GROUP = 4
#: ... while three pieces or more together are at most this wide (× the digit height; a pair always
#: is tried: a 5's flag may reach far beyond its body)
GROUP_WIDE = 1.5
#: a small mark on the baseline joins a digit only if one lies under the other by this much of the
#: narrower's width
MARK_OVERLAP = 0.3
#: a digit made of two or more pieces each at least ``SHORT`` of the digit height tall must read
#: this much better than they do apart: close tall pieces are more often two digits (a 7 beside a 4)
#: than one with a pen lift. Measured on numbers of MNIST *training* digits (300 per rendering,
#: seed 7): 1 → 2 took photos with a touching pair from 196 to 199 right (4: 200), and changed
#: nothing else
TALL_PRIOR = 2.0


def _joinable(group: Piece, nxt: Piece, height: float, mark: Mark | None = None) -> bool:
    """Whether ``nxt`` (right of the items taken, by its left edge) may belong to the digit that
    ``group`` holds: when it begins less than ``NEAR`` digit heights past the group's right edge
    (it overlaps it, or the pen was lifted: a 5's bar, a 4's stem lifted off its bar, a 2's base).
    Close pieces are tried whatever their height (a 4's stem is as tall as a digit): whether two
    tall pieces are one digit or two is the classifier's to say, with ``TALL_PRIOR`` against it.
    When ``nxt`` or the group is a small ``mark`` (a separator unless it belongs to a digit; ``mark``
    is that mark), a mark on the baseline must lie under the other by ``MARK_OVERLAP`` of the
    narrower's width, so a decimal point just after a digit stays one; a higher mark is tried when
    close, like a piece (a 4's bar end lifted off beyond its stem)."""
    if mark is not None and mark.low:
        return overlap(group, nxt) >= MARK_OVERLAP
    return nxt.x0 - group.x1 < NEAR * height


@dataclass
class _Item:
    """A piece (read on its own) or a small mark (which alone is no digit, and costs nothing)."""

    piece: Piece
    read: _Read | None = None
    mark: Mark | None = None


@dataclass
class _Run:
    """Neighbouring items ``first`` … ``end - 1`` tried as one digit: their ``ink`` merged, and
    the ``marks`` among them that it took in (a mark that lies beside the digit is passed over)."""

    first: int
    end: int
    ink: Piece
    marks: list[Mark]
    tall: int = 0  # how many of its pieces are at least SHORT of the digit height tall


def _runs(items: list[_Item], height: float) -> list[_Run]:
    """Every run of neighbouring items (sorted by their left edges) that may be one digit: two to
    ``MAX_GROUP`` pieces, or one piece and marks; a single item is no run (it is read alone).

    Items are taken left to right while the next one is :func:`_joinable` to those taken. A piece
    that is not ends the run; so does a mark on the baseline that is not (a decimal point between
    two digits keeps them apart); a higher mark that is not is passed over: left out of the run's
    ink and marks, it stays what it was. Three pieces or more must span at most ``GROUP_WIDE``
    digit heights."""
    runs: list[_Run] = []
    for i in range(len(items)):
        group, pieces, tall = items[i].piece, 0, 0
        if items[i].read is not None:
            pieces, tall = 1, int(group.box[3] >= SHORT * height)
        marks = [m for m in (items[i].mark,) if m is not None]
        for j in range(i + 1, min(len(items), i + 2 * MAX_GROUP)):
            mark = items[j].mark
            if mark is None and pieces == MAX_GROUP:
                break
            if not _joinable(group, items[j].piece, height, mark or (None if pieces else items[i].mark)):
                if mark is None or mark.low:
                    break
                continue
            group = merge(group, items[j].piece)
            if mark is None:
                pieces += 1
                tall += items[j].piece.box[3] >= SHORT * height
            else:
                marks = [*marks, mark]
            if pieces > 2 and group.box[2] > GROUP_WIDE * height:
                break
            if pieces:
                runs.append(_Run(i, j + 1, group, marks, tall))
    return runs


def _merge_broken(rec: Recognizer, reads: list[_Read], height: float,
                  marks: Sequence[Mark] = ()) -> tuple[list[_Read], list[Mark]]:
    """Group neighbouring pieces (and small marks) into the digits they read best as: a 5 or a 4
    drawn in two strokes, a 7 whose bar does not touch its stem, a 4 or a 2 written with two pen
    lifts, a 5 whose flag is a mere tick. Returns the digits' reads and the marks they took in.

    Every run of :func:`_runs` is read (in one model call), and the grouping of the whole line
    whose digits' qualities have the largest product wins (dynamic programming, left to right). A
    mark left alone stays what it was (a separator, or a stray mark that is dropped) and scores 1,
    so it joins a digit only when the digit reads better with it. Two pieces are grouped only when the
    one reads better than the two, as the pairwise merge this replaces did; unlike it, a digit may
    take three or four pieces, and one piece's merge no longer blocks its neighbour's."""
    items = sorted([_Item(r.piece, read=r) for r in reads] + [_Item(m.piece, mark=m) for m in marks if reads],
                   key=lambda it: it.piece.x0)
    runs = _runs(items, height)
    if not runs:
        return reads, []
    joined = _read(rec, [run.ink for run in runs])
    options: dict[int, list[tuple[_Run, _Read]]] = {}  # by where the run ends
    for run, r in zip(runs, joined, strict=True):
        options.setdefault(run.end, []).append((run, r))
    n = len(items)

    def score(r: _Read) -> float:
        return math.log(max(r.quality(rec, height), 1e-300))

    best: list[float] = [0.0] + [-math.inf] * n
    choice: list[tuple[int, _Read | None, list[Mark]]] = [(0, None, [])] * (n + 1)
    for j in range(1, n + 1):
        alone = items[j - 1].read
        best[j], choice[j] = best[j - 1] + (0.0 if alone is None else score(alone)), (j - 1, alone, [])
        for run, r in options.get(j, []):
            q = r.quality(rec, height)
            if q <= 0.0:  # a blank read joins nothing: two unreadable pieces stay two
                continue
            total = best[run.first] + math.log(q) - (math.log(TALL_PRIOR) if run.tall > 1 else 0.0)
            if total > best[j] + 1e-9:  # grouping must read better, not as well
                best[j], choice[j] = total, (run.first, r, run.marks)
    out: list[_Read] = []
    taken: list[Mark] = []
    j = n
    while j > 0:
        i, got, marks_in = choice[j]
        if got is not None:
            out.append(got)
            taken += marks_in
        j = i
    return out[::-1], taken


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


@dataclass
class _Read:
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


def _framed(ink: np.ndarray) -> np.ndarray:
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


def _read(rec: Recognizer, pieces: list[Piece]) -> list[_Read]:
    """Every piece preprocessed as a single digit, all read in one model call."""
    cfg = rec.preprocess_config
    pres = [preprocess(_framed(p.ink), cfg) for p in pieces]
    live = [i for i, pre in enumerate(pres) if not pre.is_empty]
    out = [_Read(p, None, None) for p in pieces]
    if live:
        probs, gate, whole = rec.piece_scores(np.stack([pres[i].image for i in live]))
        for k, i in enumerate(live):
            out[i] = _Read(pieces[i], probs[k], None if gate is None else float(gate[k]), pres[i].image,
                           None if whole is None else float(whole[k]))
    return out


def _split_wide(rec: Recognizer, reads: list[_Read], height: float) -> list[_Read]:
    """Split every piece wider than a digit where its halves read better than it does."""
    for _ in range(SPLIT_ROUNDS):
        limit = WIDE_SCORED if rec.has_piece_scorer else WIDE
        wide = [i for i, r in enumerate(reads) if r.piece.box[2] > limit * height]
        options: list[tuple[int, Piece, Piece]] = []
        seen: set[tuple[int, Box, bytes]] = set()  # a seam through a gap and a straight cut often agree
        for i in wide:
            tried: list[Cut | Seam] = [*cuts(reads[i].piece, height)]
            if reads[i].piece.box[2] > SEAM_WIDE * height:
                tried += seams(reads[i].piece, height)
            for cut in tried:
                halves = split(reads[i].piece, cut)
                if halves is not None and (key := (i, halves[0].box, halves[0].ink.tobytes())) not in seen:
                    seen.add(key)
                    options.append((i, *halves))
        if not options:
            return reads
        halves_read = _read(rec, [p for _, a, b in options for p in (a, b)])
        best: dict[int, tuple[float, _Read, _Read]] = {}
        for k, (i, _, _) in enumerate(options):
            left, right = halves_read[2 * k], halves_read[2 * k + 1]
            q = left.quality(rec, height) * right.quality(rec, height)
            prior = _split_prior(reads[i].piece.box[2], height)
            if q > prior * reads[i].quality(rec, height) and q > best.get(i, (0.0,))[0]:
                best[i] = (q, left, right)
        if not best:
            return reads
        out: list[_Read] = []
        for i, r in enumerate(reads):
            out.extend(best[i][1:] if i in best else (r,))
        reads = out
    return reads


def _box(b: Box, scale: tuple[float, float], size: tuple[int, int]) -> Box:
    """A work-pixel box in the input's pixels, inside the image (``size`` is its width, height)."""
    x0, y0 = min(size[0] - 1, round(b[0] * scale[0])), min(size[1] - 1, round(b[1] * scale[1]))
    x1, y1 = min(size[0], round((b[0] + b[2]) * scale[0])), min(size[1], round((b[1] + b[3]) * scale[1]))
    return (x0, y0, max(1, x1 - x0), max(1, y1 - y0))


def _digit(rec: Recognizer, r: _Read, scale: tuple[float, float], size: tuple[int, int],
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
    reads = _read(rec, line.pieces) if line.pieces else []
    reads, taken = _merge_broken(rec, reads, line.height, line.marks)
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
