"""Reading a number: segmentation, broken strokes, touching pairs, separators, limits, boxes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from inkdigit.engine import grouping, segment
from inkdigit.engine.imageio import ImageInputError, to_pixels
from inkdigit.engine.numbers import NumberLimits, read_number
from inkdigit.engine.pieces import PieceRead
from inkdigit.engine.recognizer import Recognizer
from inkdigit.engine.segment import Mark, Piece, Separator, cut_line
from inkdigit.paths import default_model, store
from tests.conftest import png_bytes


@pytest.fixture(scope="module")
def rec() -> Recognizer:
    return Recognizer(store().find(default_model()))


@pytest.fixture(scope="module")
def clear_digits(mnist_test, rec: Recognizer) -> dict[int, np.ndarray]:
    """One MNIST test digit per class that the model reads right alone, with high confidence."""
    chosen: dict[int, np.ndarray] = {}
    for img, label in zip(mnist_test.images[:400], mnist_test.labels[:400], strict=True):
        if int(label) not in chosen:
            p = rec.predict(img)
            if p.digit == label and p.confidence > 0.98:
                chosen[int(label)] = img
    assert len(chosen) == 10
    return chosen


def _line(digits: list[np.ndarray], gaps: list[int], size: int = 84, margin: int = 30) -> np.ndarray:
    """Dark-on-white line of MNIST digits (each cropped to its ink, ``size`` px high) with the given
    gaps in px between them; a negative gap overlaps two digits."""
    crops = []
    for d in digits:
        rows, cols = np.flatnonzero(d.max(axis=1) > 40), np.flatnonzero(d.max(axis=0) > 40)
        c = d[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        w = max(1, round(c.shape[1] * size / c.shape[0]))
        crops.append(np.asarray(Image.fromarray(c).resize((w, size), Image.Resampling.BICUBIC), np.float32) / 255)
    width = sum(c.shape[1] for c in crops) + sum(gaps) + 2 * margin
    ink = np.zeros((size + 2 * margin, width), np.float32)
    x = margin
    for c, gap in zip(crops, [*gaps, 0], strict=True):
        region = ink[margin:margin + size, x:x + c.shape[1]]
        np.maximum(region, c, out=region)
        x += c.shape[1] + gap
    return ((1 - np.clip(ink, 0, 1)) * 255).astype(np.uint8)


def test_a_written_number_reads_digit_by_digit_with_boxes(rec: Recognizer, clear_digits) -> None:
    text = "4217"
    img = _line([clear_digits[int(c)] for c in text], [30, 26, 34])
    got = read_number(rec, png_bytes(img))
    assert got.text == text and not got.is_empty
    assert len(got.digits) == 4 and all(d.is_digit for d in got.digits)
    xs = [d.box[0] for d in got.digits]
    assert xs == sorted(xs) and got.digits[0].box[0] >= 25  # left to right, in input pixels
    assert all(abs(d.box[3] - 84) <= 6 for d in got.digits)
    assert 0 < got.confidence <= min(d.confidence for d in got.digits) + 1e-9
    assert all(d.top[0] == (d.digit, pytest.approx(d.confidence)) for d in got.digits)


def test_boxes_are_in_the_input_pixels_when_the_image_is_reduced(rec: Recognizer, clear_digits) -> None:
    img = _line([clear_digits[3], clear_digits[8]], [40])
    big = np.asarray(Image.fromarray(img).resize((img.shape[1] * 4, img.shape[0] * 4), Image.Resampling.BICUBIC))
    small, large = read_number(rec, png_bytes(img)), read_number(rec, png_bytes(big))
    assert large.text == small.text == "38"
    for a, b in zip(small.digits, large.digits, strict=True):
        assert np.allclose(np.array(b.box) / 4, a.box, atol=4)


def test_a_blank_image_is_empty_not_an_error(rec: Recognizer) -> None:
    got = read_number(rec, png_bytes(np.full((100, 400), 255, np.uint8)))
    assert got.is_empty and got.text == "" and got.digits == [] and got.confidence == 0.0


def test_spaces_between_groups_and_dots_are_separators_not_digits(rec: Recognizer, clear_digits) -> None:
    img = _line([clear_digits[int(c)] for c in "1234"], [24, 150, 24])
    got = read_number(rec, png_bytes(img))
    assert got.text == "1234" and got.formatted == "12 34"
    assert [(s.kind, s.after) for s in got.separators] == [("space", 2)]
    dotted = Image.fromarray(_line([clear_digits[3], clear_digits[5]], [60]))
    draw = ImageDraw.Draw(dotted)
    x = 30 + round(clear_digits[3].shape[1] * 3) + 10  # roughly between the two digits
    h = dotted.height
    draw.ellipse((x - 6, h - 30 - 12, x + 6, h - 30), fill=0)  # on the baseline
    got = read_number(rec, png_bytes(np.asarray(dotted)))
    assert got.text == "35" and "dot" in [s.kind for s in got.separators] and got.formatted == "3.5"


def test_a_digit_drawn_in_two_strokes_is_one_digit(rec: Recognizer) -> None:
    img = Image.new("L", (420, 200), 255)
    d = ImageDraw.Draw(img)
    d.line([(60, 40), (60, 100), (120, 100)], fill=0, width=12)  # a 4 as two strokes: ∟ ...
    d.line([(105, 30), (105, 165)], fill=0, width=12)  # ... and the stem, not touching it
    d.line([(250, 40), (330, 40), (280, 165)], fill=0, width=12)  # a 7 ...
    d.line([(265, 105), (315, 105)], fill=0, width=10)  # ... with a bar that does not touch it
    got = read_number(rec, png_bytes(np.asarray(img)))
    assert len(got.digits) == 2, got


def test_a_digit_in_three_pieces_side_by_side_is_one_digit(rec: Recognizer) -> None:
    """A 4 written with two pen lifts, its three pieces side by side, the last a mark small enough
    for a dot: the pairwise merge this replaced read "615" and reported a decimal point. The 5
    beside it, its flag lifted off its back, is read as before."""
    img = Image.new("L", (460, 220), 255)
    d = ImageDraw.Draw(img)
    d.line([(100, 40), (60, 125), (118, 125)], fill=0, width=12)  # a 4's slanted stroke and bar ...
    d.line([(138, 45), (138, 190)], fill=0, width=12)  # ... its stem, the pen lifted before it ...
    d.line([(156, 125), (172, 125)], fill=0, width=12)  # ... and the bar's end, lifted again
    d.line([(290, 40), (285, 105)], fill=0, width=12)  # a 5: its back ...
    d.arc([(262, 92), (352, 190)], start=215, end=150, fill=0, width=12)  # ... its belly ...
    d.line([(304, 38), (350, 38)], fill=0, width=12)  # ... and its flag, lifted off the back
    got = read_number(rec, png_bytes(np.asarray(img)))
    assert got.text == "45", got
    assert got.separators == [], got  # the bar's end is part of the 4, not a decimal point
    assert got.digits[0].box[0] < 60 and got.digits[0].box[0] + got.digits[0].box[2] > 165  # all three pieces


def test_a_seven_whose_bar_end_is_parted_from_its_stem_is_a_seven(rec: Recognizer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """``data/seven-parted-bar.png``: MNIST training digit 57071 as the numbers benchmark's canvas
    renderer drew it alone on its line (``robustness.numbers.drawn_apart``, ``render_canvas``, in the
    numbers of ``docs/experiments/cnn-v15/devnum.py cnn-v15 400 11``, MNIST canvas), cropped to 60 px
    either side of it. The end of its bar, parted from the stem, is a small mark high in the line; the
    bare stem reads as a confident 1 and the piece scorer doubts the hooked stroke, so while a mark had
    to leave the digit reading 0.9 as well (``MARK_JOIN``), the number read "1" where the digit alone
    reads 7."""
    from pathlib import Path

    png = (Path(__file__).parent / "data" / "seven-parted-bar.png").read_bytes()
    assert rec.predict(png).digit == 7
    got = read_number(rec, png)
    assert got.text == "7" and got.separators == [], got
    monkeypatch.setattr(grouping, "MARK_CHANGES", grouping.MARK_JOIN)
    assert read_number(rec, png).text == "1"  # the rule is what reads it


@pytest.mark.parametrize(("name", "text", "before"), [("fives-flag-lifted.png", "55", "75"),
                                                     ("two-base-lifted.png", "0412", "0417")])
def test_a_flat_stroke_lifted_off_its_digit_is_part_of_it(rec: Recognizer, monkeypatch: pytest.MonkeyPatch,
                                                          name: str, text: str, before: str) -> None:
    """``data/fives-flag-lifted.png`` and ``data/two-base-lifted.png``: numbers of USPS *training*
    digits as the numbers benchmark draws them with pen lifts (``docs/experiments/cnn-v15/devnum.py
    cnn-v15 150 7``, USPS canvas pen lifts, numbers 26 and 74). A USPS digit is as wide as it is tall,
    and so are a 5's flag and a 2's base: lifted off the digit, the flat stroke was dropped as an
    underline (flat and wider than 0.95 digit heights), and the 5 read 7, the 2 read 7."""
    from pathlib import Path

    png = (Path(__file__).parent / "data" / name).read_bytes()
    got = read_number(rec, png)
    assert got.text == text and got.separators == [], got
    monkeypatch.setattr(segment, "STROKE_WIDE", 0.0)  # every flat piece that wide dropped, as before
    assert read_number(rec, png).text == before


_UNDER = [(127 + gap, span) for gap in (0, 3, 6) for span in ((370, 452), (360, 462), (30, 112), (205, 296))]
_OVER = [(top, span) for top in (28, 30, 32) for span in ((15, 115), (20, 110), (25, 125))]


@pytest.mark.parametrize(("top", "span"), _UNDER + _OVER)
def test_a_line_drawn_under_or_over_one_digit_is_no_part_of_it(rec: Recognizer, example, top: int,
                                                                span: tuple[int, int]) -> None:
    """A flat stroke as wide as a digit beside it is kept as a mark only to be taken in when the
    digit reads strictly better with it. Taken in whenever the digit read 0.2 as well with it and
    changed (as a mark above the baseline is), an underline a little wider than the 7 made it a 1,
    and a line drawn just over the 4 (rows 28-35, 1.1-1.2 digit heights wide) made it a 7."""
    img = example.copy()
    img[top:top + 4, span[0]:span[1]] = 0
    assert read_number(rec, img).formatted == "4 217"


@pytest.mark.parametrize("gap", [2, 5, 8])
def test_a_dash_drawn_close_beside_a_digit_stays_a_separator(rec: Recognizer, example, gap: int) -> None:
    """A mark that leaves a digit's reading as it is stays what it is: with every mark above the
    baseline joining a digit that read 0.2 as well with it, a dash 2-8 px right of the 4 (or left of
    the 2) went into the digit and "4-217" read "4 217"."""
    x4, x2 = 99, 212  # the 4's right edge and the 2's left edge in examples/number.png
    right_of_4, left_of_2 = example.copy(), example.copy()
    right_of_4[80:86, x4 + gap:x4 + gap + 30] = 0
    left_of_2[80:86, x2 - gap - 30:x2 - gap] = 0
    for img in (right_of_4, left_of_2):
        assert read_number(rec, img).formatted == "4-217"


def _items(boxes: list[tuple[int, int, int, int]], low: frozenset[int] = frozenset()) -> list[grouping.Item]:
    """Items for ``grouping.runs``: a piece per box (a ``PieceRead`` without a reading, which ``runs``
    does not look at), a small mark where the box's index is in ``low`` (on the baseline)."""
    out = []
    for k, (x, y, w, h) in enumerate(boxes):
        piece = Piece((x, y, w, h), np.ones((h, w), np.float32))
        if k in low:
            out.append(grouping.Item(piece, mark=Mark(piece, Separator("dot", piece.box), low=True)))
        else:
            out.append(grouping.Item(piece, read=PieceRead(piece, None, None)))
    return out


