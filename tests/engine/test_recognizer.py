"""The shipped model through the library API: every input form, blank input, and class stability
under the changes real input brings (position, size, polarity, transparency, stroke weight)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

import inkdigit
from inkdigit.engine.imageio import ImageInputError
from tests.conftest import png_bytes, render

N = 100


@pytest.fixture(scope="module")
def rec() -> inkdigit.Recognizer:
    return inkdigit.load_recognizer()


@pytest.fixture(scope="module")
def sample(mnist_test):
    return mnist_test.images[:N], mnist_test.labels[:N]


def test_shipped_model_card_holds_what_serving_and_users_need(rec: inkdigit.Recognizer) -> None:
    card = rec.card
    assert card.family == "cnn"
    assert card.preprocessing.version == "4"  # trained on v3, which v4 reads alike but for thumbnails
    assert card.training.extra["weights_of"] == "cnn-v15" and card.weights == "cnn-v15.onnx"
    assert card.training.seed == 1
    assert "inkdigit train" in card.training.command
    assert set(card.data) >= {"mnist/train-images-idx3-ubyte.gz", "usps/zip.test.gz"}
    assert card.metrics["mnist_test"]["n"] == 10000 and card.metrics["mnist_test"]["accuracy"] >= 0.995
    assert card.metrics["usps_test"]["n"] == 2007 and card.metrics["usps_test"]["accuracy"] >= 0.983


def test_every_input_form_gives_the_same_answer(rec: inkdigit.Recognizer, sample, tmp_path) -> None:
    img = render(sample[0][0]).astype(np.uint8)
    path = tmp_path / "digit.png"
    Image.fromarray(img).save(path)
    answers = [rec.predict(x) for x in (path, str(path), png_bytes(img), Image.fromarray(img), img)]
    assert {a.digit for a in answers} == {int(sample[1][0])}
    p = answers[0]
    assert p.is_digit and not p.is_empty
    assert len(p.probabilities) == 10 and sum(p.probabilities) == pytest.approx(1.0)
    assert p.confidence == max(p.probabilities)
    assert p.top(3)[0] == (p.digit, p.confidence)


def test_blank_input_is_no_digit(rec: inkdigit.Recognizer) -> None:
    p = rec.predict(np.full((280, 280), 255, np.uint8))
    assert p.is_empty and not p.is_digit and p.digit is None and p.confidence == 0.0


def test_unreadable_input_raises_a_coded_error(rec: inkdigit.Recognizer) -> None:
    with pytest.raises(ImageInputError) as info:
        rec.predict(b"not an image")
    assert info.value.code == "not_an_image"


def test_batch_matches_single_and_keeps_order(rec: inkdigit.Recognizer, sample) -> None:
    images = [render(d).astype(np.uint8) for d in sample[0][:8]]
    images.insert(3, np.full((50, 50), 255, np.uint8))
    batch = rec.predict_batch(images)
    assert [b.digit for b in batch] == [rec.predict(i).digit for i in images]
    assert batch[3].is_empty


def _accuracy(rec: inkdigit.Recognizer, images: list[np.ndarray], labels: np.ndarray) -> float:
    return float(np.mean([p.digit == y for p, y in zip(rec.predict_batch(images), labels, strict=True)]))


TRANSFORMS = {
    "centred, dark on light": lambda d, r: render(d),
    "small, in a corner": lambda d, r: render(d, size=70, at=(r.integers(0, 20), r.integers(190, 210))),
    "light on dark": lambda d, r: render(d, dark_ink=False),
    "thickened": lambda d, r: render(d, thicken=25),
    "transparent": lambda d, r: np.dstack([np.zeros((280, 280, 3)), 255 - render(d)]),
    "thin pen on a big canvas": lambda d, r: render(d, canvas=900, size=600, at=(150, 100)),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_drawn_digits_keep_their_class(rec: inkdigit.Recognizer, sample, name: str) -> None:
    rng = np.random.default_rng(0)
    images = [TRANSFORMS[name](d, rng).astype(np.uint8) for d in sample[0]]
    # a 25 px dilation makes blobs of some digits: cnn-v3 answers "not a digit" for 3 of these 100
    # and misreads 1 (cnn-v2: 2 and 0); rejection is the numbers-and-rejection issue's to redo
    assert _accuracy(rec, images, sample[1]) >= (0.95 if name == "thickened" else 0.97), name


def test_photo_of_paper_with_a_shadow(rec: inkdigit.Recognizer, sample) -> None:
    rng = np.random.default_rng(3)
    photos = []
    for d in sample[0][:40]:
        ink = 1 - render(d, canvas=480, size=260) / 255
        yy, xx = np.mgrid[0:480, 0:480] / 480
        paper = 0.5 + 0.45 * (1 - xx) * (1 - 0.3 * yy)
        photo = paper * (1 - 0.75 * ink) + rng.normal(0, 0.015, paper.shape)
        rgb = np.clip(np.stack([photo, photo * 0.96, photo * 0.88], -1) * 255, 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=85)
        photos.append(buf.getvalue())
    assert _accuracy(rec, photos, sample[1][:40]) >= 0.95


def test_thin_strokes_survive(rec: inkdigit.Recognizer, sample) -> None:
    images = []
    for d in sample[0][:40]:
        big = np.asarray(Image.fromarray(d).resize((700, 700), Image.Resampling.BILINEAR)) > 100
        line = ndimage.binary_erosion(big, iterations=8)  # strokes ~3 px wide on a 1000 px canvas
        canvas = np.full((1000, 1000), 255, np.uint8)
        canvas[150:850, 150:850][line] = 0
        images.append(canvas)
    assert _accuracy(rec, images, sample[1][:40]) >= 0.9


def test_read_many_keeps_a_bad_image_in_its_own_slot(rec: inkdigit.Recognizer, sample) -> None:
    images: list[object] = [png_bytes(render(d)) for d in sample[0][:3]]
    images.insert(1, b"not an image")
    requests = [inkdigit.ReadRequest(img, inkdigit.ReadOptions(stages=i == 2)) for i, img in enumerate(images)]
    out = rec.read_many(requests)
    assert isinstance(out[1], ImageInputError) and out[1].code == "not_an_image"
    good = [out[i] for i in (0, 2, 3)]
    assert all(isinstance(p, inkdigit.Prediction) for p in good)
    assert [p.digit for p in good] == [int(y) for y in sample[1][:3]]  # type: ignore[union-attr]
    assert all(p.elapsed_ms > 0 for p in good)  # type: ignore[union-attr]
    assert "final" in out[2].stages and not out[0].stages  # type: ignore[union-attr]
    assert rec.predict_batch(images)[1].code == "not_an_image"  # type: ignore[union-attr]


def test_a_dash_is_no_digit_whatever_the_gate_says(rec: inkdigit.Recognizer) -> None:
    """A flat mark (a dash, a rule) is never a digit: the rule holds for every model, so a gate that
    happens to like bars (cnn-v9's) cannot read a "-" as a 2."""
    from inkdigit import paths
    from inkdigit.engine.recognizer import is_flat_mark

    bar = np.zeros((28, 28), np.float32)
    bar[13:16, 4:24] = 1.0
    flat_two = np.zeros((28, 28), np.float32)
    flat_two[9:19, 4:24] = 1.0
    assert is_flat_mark(bar) and not is_flat_mark(flat_two) and not is_flat_mark(np.zeros((28, 28)))
    strip = np.full((2, 6000), 255, np.uint8)
    strip[:, :2000] = 0
    drawn = np.full((280, 280), 255, np.uint8)
    drawn[130:150, 40:240] = 0  # a dash drawn on a canvas
    lenient = inkdigit.Recognizer(paths.store().find(rec.name), threads=1)
    lenient.min_score = -1e9  # a gate that lets everything through: the rule alone must refuse them
    for dash in (strip, drawn):
        p = lenient.predict(dash)
        assert p.digit is None and not p.is_digit and not p.is_empty


def test_no_real_digit_is_a_flat_mark() -> None:
    """Every MNIST and USPS test digit, as preprocessing leaves it (stored as uint8), is taller than
    the rule's limit."""
    from inkdigit.engine.recognizer import is_flat_mark
    from inkdigit.training.dataset import prepare

    for dataset in ("mnist", "usps"):
        images = prepare(dataset, "test").images.astype(np.float32) / 255.0
        assert not any(is_flat_mark(x) for x in images), dataset
