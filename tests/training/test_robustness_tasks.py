"""The numbers and rejection benchmarks: their shape, their seeds, and that they measure something."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("skimage")

from inkdigit import paths
from inkdigit.training.robustness import numbers, tasks

CARD = str(paths.store().find(paths.default_model()))


def test_numbers_scores_whole_strings_per_rendering_and_length() -> None:
    result = tasks.run_numbers(CARD, "mnist", limit=6, seed=0)
    names = set(result.renderings)
    assert {f"numbers/{n}" for n in numbers.RENDERINGS} <= names
    lengths = [k for k in names if k.startswith("length/")]
    assert lengths and sum(result.renderings[k].n for k in lengths) == 6 * len(numbers.RENDERINGS)
    assert all(0.0 <= r.accuracy <= 1.0 for r in result.renderings.values())
    assert result.renderings["numbers/canvas"].accuracy >= 0.5  # 2-10 clean digits apart: most read whole
    again = tasks.run_numbers(CARD, "mnist", limit=6, seed=0)
    assert again.summary()["renderings"] == result.summary()["renderings"]


def test_touching_layouts_touch_and_apart_ones_do_not(mnist_test) -> None:
    import cv2

    rng = np.random.default_rng(0)
    digits = [d.astype(np.float32) / 255 for d in mnist_test.images[:3]]
    for touching, expected in ((False, 3), (True, 2)):
        cover = numbers.line_coverage(digits, rng, numbers.Layout(touching=touching), 80.0, 8.0)
        n, _ = cv2.connectedComponents((cover > 96).astype(np.uint8))
        assert n - 1 <= expected if touching else n - 1 >= expected


def test_each_digit_drawn_alone_is_its_part_of_the_line(mnist_test) -> None:
    """``Layout.only`` draws one digit where it stands on the line: from one generator state, the
    digits drawn alone make up the line drawn whole, and each alone holds ink the other lacks."""
    digits = [d.astype(np.float32) / 255 for d in mnist_test.images[:2]]
    drawn = [numbers.line_coverage(digits, np.random.default_rng(6), numbers.Layout(touching=True, only=only),
                                   80.0, 8.0) for only in (None, 0, 1)]
    np.testing.assert_array_equal(drawn[0], np.maximum(drawn[1], drawn[2]))
    assert ((drawn[1] > 96) & (drawn[2] == 0)).any() and ((drawn[2] > 96) & (drawn[1] == 0)).any()
    beyond = numbers.line_coverage(digits, np.random.default_rng(6), numbers.Layout(touching=True, only=2),
                                   80.0, 8.0)
    assert beyond.shape == drawn[0].shape and not beyond.any()


def test_drawn_apart_draws_the_line_then_each_digit_and_moves_on_as_one_drawing(mnist_test) -> None:
    digits = [d.astype(np.float32) / 255 for d in mnist_test.images[:2]]
    rng, once = np.random.default_rng(8), np.random.default_rng(8)
    drawn = numbers.drawn_apart(numbers.render_canvas, digits, rng, numbers.Layout(touching=True))
    assert len(drawn) == 3 and drawn[0] == numbers.render_canvas(digits, once, numbers.Layout(touching=True))
    assert rng.bit_generator.state == once.bit_generator.state and len(set(drawn)) == 3


def test_pen_lifts_part_a_digits_strokes_where_they_meet_and_keep_the_rest(mnist_test) -> None:
    """A 4 traced from MNIST is one connected skeleton; with the pen lifted at some of the places
    where its strokes meet, some strokes lose an end, and each stays the same path, only shorter."""
    from inkdigit.training.robustness import canvas
    from inkdigit.training.robustness.canvas import trace_strokes

    four = next(d for d, y in zip(mnist_test.images, mnist_test.labels, strict=True) if y == 4)
    strokes = trace_strokes(four.astype(np.float32) / 255)
    assert len(strokes) >= 2  # the traced 4 has a junction
    rng = np.random.default_rng(3)
    lifted = canvas.pen_lifts(strokes, rng, 0.05)  # (the traced strokes must stay as they were)
    assert len(lifted) == len(strokes)
    assert any(len(a) < len(b) for a, b in zip(lifted, strokes, strict=True))  # some end was pulled back
    for a, b in zip(lifted, strokes, strict=True):  # what is left is the same path, only shorter
        assert len(a) <= len(b) and all(np.min(np.linalg.norm(b - p, axis=1)) < 1e-9 for p in a)
    assert [len(s) for s in strokes] == [len(s) for s in trace_strokes(four.astype(np.float32) / 255)]


def test_pen_lift_layouts_break_digits_into_more_pieces(mnist_test) -> None:
    import cv2

    fours = [d.astype(np.float32) / 255 for d, y in zip(mnist_test.images, mnist_test.labels, strict=True)
             if y == 4][:6]  # a traced 4 has a junction or two
    counts = []
    for lifts in (False, True):
        cover = numbers.line_coverage(fours, np.random.default_rng(4), numbers.Layout(lifts=lifts), 80.0, 5.0)
        counts.append(cv2.connectedComponents((cover > 96).astype(np.uint8))[0] - 1)
    assert counts[0] == 6 and counts[1] >= 9, counts


def test_rejection_scores_non_digits_and_real_digits() -> None:
    result = tasks.run_rejection(CARD, limit=8, seed=0, digit_limit=100)
    kinds = {k for k in result.renderings if k.startswith("negatives/")}
    assert {"negatives/blank", "negatives/blank-photo", "negatives/letter"} <= kinds and len(kinds) >= 11
    assert result.renderings["negatives/blank"].accuracy == 1.0  # a blank is never a digit
    assert np.mean([result.renderings[k].accuracy for k in kinds]) > 0.6
    mnist = result.renderings["digits/mnist"]
    assert mnist.n == 100 and mnist.accuracy > 0.95 and mnist.rejected < 0.05


def test_cli_task_option_writes_the_suite_json_shape(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("inkdigit")
    res = subprocess.run([str(exe), "robustness", "--task", "numbers", "--limit", "3", "--out", str(tmp_path),
                          "--json"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout.splitlines()[-1])
    assert set(summary) >= {"dataset", "model", "renderings"} and "numbers/canvas-touching" in summary["renderings"]
    assert (tmp_path / f"{summary['model']}-numbers-mnist.json").exists()