def _spans(runs: list[grouping.Run]) -> set[tuple[int, int]]:
    return {(r.first, r.end) for r in runs}


def test_runs_take_up_to_four_close_pieces_and_only_the_baseline_marks_under_them() -> None:
    five = _items([(x, 0, 20, 100) for x in (0, 25, 50, 75, 100)])  # five tall strokes 5 px apart
    spans = _spans(grouping.runs(five, 100.0))
    assert (0, 4) in spans and (1, 5) in spans and (0, 5) not in spans  # four pieces at most ...
    wide = _items([(x, 0, 65, 100) for x in (0, 70, 140)])  # ... and three only within 1.5 heights
    assert _spans(grouping.runs(wide, 100.0)) == {(0, 2), (1, 3)}  # (a pair always is tried)
    apart = _items([(0, 0, 60, 100), (100, 0, 60, 100)])  # 40 px apart: more than NEAR heights
    assert grouping.runs(apart, 100.0) == []
    # a dot on the baseline under a digit may join it; one just after it, in the gap, may not ...
    under = grouping.runs(_items([(0, 0, 60, 100), (40, 90, 10, 10)], low=frozenset({1})), 100.0)
    assert _spans(under) == {(0, 2)} and len(under[0].marks) == 1
    beside = _items([(0, 0, 60, 100), (61, 90, 8, 10), (70, 0, 60, 100)], low=frozenset({1}))  # 10 px apart: close
    assert grouping.runs(beside, 100.0) == []  # ... and it keeps the digits either side apart
    assert _spans(grouping.runs(_items([(0, 0, 60, 100), (70, 0, 60, 100)]), 100.0)) == {(0, 2)}  # (without it)


