"""Preprocessing v2's promises, kept by v3 (the default, which these tests run): the same digit
gives the same 28×28 whatever the size it arrives at, and the crop holds the digit, not a photo's
shadow, dark corners, printed box or ruled lines."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from inkdigit.engine.modelcard import ModelCard, ModelCardError
from inkdigit.engine.preprocess import (
    DEFAULT_CONFIG,
    V1_CONFIG,
    VERSION,
    PreprocessConfig,
    _top,
    plain_ink,
    preprocess,
)
from inkdigit.engine.store import shipped_dir
from inkdigit.training import data
from inkdigit.training.robustness import photo


@pytest.fixture(scope="module")
def digits() -> data.Digits:
    return data.load("mnist", "test")


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two 28×28 images."""
    return float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


def test_new_models_get_v3_and_older_versions_stay_selectable() -> None:
    assert VERSION == "3" and DEFAULT_CONFIG.version == "3" and V1_CONFIG.version == "1"
    assert preprocess(np.eye(28, dtype=np.uint8) * 255, PreprocessConfig(version="2")).image.shape == (28, 28)
    with pytest.raises(ValueError, match="v9 is not implemented"):
        preprocess(np.zeros((28, 28), np.uint8), PreprocessConfig(version="9"))


def test_a_card_naming_an_unknown_version_is_refused() -> None:
    raw = ModelCard.load(shipped_dir() / "cnn-v1.json").to_dict()
    raw["preprocessing"]["version"] = "9"
    with pytest.raises(ModelCardError, match="preprocessing v9"):
        ModelCard.from_dict(raw).preprocess_config()


@pytest.mark.parametrize("factor", [2, 4, 8, 16])
@pytest.mark.parametrize("interpolation", [cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC])
def test_an_enlarged_digit_gives_the_same_image(digits: data.Digits, factor: int, interpolation: int) -> None:
    scores = []
    for i in range(20):
        native = preprocess(digits.images[i]).image
        big = cv2.resize(digits.images[i], (28 * factor, 28 * factor), interpolation=interpolation)
        scores.append(_similarity(preprocess(255 - big).image, native))  # and in the other polarity
    # the same shape; what differs is stroke softness, which the model is trained to ignore
    assert np.median(scores) > 0.92 and min(scores) > 0.65, np.round(scores, 2)


def test_thick_soft_strokes_are_not_torn(digits: data.Digits) -> None:
    """v1 eroded thick strokes: an 8×8 mosaic enlarged ×14 came out in pieces."""
    for i in range(10):
        small = cv2.resize(digits.images[i], (8, 8), interpolation=cv2.INTER_AREA)
        big = cv2.resize(small, (112, 112), interpolation=cv2.INTER_NEAREST)
        out = preprocess(big).image
        count, _ = cv2.connectedComponents((out > 0.3).astype(np.uint8))
        assert count - 1 <= 2, i


@pytest.mark.parametrize("extras", [photo.Extras(), photo.Extras(shadow=True), photo.Extras(pencil=True),
                                    photo.Extras(box=True), photo.Extras(ruled=True)],
                         ids=["paper", "shadow", "pencil", "box", "ruled"])
def test_a_photo_is_cropped_to_its_digit(digits: data.Digits, extras: photo.Extras) -> None:
    """The photo's 28×28 resembles the clean digit's: nothing else in the crop shrank it."""
    scores = []
    for i in range(12):
        clean = preprocess(digits.images[i]).image
        shot = photo.render_photo(digits.images[i] / 255.0, np.random.default_rng([3, i]), extras)
        scores.append(_similarity(preprocess(shot).image, clean))
    # a faint printed box broken into pieces can survive in part (1 photo of 12 here)
    assert np.median(scores) > 0.9 and np.mean(np.array(scores) > 0.7) >= 0.9, np.round(scores, 2)


def test_v1_keeps_the_shadow_that_v2_drops(digits: data.Digits) -> None:
    """The failure v2 exists for, kept reproducible: v1 on the same photos does worse."""
    v1, v2 = [], []
    for i in range(12):
        clean = preprocess(digits.images[i]).image
        shot = photo.render_photo(digits.images[i] / 255.0, np.random.default_rng([5, i]), photo.Extras(pencil=True))
        v1.append(_similarity(preprocess(shot, V1_CONFIG).image, clean))
        v2.append(_similarity(preprocess(shot).image, clean))
    assert np.mean(v2) > np.mean(v1) + 0.1


def test_specks_far_from_the_digit_leave_the_crop(digits: data.Digits) -> None:
    page = np.full((300, 300), 255, np.uint8)
    page[100:212, 100:212] = 255 - cv2.resize(digits.images[0], (112, 112))
    clean = preprocess(page).image
    page[5:9, 5:9] = 0  # dust in a corner
    page[280:284, 250:256] = 0
    assert _similarity(preprocess(page).image, clean) > 0.99


def _strength(shot: bytes) -> np.ndarray:
    """The photo path's raw ink strength of ``shot`` (before it is normalised)."""
    from inkdigit.engine.imageio import DEFAULT_LIMITS, Pixels, to_pixels
    from inkdigit.engine.preprocess_v2 import photo_strength

    found = plain_ink(to_pixels(shot, DEFAULT_LIMITS), DEFAULT_CONFIG, strict=True)
    assert isinstance(found, Pixels), "not read as a photo"
    return photo_strength(found)


def test_a_faint_pencil_digit_is_read_and_a_blank_or_ruled_sheet_stays_empty(digits: data.Digits) -> None:
    """A small pencil digit that darkens the paper less than ``min_contrast`` (1–2 % of the suite's
    pencil photos) was "empty"; it is now taken from the photo's middle. Sheets with nothing on them
    (plain, in pencil's grain, ruled) stay empty as before."""
    faint = []
    for i in range(400):
        shot = photo.render_photo(digits.images[i] / 255.0, np.random.default_rng([11, i]), photo.Extras(pencil=True))
        if _top(_strength(shot)) < DEFAULT_CONFIG.min_contrast:  # under the blank threshold
            faint.append((i, shot))
    assert len(faint) >= 4, len(faint)
    reads = [(i, preprocess(shot)) for i, shot in faint]
    assert sum(not r.is_empty and _similarity(r.image, preprocess(digits.images[i]).image) > 0.7
               for i, r in reads) >= 0.8 * len(reads)  # 14 of 15 here; all 15 were empty before
    zero = np.zeros((28, 28), np.float32)
    for extras, most in ((photo.Extras(), 0), (photo.Extras(pencil=True), 0), (photo.Extras(ruled=True), 8)):
        shots = [photo.render_photo(zero, np.random.default_rng([12, i]), extras) for i in range(20)]
        assert sum(not preprocess(s).is_empty for s in shots) <= most, extras


def test_a_vignettes_band_along_an_edge_is_no_ruled_line() -> None:
    from inkdigit.engine.preprocess_v2 import _ruled

    page = np.zeros((120, 200), np.float32)
    page[116:, :] = page[:3, :] = 1.0  # dark bands along the bottom and top edges
    assert not _ruled(page, 200)
    page[60:62, :] = 1.0  # a printed line across the middle
    assert _ruled(page, 200)
    page[:] = 0.0
    page[5:7, :] = 1.0  # a line near the edge but apart from it
    assert _ruled(page, 200)
