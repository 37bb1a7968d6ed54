"""Training data that looks like real input: style variants, rendered digits, and a training run
that uses them (dry run)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inkdigit.training import data, realistic
from inkdigit.training.robustness import canvas


@pytest.fixture(scope="module")
def train_digits() -> data.Digits:
    return data.load("mnist", "train")


def _first(d: data.Digits, label: int) -> np.ndarray:
    return d.images[int(np.flatnonzero(d.labels == label)[0])] / 255.0


def test_a_continental_one_gains_a_flag_to_the_left_of_its_top(train_digits: data.Digits) -> None:
    strokes = realistic._unit(canvas.trace_strokes(_first(train_digits, 1)))
    styled = realistic.continental_one(strokes, np.random.default_rng(0))
    assert len(styled) > len(strokes)
    flag = styled[len(strokes)]
    top = np.concatenate(strokes)[:, 1].argmin()
    assert flag[0, 0] < np.concatenate(strokes)[top, 0] and flag[0, 1] > flag[-1, 1]  # from lower left, up


def _a_one(d: data.Digits, k: int) -> list[np.ndarray]:
    """The ``k``-th MNIST training 1, traced and at unit height."""
    return realistic._unit(canvas.trace_strokes(d.images[np.flatnonzero(d.labels == 1)[k]] / 255.0))


@pytest.mark.parametrize("seed", range(6))
def test_a_flagged_one_stands_upright_under_a_long_falling_flag(train_digits: data.Digits, seed: int) -> None:
    strokes = _a_one(train_digits, seed)
    styled = realistic.flagged_one(strokes, np.random.default_rng(seed))
    stem = np.concatenate(styled[:len(strokes)])
    top, bottom = stem[stem[:, 1].argmin()], stem[stem[:, 1].argmax()]
    lean = (top[0] - bottom[0]) / (bottom[1] - top[1])
    assert -0.06 < lean < 0.16  # within a few degrees of upright, whatever the MNIST 1 leaned
    flag = styled[len(strokes)]
    (x0, y0), (x1, y1) = flag[0], flag[-1]
    assert np.allclose((x1, y1), top) and x0 < x1 and y0 > y1  # from lower left up to the top
    angle = np.degrees(np.arctan2(y0 - y1, x1 - x0))
    assert 19.9 < angle < 40.1 and 0.34 < np.hypot(x1 - x0, y0 - y1) < 0.61


def test_style_sets_3_and_4_draw_flagged_and_continental_ones(train_digits: data.Digits) -> None:
    assert realistic.STYLE_SETS[3][1] == (realistic.continental_one, realistic.flagged_one)
    assert realistic.STYLE_SETS[4][1] == (realistic.continental_one, realistic.steep_flagged_one)
    for later in (3, 4):  # set 2 otherwise, unchanged
        assert {k: v for k, v in realistic.STYLE_SETS[later].items() if k != 1} == \
            {k: v for k, v in realistic.STYLE_SETS[2].items() if k != 1}


@pytest.mark.parametrize("seed", range(6))
def test_a_steep_flag_falls_30_to_45_degrees(train_digits: data.Digits, seed: int) -> None:
    strokes = _a_one(train_digits, seed)
    (x0, y0), (x1, y1) = realistic.steep_flagged_one(strokes, np.random.default_rng(seed))[len(strokes)][[0, -1]]
    assert 29.9 < np.degrees(np.arctan2(y0 - y1, x1 - x0)) < 45.1


def test_a_crossed_seven_gains_a_bar_across_its_stem(train_digits: data.Digits) -> None:
    strokes = realistic._unit(canvas.trace_strokes(_first(train_digits, 7)))
    bar = realistic.crossed_seven(strokes, np.random.default_rng(0))[-1]
    assert 0.4 < bar[:, 1].mean() < 0.7 and np.ptp(bar[:, 0]) > 0.25 and np.ptp(bar[:, 1]) < 0.1


def test_zeros_gain_a_slash_or_a_dot(train_digits: data.Digits) -> None:
    strokes = realistic._unit(canvas.trace_strokes(_first(train_digits, 0)))
    rng = np.random.default_rng(0)
    slash = realistic.slashed_zero(strokes, rng)[-1]
    assert slash[0, 0] < slash[-1, 0] and slash[0, 1] > slash[-1, 1]  # lower left to upper right
    dot = realistic.dotted_zero(strokes, rng)[-1]
    assert np.ptp(dot, axis=0).max() < 0.05


def _drawn(style: Callable[[list[np.ndarray], np.random.Generator], list[np.ndarray]], seed: int) -> list[np.ndarray]:
    return realistic._unit(style([], np.random.default_rng(seed)))


@pytest.mark.parametrize("seed", range(5))
def test_an_open_top_four_has_two_strokes_that_do_not_meet_at_the_top(seed: int) -> None:
    first, stem = _drawn(realistic.open_top_four, seed)
    top_of_first, top_of_stem = first[np.argmin(first[:, 1])], stem[np.argmin(stem[:, 1])]
    assert np.hypot(*(top_of_first - top_of_stem)) > 0.15  # open: the tops stay apart
    assert stem[:, 1].max() > first[:, 1].max()  # the stem runs below the bar


@pytest.mark.parametrize("seed", range(5))
def test_a_straight_nine_has_a_loop_and_a_straight_tail(seed: int) -> None:
    loop, tail = _drawn(realistic.straight_nine, seed)
    assert np.hypot(*(loop[0] - loop[-1])) < 0.2 and loop[:, 1].max() < 0.6  # a closed loop on top
    a, b = tail[0], tail[-1]
    off_line = np.abs(np.cross(b - a, tail - a)) / np.hypot(*(b - a))
    assert off_line.max() < 0.05 and b[1] - a[1] > 0.5  # straight, and long


@pytest.mark.parametrize("seed", range(5))
def test_a_european_two_loops_at_its_base(seed: int) -> None:
    (stroke,) = _drawn(realistic.european_two, seed)
    low = stroke[stroke[:, 1] > 0.7]
    # the stroke comes back near itself at the bottom left: a loop, then the base to the right
    gaps = [np.hypot(*(low[i] - low[j])) for i in range(len(low)) for j in range(i + 6, len(low))]
    assert min(gaps) < 0.05 and stroke[-1, 0] - low[:, 0].min() > 0.5


def test_the_new_styles_read_as_their_digits_through_the_shipped_model() -> None:
    """What the variants add must still be the digit: the shipped model reads most of them (they are
    for the next model to learn; a drawing it cannot read at all would be a broken template)."""
    from inkdigit import paths

    rec = paths.store().load(paths.default_model())
    for label in (2, 4, 9):
        (style,) = realistic.STYLES[label]
        reads = [rec.predict(canvas.render_strokes(_drawn(style, s), np.random.default_rng(s))).digit
                 for s in range(10)]
        assert reads.count(label) >= 8, (label, reads)


def test_extra_images_are_deterministic_cached_and_labelled(train_digits: data.Digits) -> None:
    images, labels = train_digits.images[:300], train_digits.labels[:300]
    first = realistic.make("styles", images, labels, 24, 5, train_digits.checksums, workers=1)
    again = realistic.make("styles", images, labels, 24, 5, train_digits.checksums, workers=2)
    assert np.array_equal(first.images, again.images) and set(first.labels.tolist()) <= {0, 1, 7}
    newer = realistic.make("styles", images, labels, 24, 5, train_digits.checksums, workers=2, style_set=2)
    assert set(newer.labels.tolist()) <= {0, 1, 2, 4, 7, 9} and not set(newer.labels.tolist()) <= {0, 1, 7}
    with pytest.raises(ValueError, match="style set 5 does not exist"):
        realistic.make("styles", images, labels, 24, 5, train_digits.checksums, style_set=5)
    rendered = realistic.make("rendered", images, labels, 40, 5, train_digits.checksums, workers=2)
    assert rendered.images.shape[1:] == (28, 28) and len(rendered.labels) >= 36
    assert sum(rendered.kinds.values()) == 40 and set(rendered.kinds) <= set(realistic.FAMILY_WEIGHTS)
    assert (rendered.images.reshape(len(rendered.labels), -1).max(axis=1) > 0).all()


def _pieces(png: bytes) -> int:
    """How many separate strokes of ink a drawing holds (8-connected)."""
    import cv2

    ink = np.asarray(Image.open(io.BytesIO(png)).convert("L")) < 128  # dark ink on an opaque ground
    return int(cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)[0]) - 1


def test_pen_lifts_break_canvas_drawings_into_pieces(train_digits: data.Digits) -> None:
    strokes = canvas.trace_strokes(_first(train_digits, 4))
    pen = {"dark_ink": True, "transparent": False}
    plain = [canvas.render_strokes(strokes, np.random.default_rng(s), **pen) for s in range(12)]
    lifted = [canvas.render_strokes(strokes, np.random.default_rng(s), lifts=True, **pen) for s in range(12)]
    assert all(_pieces(p) == 1 for p in plain)
    assert sum(_pieces(p) > 1 for p in lifted) >= 4  # each meeting end is lifted with chance 1/2


def test_without_a_variation_the_drawings_are_those_made_before_variations_existed(
        train_digits: data.Digits) -> None:
    """Older cards' training commands must still reproduce them: with ``Variation()`` a rendered or
    style image is drawn from exactly the random numbers the code before it drew (replayed here)."""
    from inkdigit.training.robustness import suite

    found = suite.renderings()
    for label, family in ((4, "canvas"), (1, "photo"), (0, "styles"), (7, "styles")):
        digit = _first(train_digits, label)
        for seed in range(3):
            got = realistic._render_one(family, digit, label, np.random.default_rng(seed), 2, realistic.Variation())
            rng = np.random.default_rng(seed)
            if family == "styles":  # the draw order of the code before variations
                variants = realistic.STYLE_SETS[2][label]
                variant = variants[int(rng.integers(len(variants)))]
                strokes = realistic._unit(canvas.trace_strokes(digit))
                before = canvas.render_strokes(realistic._unit(variant(strokes, rng)), rng)
            else:
                names = [n for n in found if n.startswith(family + "/")]
                before = found[names[int(rng.integers(len(names)))]](digit, rng)
            assert got == before, (family, label, seed)


def test_a_lifted_canvas_digit_is_a_canvas_drawing_broken_where_strokes_meet(train_digits: data.Digits) -> None:
    four = _first(train_digits, 4)
    drawn = [realistic._render_one("canvas", four, 4, np.random.default_rng(s), 2, realistic.Variation(lifts=1.0))
             for s in range(12)]
    images = [Image.open(io.BytesIO(b)) for b in drawn if b is not None]
    assert len(images) == 12 and all(im.mode in ("RGB", "RGBA") and im.size[0] >= 280 for im in images)
    grey = [np.asarray(im.convert("RGBA"))[..., 3] if im.mode == "RGBA" and np.asarray(im)[0, 0, 3] == 0
            else np.abs(np.asarray(im.convert("L"), np.float32) - float(np.median(np.asarray(im.convert("L")))))
            for im in images]
    import cv2

    pieces = [cv2.connectedComponents((g > 96).astype(np.uint8), connectivity=8)[0] - 1 for g in grey]
    assert sum(p > 1 for p in pieces) >= 4, pieces


def test_a_scanned_style_variant_is_an_mnist_like_digit_through_a_scale_rendering(train_digits: data.Digits) -> None:
    strokes = realistic._unit(realistic.continental_one(realistic._unit(
        canvas.trace_strokes(_first(train_digits, 1))), np.random.default_rng(0)))
    inked = realistic._inked(strokes, np.random.default_rng(1))
    rows, _ = np.nonzero(inked > 0.1)
    assert inked.shape == (28, 28) and 18 <= np.ptp(rows) + 1 <= 21 and abs((rows.min() + rows.max()) / 2 - 13.5) < 1.5
    one = _first(train_digits, 1)
    scans = [realistic._render_one("styles", one, 1, np.random.default_rng(s), 2, realistic.Variation(scans=1.0))
             for s in range(40)]
    images = [Image.open(io.BytesIO(b)) for b in scans if b is not None]
    assert {im.mode for im in images} == {"L"}  # grey scans and resizes; a canvas drawing would be RGB or RGBA
    sides = {im.size[0] for im in images}
    assert sides & {32, 64}  # 8 × 8 thumbnails enlarged ×4 and ×8 are among them (28 px digits never give these)


def test_a_variation_changes_the_drawings_and_the_cache_key(train_digits: data.Digits) -> None:
    images, labels = train_digits.images[:300], train_digits.labels[:300]
    base = realistic.make("styles", images, labels, 24, 6, train_digits.checksums, workers=1, style_set=2)
    varied = realistic.make("styles", images, labels, 24, 6, train_digits.checksums, workers=1, style_set=2,
                            variation=realistic.Variation(lifts=0.5, scans=0.5))
    assert np.array_equal(base.labels, varied.labels) and not np.array_equal(base.images, varied.images)
    assert base.plain.all() and not varied.plain.all()  # which images a variation drew is known
    # scans change style variants only: a rendered set's key ignores them, lifts change both
    assert realistic.Variation(scans=0.5).used_by("rendered") == {}
    assert realistic.Variation(0.5, 0.5).used_by("rendered") == {"lifts": 0.5}
    assert realistic.Variation(0.5, 0.5).used_by("styles") == {"lifts": 0.5, "scans": 0.5}


def test_the_images_a_variation_drew_are_marked(train_digits: data.Digits) -> None:
    """With ``lifts`` 1 every style variant and every rendered canvas digit is drawn lifted, and no
    photo, scan or resize is: the mark tells them apart (``--gate-on-plain`` leaves them out)."""
    images, labels = train_digits.images[:300], train_digits.labels[:300]
    styles = realistic.make("styles", images, labels, 30, 8, train_digits.checksums, workers=1,
                            variation=realistic.Variation(lifts=1.0))
    assert styles.varied is not None and styles.varied.all()
    rendered = realistic.make("rendered", images, labels, 60, 8, train_digits.checksums, workers=1,
                              variation=realistic.Variation(lifts=1.0))
    assert rendered.varied is not None and 0 < int(rendered.varied.sum()) < len(rendered.labels)
    again = realistic.make("rendered", images, labels, 60, 8, train_digits.checksums, workers=1,
                           variation=realistic.Variation(lifts=1.0))  # from the cache
    assert again.varied is not None and np.array_equal(again.varied, rendered.varied)


def test_a_training_run_records_the_extra_data_and_its_calibration_source(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from inkdigit.engine.modelcard import ModelCard
    from inkdigit.engine.preprocess import VERSION
    from inkdigit.training.train import TrainConfig, train

    card = train(TrainConfig(name="cnn-x", out_dir=str(tmp_path), dry_run=True, limit=512, eval_limit=300,
                             usps=True, rendered=1000, styles=500, pen_lifts=0.5, style_scans=0.3,
                             gate=200, gate_plain=True, usps_rendered=0.5))
    extra = ModelCard.load(tmp_path / "cnn-x.json").training.extra
    assert extra["usps_train"] == 150 and extra["rendered"]["n"] >= 18 and extra["styles"]["n"] == 10
    assert extra["styles"]["set"] == 1  # the variants cnn-v2 and cnn-v3 were trained on
    assert extra["styles"]["variation"] == {"pen_lifts": 0.5, "style_scans": 0.3}
    assert extra["rendered"]["variation"] == {"pen_lifts": 0.5}
    assert extra["rendered"]["usps_share"] == 0.5 and "usps_share" not in extra["styles"]
    # the gate learnt from the digits no variation drew: fewer than all that were trained on
    assert extra["gate_positives"]["plain_only"] and 0 < extra["gate_positives"]["n"] < card.training.train_images
    assert card.calibration.fitted_on == "usps/train[150:]"
    assert card.preprocessing.version == VERSION


def test_pen_lifts_can_spare_the_style_variants() -> None:
    """``style_lifts=False``: the rendered canvas digits are lifted, the style variants drawn whole
    (as cnn-v6 learnt them), and only the lifted images are left out of the gates' digits."""
    from inkdigit.training import train

    cfg = train.TrainConfig(dry_run=True, rendered=1000, styles=500, pen_lifts=1.0, style_lifts=False)
    record: dict[str, object] = {}
    _, y, plain = train._with_realistic(cfg, np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64), record)
    rendered, styles = record["rendered"], record["styles"]
    assert isinstance(rendered, dict) and isinstance(styles, dict)
    assert rendered["variation"] == {"pen_lifts": 1.0} and "variation" not in styles
    n_rendered = rendered["n"]
    assert len(plain) == len(y) == n_rendered + styles["n"]
    assert plain[n_rendered:].all() and not plain[:n_rendered].all()