def test_two_close_whole_digits_are_tried_together_and_stay_two(rec: Recognizer, clear_digits) -> None:
    """Close pieces are tried as one digit whatever their height, and the classifier keeps whole
    digits apart (here 4 px apart: the reader did try them together)."""
    img = _line([clear_digits[int(c)] for c in "7411"], [4, 4, 4])
    line = cut_line(to_pixels(png_bytes(img)), rec.preprocess_config)
    items = [grouping.Item(p, read=PieceRead(p, None, None)) for p in line.pieces]
    assert len(items) == 4 and {(0, 2), (1, 3), (2, 4)} <= _spans(grouping.runs(items, line.height))
    assert read_number(rec, png_bytes(img)).text == "7411"


def test_a_dot_just_after_a_digit_stays_a_decimal_point(rec: Recognizer, clear_digits) -> None:
    line = _line([clear_digits[1], clear_digits[5]], [40])
    inked = (line < 128).any(axis=0)
    right_of_one = int(np.flatnonzero(inked[:-1] & ~inked[1:])[0]) + 1
    dotted = Image.fromarray(line)
    draw = ImageDraw.Draw(dotted)
    x = right_of_one + 12  # in the gap, close to the 1 (the 5 begins 40 px on)
    draw.ellipse((x - 6, dotted.height - 42, x + 6, dotted.height - 30), fill=0)
    got = read_number(rec, png_bytes(np.asarray(dotted)))
    assert got.text == "15" and got.formatted == "1.5", got


