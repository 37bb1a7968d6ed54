"""Halves of digits, cut as the number reader cuts them: the gate's lesson that half a digit is none."""

from __future__ import annotations

import numpy as np
import pytest

from inkdigit.training import fragments
from inkdigit.training.train import TrainConfig, build


@pytest.fixture(scope="module")
def raw_digits(mnist_test):
    return mnist_test.images[:300]


def test_fragments_are_preprocessed_inked_and_reproducible(raw_digits: np.ndarray) -> None:
    a = fragments.make_fragments(40, seed=3, digits=raw_digits, workers=1)
    assert a.shape == (40, 28, 28) and a.dtype == np.uint8
    assert (a.reshape(40, -1).max(axis=1) > 200).all()
    np.testing.assert_array_equal(a, fragments.make_fragments(40, seed=3, digits=raw_digits, workers=1))
    assert not np.array_equal(a, fragments.make_fragments(40, seed=4, digits=raw_digits, workers=1))


def test_no_fragment_is_a_single_straight_stroke(raw_digits: np.ndarray) -> None:
    """A straight stroke may be a real 1: teaching the gate to refuse it would refuse 1s."""
    a = fragments.make_fragments(120, seed=5, digits=raw_digits, workers=1).astype(np.float32) / 255
    assert not any(fragments._is_stroke(x) for x in a)


def test_is_stroke_tells_a_bar_at_any_slant_from_a_curve() -> None:
    upright = np.zeros((28, 28), np.float32)
    upright[4:24, 13:15] = 1.0
    leaning = np.zeros((28, 28), np.float32)
    for r in range(4, 24):
        leaning[r, 6 + r // 2: 9 + r // 2] = 1.0
    ring = np.zeros((28, 28), np.float32)
    yy, xx = np.mgrid[:28, :28]
    ring[np.abs(np.hypot(yy - 14, xx - 14) - 8) < 1.5] = 1.0
    hook = np.zeros((28, 28), np.float32)  # the top of a 7: a bar and a short stem
    hook[5:8, 6:22] = 1.0
    hook[5:15, 19:22] = 1.0
    assert fragments._is_stroke(upright) and fragments._is_stroke(leaning)
    assert not fragments._is_stroke(ring) and not fragments._is_stroke(hook)


def test_a_piece_scorer_without_a_gate_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="needs --gate"):
        build(TrainConfig(piece_gate=100, out_dir=str(tmp_path)))


def test_pair_cuts_without_a_piece_scorer_are_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="needs --piece-gate"):
        build(TrainConfig(gate=100, pair_cuts=100, out_dir=str(tmp_path)))


def test_pair_cut_strokes_without_pair_cuts_are_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="needs --pair-cuts"):
        build(TrainConfig(gate=100, piece_gate=100, pair_cut_strokes=True, out_dir=str(tmp_path)))


def test_pair_cut_halves_are_labelled_by_whose_ink_they_hold(raw_digits: np.ndarray, tmp_path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The halves of a touching pair that are one whole digit read as that digit, those holding
    parts of both read as neither digit of their pair alone. Checked with the shipped model: it
    reads most whole halves confidently, and the mixed ones far less so. Halves cut along the
    strokes (``strokes=True``) come only when asked for, and are labelled the same way."""
    from inkdigit.engine.recognizer import Recognizer
    from inkdigit.engine.strokesplit import StrokeCut
    from inkdigit.paths import default_model, store

    monkeypatch.setenv("INKDIGIT_CACHE_DIR", str(tmp_path))
    rec = Recognizer(store().find(default_model()))
    parted: list[bool] = []  # per split that made two halves: whether it was a stroke cut

    def split(piece, cut):  # type: ignore[no-untyped-def]
        halves = real_split(piece, cut)
        if halves is not None:
            parted.append(isinstance(cut, StrokeCut))
        return halves

    real_split = fragments.split
    monkeypatch.setattr(fragments, "split", split)
    for strokes in (False, True):  # cut straight and along seams; and along the strokes too
        parted.clear()
        whole, not_whole = fragments.make_pair_cuts(60, seed=3, digits=raw_digits, workers=1, strokes=strokes)
        assert any(parted) == strokes, sum(parted)  # in the same process: workers=1
        assert whole.shape == not_whole.shape == (60, 28, 28) and whole.dtype == np.uint8
        for a in (whole, not_whole):
            assert (a.reshape(60, -1).max(axis=1) > 200).all()
        again = fragments.make_pair_cuts(60, seed=3, digits=raw_digits, workers=1, strokes=strokes)
        np.testing.assert_array_equal(whole, again[0])
        np.testing.assert_array_equal(not_whole, again[1])
        sure = [float((rec.scores(a.astype(np.float32) / 255)[0].max(axis=1) > 0.9).mean()) for a in (whole, not_whole)]
        assert sure[0] > 0.9 and sure[1] < 0.7, (strokes, sure)


def test_the_pieces_depend_on_the_seed_not_on_the_number_of_processes(raw_digits: np.ndarray, tmp_path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The chunks (each with its own seed) once followed the core count, so a 4-core machine made
    other training data than the 2-core one that trained the shipped model."""
    made = []
    for workers in (1, 2):
        monkeypatch.setenv("INKDIGIT_CACHE_DIR", str(tmp_path / f"cache-{workers}"))
        made.append(fragments.make_fragments(600, seed=8, digits=raw_digits, workers=workers))
    np.testing.assert_array_equal(made[0], made[1])


def test_the_cache_key_holds_the_digits_themselves(raw_digits: np.ndarray, tmp_path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INKDIGIT_CACHE_DIR", str(tmp_path))
    a = fragments.make_fragments(20, seed=2, digits=raw_digits, workers=1)
    b = fragments.make_fragments(20, seed=2, digits=raw_digits[::-1].copy(), workers=1)  # same shape
    assert not np.array_equal(a, b)
