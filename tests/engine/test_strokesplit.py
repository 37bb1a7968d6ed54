"""Touching digits split along their strokes: what the proposals are, and that reading uses them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inkdigit.engine import numbers
from inkdigit.engine.numbers import read_number
from inkdigit.engine.recognizer import Recognizer
from inkdigit.engine.segment import INK, Piece, cuts, seams, split
from inkdigit.engine.strokesplit import StrokeCut, stroke_cuts
from inkdigit.paths import default_model, store


@pytest.fixture(scope="module")
def rec() -> Recognizer:
    return Recognizer(store().find(default_model()))


def _foot_and_post() -> tuple[np.ndarray, np.ndarray]:
    """An L whose foot runs on under a post standing on it: (the pair's ink, the L's own ink)."""
    ell = np.zeros((70, 80), np.float32)
    ell[5:60, 10:16] = 1.0
    ell[54:60, 10:70] = 1.0
    post = np.zeros_like(ell)
    post[5:55, 44:50] = 1.0
    return np.maximum(ell, post), ell


def _left_share(own: np.ndarray, other: np.ndarray, left: np.ndarray) -> tuple[float, float]:
    return float((own * left).sum() / own.sum()), float((other * left).sum() / other.sum())


def test_strokes_part_a_foot_from_the_post_standing_on_it() -> None:
    """No line from top to bottom parts them (it must cut the foot), a stroke cut does: one
    proposal gives the left digit all its own ink and none of the post's."""
    ink, ell = _foot_and_post()
    post = np.where(ell > 0, 0.0, ink)
    piece = Piece((0, 0, ink.shape[1], ink.shape[0]), ink)
    lines = [*cuts(piece, 60.0), *seams(piece, 60.0)]
    assert lines and all(_left_share(ell, post, c.left_of(ink.shape))[0] < 0.9 for c in lines)
    proposals = stroke_cuts(ink, 60.0)
    assert proposals and all(isinstance(p, StrokeCut) for p in proposals)
    best = max(proposals, key=lambda p: min(_left_share(ell, post, p.left)[0], 1 - _left_share(ell, post, p.left)[1]))
    own, other = _left_share(ell, post, best.left)
    assert own > 0.95 and other < 0.05


def test_every_proposal_deals_every_pixel_to_one_side_and_leaves_ink_on_both() -> None:
    ink, _ = _foot_and_post()
    piece = Piece((0, 0, ink.shape[1], ink.shape[0]), ink)
    for p in stroke_cuts(ink, 60.0):
        assert p.left.shape == ink.shape and p.left.dtype == bool
        halves = split(piece, p)
        assert halves is not None
        assert sum(float(h.ink.sum()) for h in halves) == pytest.approx(float(ink.sum()))
        assert all((h.ink > INK).any() for h in halves)


def test_a_single_stroke_or_a_blank_has_nothing_to_deal() -> None:
    bar = np.zeros((60, 20), np.float32)
    bar[5:55, 8:13] = 1.0
    assert stroke_cuts(bar, 50.0) == []
    assert stroke_cuts(np.zeros((60, 60), np.float32), 50.0) == []


def test_small_pieces_are_dealt_at_their_own_size() -> None:
    """A photo's pieces are 30-40 px high: the strokes are found on the piece enlarged, the
    proposals come back at the piece's size."""
    ink, ell = _foot_and_post()
    small = ink[::2, ::2].copy()
    proposals = stroke_cuts(small, 30.0)
    assert proposals and all(p.left.shape == small.shape for p in proposals)


def test_a_markers_bold_strokes_are_not_dealt() -> None:
    """Strokes a third of the digit's height wide have a skeleton of spurs: no proposals."""
    ink, _ = _foot_and_post()
    assert stroke_cuts(ink, 60.0)
    bold = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15)))
    assert stroke_cuts(bold, 60.0) == []


@pytest.mark.parametrize(("seed", "text"), [(25, "93"), (33, "69")])
def test_interleaved_touching_digits_are_read_with_stroke_cuts(rec: Recognizer, mnist_test, seed: int,
                                                               text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two MNIST *test* digits drawn touching as the numbers benchmark draws them: without stroke
    cuts the reader made "8" of the 9 and 3 and "67" of the 6 and 9 (the 9's tail under the 6)."""
    from inkdigit.training.robustness.numbers import Layout, render_canvas

    rng = np.random.default_rng(seed)
    pick = rng.integers(0, 10000, 2)
    assert "".join(str(int(mnist_test.labels[i])) for i in pick) == text
    png = render_canvas(list(mnist_test.images[pick].astype(np.float32) / 255), rng, Layout(touching=True))
    assert read_number(rec, png).text == text
    monkeypatch.setattr(numbers, "STROKES_WIDE", float("inf"))
    assert read_number(rec, png).text != text