def test_two_touching_digits_are_split(rec: Recognizer, clear_digits) -> None:
    img = _line([clear_digits[2], clear_digits[5]], [-6])
    got = read_number(rec, png_bytes(img))
    assert got.text == "25", got


def test_limits_are_clear_errors(rec: Recognizer, clear_digits) -> None:
    wide = np.full((60, 20_000), 255, np.uint8)
    with pytest.raises(ImageInputError, match="20000 px wide") as info:
        read_number(rec, png_bytes(wide))
    assert info.value.code == "image_too_wide"
    many = _line([clear_digits[k % 10] for k in range(12)], [20] * 11)
    with pytest.raises(ImageInputError, match="at most 8") as info:
        read_number(rec, png_bytes(many), number_limits=NumberLimits(max_digits=8))
    assert info.value.code == "too_many_digits"


def test_a_leaning_cut_separates_two_leaning_strokes_that_touch() -> None:
    from inkdigit.engine.segment import Cut, Piece, cuts, split

    ink = np.zeros((60, 60), np.float32)
    for r in range(60):  # two strokes leaning right (tops further right), joined by a bar at the bottom
        c = int(10 + 0.3 * (60 - r))
        ink[r, c:c + 5] = 1.0
        ink[r, c + 22:c + 27] = 1.0
    ink[55:60, 25:36] = 1.0
    piece = Piece((100, 50, 60, 60), ink)
    found = cuts(piece, height=60.0)
    assert found and all(isinstance(c, Cut) for c in found)
    best = found[0]
    assert best.slant < 0  # x shrinks downwards: the cut leans with the strokes
    halves = split(piece, best)
    assert halves is not None
    left, right = halves
    assert left.box[0] == 100 + int((ink > 0.3).any(axis=0).argmax()) and right.box[0] > left.box[0]
    assert left.ink.sum() + right.ink.sum() == pytest.approx(ink.sum())  # every pixel goes to one half


