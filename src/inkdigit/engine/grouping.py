"""Broken digits joined again: neighbouring pieces of a line (and the small marks among them)
grouped into the digits they read best as. A hand lifts the pen inside digits: a 5's flag, a 4's
stem off its bar, a 7's bar short of its stem, a 4 or a 2 in three strokes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inkdigit.engine.pieces import SHORT, PieceRead, read_pieces
from inkdigit.engine.segment import Mark, Piece, merge, overlap

if TYPE_CHECKING:
    from inkdigit.engine.recognizer import Recognizer

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
#: a digit that takes in small marks, all above the baseline, need read only this well as it does
#: without them: such a mark beside a digit is most often the end of one of its strokes lifted off
#: (a 4's bar end beyond its stem), rarely a separator, which sits on the baseline. A model whose
#: piece scorer doubts a short lifted stub (cnn-v10's: 0.309 with it against 0.323 without, on
#: the engine test's 4 in three pieces) would otherwise leave it beside the digit as a separator.
#: With cnn-v6 on the numbers benchmark (test digits, 300 per rendering, seed 0) it changed four
#: numbers, all to right: MNIST canvas with a touching pair +1, USPS canvas pen lifts +1, photo +2
MARK_JOIN = 0.9
#: ... and only this well when the marks change which digit it reads (a digit that reads the same
#: with them keeps a dash beside it as a separator). Why: the end of a 7's bar parted from its stem
#: stayed out at 0.9, because the bare stem reads as a confident 1 and the piece scorer doubts the
#: hooked stroke (cnn-v15: the 7 at 0.87-0.94 confidence, scorer logit -1.1 to -1.8, scored 0.25-0.35
#: against the stem's 0.62-0.74). Chosen on numbers of MNIST and USPS *training* digits
#: (``docs/experiments/cnn-v15/devnum.py``, 150 per rendering seed 7, 300 seed 11): 0.2 for every
#: mark read 7 more of the 5,400 numbers right and 1 fewer (MNIST canvas +2, canvas pen lifts +3; USPS
#: photo pen lifts +1, canvas touching +1, canvas pen lifts -1), 0.05 as 0.2, 0.5 a little less; but
#: it took a dash drawn close beside a 4 into the 4 ("4-217" read "4 217"), hence only when it changes
#: the digit (the text is then the same as with 0.2 for every mark, where one piece takes the marks)
MARK_CHANGES = 0.2


def joinable(group: Piece, nxt: Piece, height: float, mark: Mark | None = None) -> bool:
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
class Item:
    """A piece (read on its own) or a small mark (which alone is no digit, and costs nothing)."""

    piece: Piece
    read: PieceRead | None = None
    mark: Mark | None = None


@dataclass
class Run:
    """Neighbouring items ``first`` … ``end - 1`` tried as one digit: their ``ink`` merged, and
    the ``marks`` among them that it took in (a mark that lies beside the digit is passed over)."""

    first: int
    end: int
    ink: Piece
    marks: list[Mark]
    tall: int = 0  # how many of its pieces are at least SHORT of the digit height tall


def runs(items: list[Item], height: float) -> list[Run]:
    """Every run of neighbouring items (sorted by their left edges) that may be one digit: two to
    ``MAX_GROUP`` pieces, or one piece and marks; a single item is no run (it is read alone).

    Items are taken left to right while the next one is :func:`joinable` to those taken. A piece
    that is not ends the run; so does a mark on the baseline that is not (a decimal point between
    two digits keeps them apart); a higher mark that is not is passed over: left out of the run's
    ink and marks, it stays what it was. Three pieces or more must span at most ``GROUP_WIDE``
    digit heights."""
    out: list[Run] = []
    for i in range(len(items)):
        group, pieces, tall = items[i].piece, 0, 0
        if items[i].read is not None:
            pieces, tall = 1, int(group.box[3] >= SHORT * height)
        marks = [m for m in (items[i].mark,) if m is not None]
        for j in range(i + 1, min(len(items), i + 2 * MAX_GROUP)):
            mark = items[j].mark
            if mark is None and pieces == MAX_GROUP:
                break
            if not joinable(group, items[j].piece, height, mark or (None if pieces else items[i].mark)):
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
                out.append(Run(i, j + 1, group, marks, tall))
    return out


def _changes(items: list[Item], run: Run, r: PieceRead) -> bool:
    """Whether the marks of ``run``, read as ``r``, change its digit: a piece that reads another digit
    alone, or pieces (a digit drawn with pen lifts is assembled from them, its marks with them)."""
    alone = [it.read for it in items[run.first:run.end] if it.read is not None]
    if len(alone) != 1:
        return True
    return alone[0].probs is None or r.probs is None or int(np.argmax(alone[0].probs)) != int(np.argmax(r.probs))


def merge_broken(rec: Recognizer, reads: list[PieceRead], height: float,
                 marks: Sequence[Mark] = ()) -> tuple[list[PieceRead], list[Mark]]:
    """Group neighbouring pieces (and small marks) into the digits they read best as: a 5 or a 4
    drawn in two strokes, a 7 whose bar does not touch its stem, a 4 or a 2 written with two pen
    lifts, a 5 whose flag is a mere tick. Returns the digits' reads and the marks they took in.

    Every run of :func:`runs` is read (in one model call), and the grouping of the whole line
    whose digits' qualities have the largest product wins (dynamic programming, left to right). A
    mark left alone stays what it was (a separator, or a stray mark that is dropped) and scores 1,
    so it joins a digit only when the digit reads better with it (marks above the baseline: at
    least ``MARK_JOIN`` as well, or ``MARK_CHANGES`` if they change its digit). Two pieces are
    grouped only when the one reads better than the two, as the pairwise merge this replaces did;
    unlike it, a digit may take three or four pieces, and one piece's merge no longer blocks its
    neighbour's."""
    items = sorted([Item(r.piece, read=r) for r in reads] + [Item(m.piece, mark=m) for m in marks if reads],
                   key=lambda it: it.piece.x0)
    found = runs(items, height)
    if not found:
        return reads, []
    joined = read_pieces(rec, [run.ink for run in found])
    options: dict[int, list[tuple[Run, PieceRead]]] = {}  # by where the run ends
    for run, r in zip(found, joined, strict=True):
        options.setdefault(run.end, []).append((run, r))
    n = len(items)

    def score(r: PieceRead) -> float:
        return math.log(max(r.quality(rec, height), 1e-300))

    best: list[float] = [0.0] + [-math.inf] * n
    choice: list[tuple[int, PieceRead | None, list[Mark]]] = [(0, None, [])] * (n + 1)
    for j in range(1, n + 1):
        alone = items[j - 1].read
        best[j], choice[j] = best[j - 1] + (0.0 if alone is None else score(alone)), (j - 1, alone, [])
        for run, r in options.get(j, []):
            q = r.quality(rec, height)
            if q <= 0.0:  # a blank read joins nothing: two unreadable pieces stay two
                continue
            total = best[run.first] + math.log(q) - (math.log(TALL_PRIOR) if run.tall > 1 else 0.0)
            if run.marks and not any(m.low for m in run.marks):
                total -= math.log(MARK_CHANGES if _changes(items, run, r) else MARK_JOIN)
            if total > best[j] + 1e-9:  # grouping must read better, not as well
                best[j], choice[j] = total, (run.first, r, run.marks)
    out: list[PieceRead] = []
    taken: list[Mark] = []
    j = n
    while j > 0:
        i, got, marks_in = choice[j]
        if got is not None:
            out.append(got)
            taken += marks_in
        j = i
    return out[::-1], taken
