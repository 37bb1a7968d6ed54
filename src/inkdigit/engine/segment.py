"""Find the digits of a handwritten number: one line of ink cut into pieces, left to right.

The ink step is the single-digit one (a transparent canvas's alpha, a flat background's colour
distance, or a photo's difference from its local paper), kept at the size of the whole line.
Then: connected components; specks dropped; pieces that overlap horizontally merged (a 5 or a 4
drawn in two strokes, a 7 whose bar does not touch its stem); small pieces low in the line
reported as dots or commas, short flat ones as dashes. A piece wider than a digit is a candidate
for splitting (two digits that touch); where to cut is decided by the classifier
(:mod:`inkdigit.engine.numbers`), which reads the candidate cuts this module proposes.

Everything here is in *work* pixels (the image reduced so the line is at most ``WORK_HEIGHT``
high); :class:`Line` keeps the scale back to the input's pixels for the boxes it reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import cv2
import numpy as np

from inkdigit.engine.imageio import Pixels
from inkdigit.engine.preprocess import PreprocessConfig, plain_ink
from inkdigit.engine.preprocess_v2 import _without_rules, photo_ink, strip_frames

#: the line is worked on at most this high and this wide (px): plenty for a digit's shape
WORK_HEIGHT = 160
WORK_WIDTH = 6000
#: ink stronger than this is part of a piece
INK = 0.3
#: pieces whose larger side is below this fraction of the digit height are specks or separators
SMALL = 0.3
#: a flat piece wider than this × the digit height is a rule or an underline, never a digit ...
WIDE = 0.95
#: ... but one at most STROKE_WIDE digit heights wide, less than STROKE_GAP of them above or below a
#: piece (or level with it) that it overlaps by STROKE_OVERLAP of the narrower's width, may be that
#: digit's own stroke (a 2's base, a 5's flag) written with the pen lifted: it is kept as a mark,
#: which the digit takes in when it reads better with it (``engine.grouping``; how much better:
#: ``cut_line``), and otherwise dropped
STROKE_WIDE, STROKE_GAP, STROKE_OVERLAP = 1.6, 0.12, 0.3

SeparatorKind = Literal["space", "dot", "comma", "dash"]
Box = tuple[int, int, int, int]  # x, y, width, height


@dataclass
class Piece:
    """Connected ink: its box in work pixels and its own ink (other pieces' ink removed)."""

    box: Box
    ink: np.ndarray

    @property
    def x0(self) -> int:
        return self.box[0]

    @property
    def x1(self) -> int:
        return self.box[0] + self.box[2]


@dataclass
class Separator:
    """A mark between digits; where it stands among them is known only once pieces are split."""

    kind: SeparatorKind
    box: Box  # work pixels


@dataclass
class Mark:
    """A stroke that is no digit on its own: a small one, a separator (``separator``) or a stray
    mark high in the line (None), or a flat stroke as wide as a digit beside one (None; see
    ``STROKE_WIDE``) — unless it is part of the digit beside, over or under it (a 5's flag, a 4's
    bar end, a 2's base, written with the pen lifted), which only the classifier can tell."""

    piece: Piece
    separator: Separator | None
    #: judged as a mark on the baseline (where a decimal point or a comma is written) is: it joins
    #: only a digit it lies under or over, only when the digit reads strictly better with it, and
    #: one left out keeps the pieces either side apart. So are flat strokes as wide as a digit that
    #: lie apart above or below one, not level with it
    low: bool = False


@dataclass
class Line:
    """One line of handwriting cut into digit pieces and separators, left to right. ``marks``: the
    small strokes behind the dots, commas and dashes among ``separators``, the stray marks high in
    the line and the flat strokes as wide as a digit beside one, which are no separator; each may
    yet turn out to belong to a digit."""

    pieces: list[Piece] = field(default_factory=list)
    separators: list[Separator] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    height: float = 0.0  # typical digit height, work pixels
    scale: tuple[float, float] = (1.0, 1.0)  # input pixels per work pixel, across and down


def _reduced(px: Pixels) -> tuple[Pixels, tuple[float, float]]:
    """The image at most WORK_HEIGHT high and WORK_WIDTH wide, and the scale back (each axis is
    rounded on its own, so each has its own factor)."""
    h, w = px.shape[:2]
    scale = max(1.0, h / WORK_HEIGHT, w / WORK_WIDTH)
    if scale == 1.0:
        return px, (1.0, 1.0)
    size = (max(1, round(w / scale)), max(1, round(h / scale)))
    color = cv2.resize(px.color, size, interpolation=cv2.INTER_AREA)
    alpha = None if px.alpha is None else cv2.resize(px.alpha, size, interpolation=cv2.INTER_AREA)
    return Pixels(color, alpha), (w / size[0], h / size[1])


def line_ink(px: Pixels, cfg: PreprocessConfig) -> np.ndarray | None:
    """Ink strength of the whole image in [0, 1] (not cropped); None if blank: a single digit's
    ink step (``preprocess.plain_ink``, a photo's through ``preprocess_v2.photo_ink``) kept at the
    size of the line."""
    found = plain_ink(px, cfg, strict=True, crop=False)
    return photo_ink(found, cfg) if isinstance(found, Pixels) else found


def _pieces(ink: np.ndarray) -> list[Piece]:
    n, labels, stats, _ = cv2.connectedComponentsWithStats((ink > INK).astype(np.uint8), connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, _area = (int(v) for v in stats[i])
        mask = labels[y:y + h, x:x + w] == i
        out.append(Piece((x, y, w, h), np.where(mask, ink[y:y + h, x:x + w], 0.0).astype(np.float32)))
    return out


def _is_rule(p: Piece) -> bool:
    """Flat and long: a ruled line, an underline or a dash, never a digit on its own."""
    return p.box[2] > 3 * p.box[3]


def merge(a: Piece, b: Piece) -> Piece:
    """One piece holding both pieces' ink."""
    x0, y0 = min(a.box[0], b.box[0]), min(a.box[1], b.box[1])
    x1 = max(a.box[0] + a.box[2], b.box[0] + b.box[2])
    y1 = max(a.box[1] + a.box[3], b.box[1] + b.box[3])
    ink = np.zeros((y1 - y0, x1 - x0), np.float32)
    for p in (a, b):
        x, y, w, h = p.box
        region = ink[y - y0:y - y0 + h, x - x0:x - x0 + w]
        np.maximum(region, p.ink, out=region)
    return Piece((x0, y0, x1 - x0, y1 - y0), ink)


def overlap(a: Piece, b: Piece) -> float:
    """Horizontal overlap as a fraction of the narrower piece."""
    inter = min(a.x1, b.x1) - max(a.x0, b.x0)
    return inter / max(1, min(a.box[2], b.box[2]))


def digit_height(pieces: list[Piece]) -> float:
    """The typical height of a digit: the median height of the pieces at least half as tall as the
    tallest (dots, commas and stray bars are shorter)."""
    if not pieces:
        return 0.0
    tallest = max(p.box[3] for p in pieces)
    return float(np.median([p.box[3] for p in pieces if p.box[3] >= 0.5 * tallest]))


def cut_line(px: Pixels, cfg: PreprocessConfig) -> Line:
    """The pieces and separators of one line of handwriting (an empty ``Line`` if blank)."""
    small, scale = _reduced(px)
    ink = line_ink(small, cfg)
    if ink is None:
        return Line(scale=scale)
    # printed frames around the field and long ruled lines or underlines are not digits
    ink = _without_rules(strip_frames(ink), ink.shape[1])
    pieces = sorted(_pieces(ink), key=lambda p: p.x0)
    height = digit_height([p for p in pieces if not _is_rule(p)])
    # specks: far smaller than a digit; rules: flat pieces wider than a digit (a short underline),
    # but for a digit's own flat stroke written with the pen lifted (see STROKE_WIDE)
    pieces = [p for p in pieces if max(p.box[2], p.box[3]) >= 0.08 * height]
    too_wide = [_is_rule(p) and p.box[2] > WIDE * height for p in pieces]
    flat = [p for p, w in zip(pieces, too_wide, strict=True) if w]
    pieces = [p for p, w in zip(pieces, too_wide, strict=True) if not w]
    merged: list[Piece] = []
    for p in pieces:  # left to right: a stroke inside the previous piece's span is part of it
        small_mark = max(p.box[2], p.box[3]) < SMALL * height  # a dot or comma under an overhang stays one
        if merged and not small_mark and overlap(merged[-1], p) >= 0.9:
            merged[-1] = merge(merged[-1], p)
        else:
            merged.append(p)
    height = digit_height(merged)
    mid = float(np.median([p.box[1] + p.box[3] / 2 for p in merged if p.box[3] >= 0.5 * height] or [0]))
    line = Line(height=height, scale=scale)
    for p in merged:
        x, y, w, h = p.box
        if max(w, h) < SMALL * height:
            kind: SeparatorKind = "comma" if h > 1.3 * w and y + h / 2 > mid else "dot"
            # a mark in the upper part of the line is no separator
            _mark(line, p, Separator(kind, p.box) if y + h / 2 > mid - 0.1 * height else None,
                  low=y + h / 2 > mid + 0.25 * height)
            continue
        if h < SMALL * height and w >= SMALL * height and abs(y + h / 2 - mid) < 0.25 * height:
            _mark(line, p, Separator("dash", p.box))
            continue
        line.pieces.append(p)
    for f in flat:  # never a separator: a digit takes it in, or it is dropped as before
        if (mark := _lifted_stroke(f, line.pieces, height)) is not None:
            line.marks.append(mark)
    return line


def _lifted_stroke(flat: Piece, pieces: list[Piece], height: float) -> Mark | None:
    """The mark a flat piece too wide for a dash is kept as when it may be a digit's own stroke
    written with the pen lifted, a 2's base, a 5's flag (a USPS digit is as wide as it is tall, and
    so are they): at most ``STROKE_WIDE`` digit heights wide, and within ``STROKE_GAP`` of them above
    or below one of the line's digit ``pieces`` (or level with it: a 5's flag beside the top of its
    back) that it overlaps by ``STROKE_OVERLAP``; else None. Width and distance alone cannot tell it
    from an underline drawn close under a digit: whether the digit reads better with it decides, and
    how much better depends on where it lies. One apart above or below every such piece is judged as
    a mark on the baseline is (``low``): joined only where the digit reads strictly better with it
    (joining like a mark above the baseline, 0.2 as well when it changes the digit, a line drawn just
    over a 4 made it a 7, one under a 7 a 1). One level with a digit's top (a 7's bar, a 5's flag) is
    judged as a mark above the baseline is: a 7's bare stem reads a surer 1 than the 7 with its bar."""
    near = [p for p in pieces if overlap(flat, p) >= STROKE_OVERLAP and _gap(flat, p) < STROKE_GAP * height]
    if flat.box[2] > STROKE_WIDE * height or not near:
        return None
    return Mark(flat, None, low=all(_gap(flat, p) >= 0 for p in near))


def _gap(a: Piece, b: Piece) -> int:
    """Rows between two pieces' boxes (negative: they share rows)."""
    return max(b.box[1] - (a.box[1] + a.box[3]), a.box[1] - (b.box[1] + b.box[3]))


def _mark(line: Line, p: Piece, separator: Separator | None, low: bool = False) -> None:
    """Keep ``p`` as a mark; its ``separator`` (the very object, which is how a mark a digit takes
    in is later struck off the separators) is listed too."""
    line.marks.append(Mark(p, separator, low))
    if separator is not None:
        line.separators.append(separator)


#: a cut stays this far (× the digit height, or the piece's width if narrower) from either side
MARGIN = 0.3
#: the slants (x shift per row, × 1) a cut between touching digits is tried at: handwriting leans
SLANTS = (-0.3, -0.15, 0.0, 0.15, 0.3)


@dataclass(frozen=True)
class Cut:
    """A straight cut through a piece: column ``column`` at its middle row, leaning ``slant``."""

    column: int
    slant: float = 0.0

    def left_of(self, shape: tuple[int, int]) -> np.ndarray:
        """(H, W) mask of the pixels left of the cut."""
        h, w = shape
        boundary = self.column + self.slant * (np.arange(h, dtype=np.float32) - h / 2)
        return np.arange(w, dtype=np.float32)[None, :] < boundary[:, None]


def cuts(piece: Piece, height: float, candidates: int = 6) -> list[Cut]:
    """Where two touching digits may meet: the straight cuts, upright or leaning as handwriting
    does, that cross the least ink in the piece's middle (at least 0.3 digit heights from either
    side, or 0.3 of the piece's width when it is narrower than a digit is high: a touching "11"),
    best first, each at least a fifth of a digit height from the others."""
    h, w = piece.box[3], piece.box[2]
    margin = max(2, int(MARGIN * min(height, w)))
    if w < 2 * margin + 1:
        return []
    inked = (piece.ink > INK).astype(np.float32)
    rows = np.arange(h, dtype=np.float32) - h / 2
    scored: list[tuple[float, int, float]] = []
    for slant in SLANTS:
        # ink crossed by the cut at every column: each row's pixel where the slanted line passes
        shift = np.rint(slant * rows).astype(np.int64)
        cols = np.arange(w)[None, :] + shift[:, None]
        valid = (cols >= 0) & (cols < w)
        crossed = np.where(valid, inked[np.arange(h)[:, None], np.clip(cols, 0, w - 1)], 0.0).sum(axis=0)
        crossed = np.convolve(crossed, np.ones(3, np.float32) / 3, mode="same")
        scored.extend((float(crossed[c]) + 0.01 * abs(slant), int(c), slant) for c in range(margin, w - margin))
    scored.sort()
    chosen: list[Cut] = []
    for _, c, slant in scored:
        if all(abs(c - k.column) >= max(2, int(0.2 * height)) for k in chosen):
            chosen.append(Cut(c, slant))
        if len(chosen) == candidates:
            break
    return chosen


#: a seam stays this far (× the digit height, or the piece's width if narrower) from either side
SEAM_MARGIN = 0.15
#: what a seam pays for each column it moves sideways, against 1 for each inked pixel it crosses
SEAM_STEP = 0.02


@dataclass(frozen=True, eq=False)
class Seam:
    """A curved cut: ``boundary[row]`` is the column left of which a row's pixels go left."""

    boundary: np.ndarray

    def left_of(self, shape: tuple[int, int]) -> np.ndarray:
        """(H, W) mask of the pixels left of the seam."""
        return np.arange(shape[1], dtype=np.float32)[None, :] < self.boundary[:shape[0], None]


def seams(piece: Piece, height: float, candidates: int = 6) -> list[Seam]:
    """Curved cuts from the piece's top to its bottom that cross the least ink, best first.

    Why besides the straight :func:`cuts`: touching digits interleave (a 7's bar over the next
    digit, a 2's tail under it), so any straight line through them cuts a stroke off one of them;
    a seam (each row one column left or right of the row above, as in seam carving) goes round the
    strokes and crosses only where the digits touch. Measured on numbers of MNIST *training*
    digits with a touching pair (300 canvases, 300 photos): straight cuts alone read 64.3 % of the
    whole numbers, seams alone 58.7 %, both 67.5 %; the classifier picks among them."""
    h, w = piece.box[3], piece.box[2]
    margin = max(1, int(SEAM_MARGIN * min(height, w)))
    if w < 2 * margin + 2 or h < 2:
        return []
    cost = (piece.ink > INK).astype(np.float32)
    cost[:, :margin] = np.inf
    cost[:, w - margin:] = np.inf
    total = cost[0].copy()
    step = np.zeros((h, w), np.int64)  # per row: where the cheapest seam to here came from (−1, 0, +1)
    for r in range(1, h):
        came = np.stack([np.concatenate([[np.inf], total[:-1]]) + SEAM_STEP, total,
                         np.concatenate([total[1:], [np.inf]]) + SEAM_STEP])
        k = came.argmin(axis=0)
        step[r] = k - 1
        total = came[k, np.arange(w)] + cost[r]
    paths = np.empty((h, w), np.int64)  # column c: the cheapest seam ending at the bottom in c
    paths[-1] = np.arange(w)
    for r in range(h - 1, 0, -1):
        paths[r - 1] = paths[r] + step[r, paths[r]]
    # ink left of each seam (a seam may go round a whole stroke: each side keeps a tenth of the ink)
    inked = (piece.ink > INK).astype(np.float32)
    before = np.concatenate([np.zeros((h, 1), np.float32), inked.cumsum(axis=1)], axis=1)
    left = before[np.arange(h)[:, None], paths + 1].sum(axis=0)  # a seam's own column goes left
    enough = np.minimum(left, inked.sum() - left) >= 0.1 * inked.sum()
    chosen: list[np.ndarray] = []
    apart = max(2.0, 0.15 * height)
    for c in np.argsort(total, kind="stable"):
        if not np.isfinite(total[c]) or len(chosen) == candidates:
            break
        if enough[c] and all(np.abs(paths[:, c] - p).mean() >= apart for p in chosen):
            chosen.append(paths[:, c])
    return [Seam(p.astype(np.float32) + 0.5) for p in chosen]


class Divides(Protocol):
    """Anything that deals a piece's pixels to a left and a right part (a cut, a seam, a stroke cut)."""

    def left_of(self, shape: tuple[int, int]) -> np.ndarray: ...


def split(piece: Piece, cut: Divides) -> tuple[Piece, Piece] | None:
    """The piece cut in two along ``cut``, each half trimmed to its ink (None if one is empty)."""
    left = cut.left_of(piece.ink.shape)
    halves = []
    x, y = piece.box[:2]
    for side in (left, ~left):
        part = np.where(side, piece.ink, 0.0).astype(np.float32)
        rows, cols = np.flatnonzero(part.max(axis=1) > INK), np.flatnonzero(part.max(axis=0) > INK)
        if not rows.size or not cols.size:
            return None
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        halves.append(Piece((x + int(c0), y + int(r0), int(c1 - c0), int(r1 - r0)), part[r0:r1, c0:c1].copy()))
    return halves[0], halves[1]


def spaces(pieces: list[Piece], height: float, marks: Sequence[Separator] = ()) -> list[Separator]:
    """Gaps between groups: a gap much wider than the usual gap between neighbouring digits, and
    holding none of ``marks`` (a dot or a dash in a gap is the separator, not a space)."""
    if len(pieces) < 2:
        return []
    gaps = np.array([b.x0 - a.x1 for a, b in zip(pieces, pieces[1:], strict=False)], dtype=np.float64)
    usual = float(np.median(np.maximum(gaps, 0)))
    wide = max(0.6 * height, 2.5 * usual)
    return [Separator("space", (pieces[i].x1, pieces[i].box[1], int(g), pieces[i].box[3]))
            for i, g in enumerate(gaps) if g > wide
            and not any(pieces[i].x1 <= m.box[0] + m.box[2] / 2 <= pieces[i + 1].x0 for m in marks)]