def test_a_seam_goes_round_a_bar_that_overhangs_the_next_digit() -> None:
    """A 7-like stroke whose bar reaches over the next digit's stem: every straight cut, upright or
    leaning, crosses ink; the cheapest seam crosses none and gives each stroke back whole."""
    from inkdigit.engine.segment import Piece, cuts, seams, split

    first = np.zeros((60, 60), np.float32)
    first[0:60, 0:5] = 1.0  # stem
    first[0:4, 0:39] = 1.0  # bar, over the second digit's stem
    second = np.zeros((60, 60), np.float32)
    second[20:60, 28:33] = 1.0  # a stem under the bar, not touching it ...
    second[55:60, 28:60] = 1.0  # ... and its foot, reaching further right than the bar
    piece = Piece((10, 20, 60, 60), np.maximum(first, second))

    def crossed(halves: tuple[Piece, Piece]) -> float:
        left, right = halves
        rebuilt = np.zeros_like(piece.ink)
        x, y, w, h = left.box
        rebuilt[y - 20:y - 20 + h, x - 10:x - 10 + w] += left.ink
        return float(np.abs(rebuilt - first).sum())

    straight = [split(piece, c) for c in cuts(piece, height=60.0, candidates=20)]
    assert all(h is None or crossed(h) > 0 for h in straight)
    found = seams(piece, height=60.0)
    assert found
    halves = split(piece, found[0])
    assert halves is not None and crossed(halves) == 0.0
    assert halves[1].box == (10 + 28, 20 + 20, 32, 40)  # the second digit alone


@pytest.fixture(scope="module")
def example() -> np.ndarray:
    """examples/number.png ("4 217", blue on off-white) in gray."""
    from pathlib import Path

    return np.asarray(Image.open(Path(__file__).parents[2] / "examples" / "number.png").convert("L")).copy()


def test_underlines_rules_and_a_frame_around_the_field_are_not_digits(rec: Recognizer, example) -> None:
    assert read_number(rec, example).formatted == "4 217"
    whole, part = example.copy(), example.copy()
    whole[135:138, 20:466] = 0  # an underline under every digit
    part[135:138, 180:466] = 0  # under the last three only
    framed = Image.fromarray(example.copy())
    ImageDraw.Draw(framed).rectangle((8, 8, example.shape[1] - 9, example.shape[0] - 9), outline=0, width=3)
    for img in (whole, part, np.asarray(framed)):
        assert read_number(rec, img).text == "4217"