def test_every_rendered_image_is_drawn_by_its_planned_family_whatever_the_workers(
        train_digits: data.Digits) -> None:
    """A chunk is drawn by one family: chunks once straddled two families, and their tails were
    drawn by the wrong one, differently for each number of processes."""
    images, labels = train_digits.images[:400], train_digits.labels[:400]
    n, seed = 48, 11
    one = realistic.make("rendered", images, labels, n, seed, {"t": "chunks-1"}, workers=1)
    three = realistic.make("rendered", images, labels, n, seed, {"t": "chunks-3"}, workers=3)
    assert np.array_equal(one.images, three.images)
    index, families = realistic._plan(labels, n, "rendered", np.random.default_rng([seed, len("rendered")]))
    assert len(set(families)) > 1
    for i in (0, n // 3, n // 2, n - 1):  # each drawn alone, by its own family
        job = (families[i], images[index[i:i + 1]], labels[index[i:i + 1]], np.array([index[i] * 7919 + i]), seed,
               realistic.DEFAULT_CONFIG, 1, realistic.Variation())
        alone, _ = realistic._work(job)
        assert len(one.labels) == n and np.array_equal(alone[0], one.images[i]), (i, families[i])


def test_the_chunks_hold_one_family_each_and_every_image_once() -> None:
    families = ["canvas"] * 7 + ["photo"] * 5 + ["scale"] * 1 + ["canvas"] * 3
    chunks = realistic._chunks(families, 4)
    assert sorted(np.concatenate(chunks).tolist()) == list(range(len(families)))
    assert all(len({families[i] for i in c}) == 1 for c in chunks)


def test_weights_choose_which_digits_are_rendered(train_digits: data.Digits) -> None:
    images, labels = train_digits.images[:200], train_digits.labels[:200]
    weights = np.zeros(200)
    weights[150:] = 1.0  # only the last 50 may be drawn
    index, _ = realistic._plan(labels, 300, "rendered", np.random.default_rng(0), weights=weights)
    assert index.min() >= 150
    plain = realistic.make("rendered", images, labels, 12, 3, {"t": "w"}, workers=1)
    weighted = realistic.make("rendered", images, labels, 12, 3, {"t": "w"}, workers=1, weights=weights)
    assert not np.array_equal(plain.images, weighted.images)  # its own cache entry, its own digits
    assert set(weighted.labels.tolist()) <= set(labels[150:].tolist())
    with pytest.raises(ValueError, match="one per training digit"):
        realistic.make("rendered", images, labels, 12, 3, {"t": "w"}, weights=weights[:10])


def test_a_share_of_rendered_usps_digits_draws_that_share() -> None:
    from inkdigit.training.train import _source_weights

    weights = _source_weights(6000, 600, 0.4)
    drawn = np.random.default_rng(0).choice(6600, size=20000, p=weights / weights.sum())
    assert abs(float(np.mean(drawn >= 6000)) - 0.4) < 0.02
    with pytest.raises(ValueError, match="needs USPS train"):
        _source_weights(6000, 0, 0.4)
    from inkdigit.training.train import TrainConfig, build

    with pytest.raises(ValueError, match="needs --usps and --rendered"):  # refused before any data is made
        build(TrainConfig(rendered=100, usps_rendered=0.4))
    with pytest.raises(ValueError, match="--usps-copies needs --usps"):
        build(TrainConfig(usps_copies=2))