def test_a_mark_in_a_gap_is_that_separator_and_its_place_counts_digits_by_centre(rec: Recognizer, example) -> None:
    dot, dash, last = example.copy(), example.copy(), example.copy()
    dot[112:122, 150:160] = 0
    dash[80:86, 130:170] = 0
    last[112:122, 442:452] = 0  # partly under the 7's bar
    assert read_number(rec, dot).formatted == "4.217"
    assert read_number(rec, dash).formatted == "4-217"
    assert read_number(rec, last).formatted == "4 217."


def test_boxes_stay_inside_the_image_and_bad_arguments_are_clear(rec: Recognizer, example, tmp_path) -> None:
    big = np.asarray(Image.fromarray(example).resize((1004, 400)))
    for d in read_number(rec, big).digits:
        x, y, w, h = d.box
        assert x >= 0 and y >= 0 and x + w <= 1004 and y + h <= 400
    assert len(read_number(rec, example, top_k=0).digits[0].top) == 1
    with pytest.raises(ImageInputError, match="Cannot read"):
        read_number(rec, str(tmp_path))  # a folder, not an image


def test_a_one_written_with_a_thick_marker_is_no_frame(rec: Recognizer) -> None:
    """A solid bar has long runs along all four sides, as a frame does; it was erased as one, so a
    "417" written with a thick pen read "47" (and a marker 1 in a photo read as nothing)."""
    from inkdigit.engine.preprocess_v2 import strip_frames

    bar = np.zeros((120, 60), np.float32)
    bar[10:110, 20:40] = 1.0
    assert np.array_equal(strip_frames(bar), bar)
    frame = np.zeros((120, 80), np.float32)
    frame[10:110, 10:70] = 1.0
    frame[16:104, 16:64] = 0.0
    frame[40:80, 38:42] = 1.0  # a stroke inside the frame
    stripped = strip_frames(frame)
    assert stripped[10:16].max() == 0 and stripped[50, 10:16].max() == 0  # the frame is gone
    assert stripped[40:80, 38:42].min() == 1.0  # the stroke is kept
    line = np.full((160, 420), 255, np.uint8)
    img = Image.fromarray(line)
    draw = ImageDraw.Draw(img)
    draw.line([(70, 140), (70, 25), (20, 105), (110, 105)], fill=0, width=22, joint="curve")  # 4
    draw.line([(200, 20), (200, 140)], fill=0, width=22)  # 1, as thick as the marker
    draw.line([(280, 25), (360, 25), (310, 140)], fill=0, width=22, joint="curve")  # 7
    assert read_number(rec, np.asarray(img)).text == "417"


def _squarish_zero(draw: ImageDraw.ImageDraw, cx: float, cy: float, width: int) -> None:
    """A 0 drawn with a marker, squarish as many hands draw it (a superellipse, exponent 4)."""
    t = np.linspace(0, 2 * np.pi, 200)
    x = cx + 32 * np.sign(np.cos(t)) * np.abs(np.cos(t)) ** 0.5
    y = cy + 52 * np.sign(np.sin(t)) * np.abs(np.sin(t)) ** 0.5
    points = [*zip(x.tolist(), y.tolist(), strict=True), (float(x[0]), float(y[0]))]
    draw.line(points, fill=0, width=width, joint="curve")


@pytest.mark.parametrize("width", [10, 14, 18])
def test_a_bold_squarish_zero_is_no_frame(rec: Recognizer, width: int) -> None:
    """A bold 0 has straight runs along all four sides, as a printed frame does; it was erased as
    one, leaving four arcs, so "701" read "7511" or "71211". A frame around the number still goes."""
    img = Image.new("L", (330, 160), 255)
    draw = ImageDraw.Draw(img)
    draw.line([(40, 30), (90, 30), (60, 135)], fill=0, width=width, joint="curve")  # 7
    _squarish_zero(draw, 170, 82, width)
    draw.line([(270, 25), (270, 140)], fill=0, width=width)  # 1
    assert read_number(rec, np.asarray(img)).text == "701"
    framed = Image.new("L", (390, 220), 255)
    framed.paste(img, (30, 30))
    ImageDraw.Draw(framed).rectangle([(10, 10), (380, 210)], outline=0, width=3)
    assert read_number(rec, np.asarray(framed)).text == "701"


def test_a_transparent_strip_of_a_mostly_opaque_image_is_not_ink(rec: Recognizer, example) -> None:
    """Transparent pixels took the colour black, so a transparent margin of a light image read as
    a stroke ("14 217"); they now take the opaque part's own background colour."""
    rgba = np.dstack([example] * 3 + [np.full_like(example, 255)])
    rgba[:, :40, 3] = 0
    assert read_number(rec, png_bytes(rgba)).formatted == "4 217"


def test_the_piece_scorer_parts_pairs_the_gate_took_for_one_digit(rec: Recognizer, clear_digits) -> None:
    """Squeezed into one box, a touching 0-1 read '0' and 9-0 read '00' by the digit-or-not gate
    (cnn-v4); the shipped model's piece scorer, trained on touching pairs, parts them."""
    assert rec.has_piece_scorer
    for pair in ("01", "90"):
        img = _line([clear_digits[int(c)] for c in pair], [-10])
        assert read_number(rec, png_bytes(img)).text == pair


@pytest.mark.parametrize("text", ["80", "38", "06"])
def test_digits_written_with_a_thick_marker_are_read_not_hollowed(rec: Recognizer, clear_digits, text: str) -> None:
    """A bold stroke fills most of its piece's box; preprocessing must still take the paper, not
    the ink, for the background (it read an 8 as its hollow outline, a 7, and a 6 as a 0). So each
    digit must read in the number as it reads alone on a wide white sheet, where the paper is
    plainly the background: what a model makes of a bold digit is the model's (at this boldness a
    3's openings nearly close), a hollowed digit is the number path's."""

    def bold(digits: str) -> np.ndarray:
        thick = [cv2.dilate(clear_digits[int(c)], np.ones((3, 3), np.uint8)) for c in digits]
        line = 1 - _line(thick, [30] * (len(digits) - 1)).astype(np.float32) / 255
        ink = cv2.dilate(line, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
        return ((1 - ink) * 255).astype(np.uint8)

    alone = [rec.predict(np.pad(bold(c), 150, constant_values=255)).top(1)[0] for c in text]
    got = read_number(rec, png_bytes(bold(text)))
    assert got.text == "".join(str(d) for d, _ in alone)
    for d, (_, p) in zip(got.digits, alone, strict=True):  # as sure as alone where alone is sure
        assert p < 0.9 or d.confidence > 0.9


def test_a_whole_digit_the_piece_scorer_doubts_is_not_split(rec: Recognizer, data_dir) -> None:
    """Six MNIST *training* digits drawn as the numbers benchmark draws them (seed 3): its 5 is twice
    as wide as tall, the piece scorer's logit for it is far below zero, and with that logit taken
    untempered the classifier's confident halves won ("1159471"). ``WHOLE_TEMPERATURE`` keeps it whole."""
    from inkdigit.training import data
    from inkdigit.training.robustness.numbers import RENDERINGS

    train = data.load("mnist", "train", data_dir)
    pick = [9906, 17159, 10934, 6724, 49866, 9975]
    assert "".join(str(int(train.labels[i])) for i in pick) == "159471"
    png = RENDERINGS["canvas"](list(train.images[pick].astype(np.float32) / 255.0), np.random.default_rng(3))
    assert read_number(rec, png).text == "159471"
