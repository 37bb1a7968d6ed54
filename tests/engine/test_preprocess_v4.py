"""Preprocessing v4's promise: an 8×8 thumbnail, at its size or enlarged by any filter, keeps its
grey strokes, and every other image is read exactly as v3 reads it (so a model trained on v3 is
served through v4)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage

from inkdigit.engine.imageio import to_pixels
from inkdigit.engine.preprocess import PreprocessConfig, preprocess
from inkdigit.engine.rescale import as_thumbnail
from inkdigit.training import data
from inkdigit.training.robustness.common import encode_png
from inkdigit.training.robustness.scale import to8
from inkdigit.training.robustness.suite import renderings

V3, V4 = PreprocessConfig(version="3"), PreprocessConfig(version="4")
FILTERS = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}


@pytest.fixture(scope="module")
def usps() -> data.Digits:
    return data.load("usps", "test")


def _thumb(digit: np.ndarray) -> np.ndarray:
    """The digit as an 8×8 scan, light on black, 8-bit."""
    return np.asarray(np.rint(to8(digit / 255.0) * 255), dtype=np.uint8)


def _png(a: np.ndarray) -> bytes:
    return encode_png(a)


def _ideal(thumb: np.ndarray) -> np.ndarray:
    """The thumbnail in MNIST's format with nothing cut: scaled by its peak, enlarged bicubic to the
    20 px box, centred by mass. What its pixels say, for the tests to compare with."""
    a = thumb.astype(np.float32) / max(1.0, float(thumb.max()))
    out = np.zeros((28, 28), np.float32)
    out[4:24, 4:24] = np.clip(cv2.resize(a, (20, 20), interpolation=cv2.INTER_CUBIC), 0, 1)
    cy, cx = ndimage.center_of_mass(out)
    return np.asarray(ndimage.shift(out, (14 - cy, 14 - cx), order=1), dtype=np.float32)


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


def test_an_enlarged_thumbnail_keeps_its_grey_strokes(usps: data.Digits) -> None:
    """v3 took the interpolation ramps of an enlarged 8×8 scan for noise and set its ink floor
    above the grey strokes of a digit that fills its frame, cutting them away; v4 keeps them."""
    v3, v4 = [], []
    for i in range(60):
        thumb = _thumb(usps.images[i])
        image = _png(cv2.resize(thumb, (64, 64), interpolation=cv2.INTER_LINEAR))
        ideal = _ideal(thumb)
        v3.append(_similarity(preprocess(image, V3).image, ideal))
        v4.append(_similarity(preprocess(image, V4).image, ideal))
    # measured: mean similarity v3 0.866, v4 0.942; below 0.8 (a fragment of the digit) v3 10, v4 3
    # (those three are not recognised as enlargements: their pixels vary like a photo's)
    assert np.mean(v4) > np.mean(v3) + 0.05, (np.mean(v3), np.mean(v4))
    assert np.sum(np.array(v4) < 0.8) <= 3 < np.sum(np.array(v3) < 0.8)


@pytest.mark.parametrize("size", [32, 64, 112])
def test_a_thumbnail_enlarged_by_any_filter_reads_as_it_does_at_its_size(usps: data.Digits, size: int) -> None:
    for name, interpolation in FILTERS.items():
        similar = []
        for i in range(10):
            thumb = _thumb(usps.images[100 + i])
            small = preprocess(thumb, V4).image
            big = preprocess(_png(cv2.resize(thumb, (size, size), interpolation=interpolation)), V4).image
            if name == "nearest":  # the grid is read back exactly: the very same image
                np.testing.assert_allclose(big, small, atol=1e-5)
            similar.append(_similarity(big, small))
        # measured: means 0.965-0.976 for the smooth filters (v3: 0.957-0.966), the least alike 0.913
        assert np.mean(similar) > 0.95 and np.min(similar) > 0.85, (name, size, similar)


def test_a_thumbnail_doubled_by_nearest_neighbour_is_read_as_the_thumbnail(usps: data.Digits) -> None:
    """An 8×8 scan enlarged ×2 is 16 px, under the size v3 looks at: v3 read it as a blocky image
    (UCI's scans: 94.6 % against 97.3 % at 8×8), v4 reads the grid back."""
    differ = 0
    for i in range(20):
        thumb = _thumb(usps.images[200 + i])
        doubled = _png(cv2.resize(thumb, (16, 16), interpolation=cv2.INTER_NEAREST))
        np.testing.assert_allclose(preprocess(doubled, V4).image, preprocess(thumb, V4).image, atol=1e-5)
        differ += not np.allclose(preprocess(doubled, V3).image, preprocess(thumb, V3).image, atol=1e-5)
    assert differ == 20


def test_as_thumbnail_finds_thumbnails_and_nothing_else(usps: data.Digits) -> None:
    thumb = _thumb(usps.images[5])
    blocky = to_pixels(_png(cv2.resize(thumb, (64, 64), interpolation=cv2.INTER_NEAREST)))
    smooth = to_pixels(_png(cv2.resize(thumb, (64, 64), interpolation=cv2.INTER_CUBIC)))
    found = as_thumbnail(blocky)
    assert found is not None and found.shape == (8, 8)
    found = as_thumbnail(smooth)  # read where v3 reads a smooth enlargement: reduced while lossless
    assert found is not None and max(found.shape) <= 24
    assert as_thumbnail(to_pixels(_png(thumb))) is not None  # at its size
    digit = usps.images[5]  # a 16 px USPS digit, and enlargements of it: not thumbnails
    assert as_thumbnail(to_pixels(_png(digit))) is None
    for interpolation in FILTERS.values():
        assert as_thumbnail(to_pixels(_png(cv2.resize(digit, (64, 64), interpolation=interpolation)))) is None
    rgba = np.zeros((12, 12, 4), np.uint8)
    rgba[2:10, 5:7, 3] = 255  # a transparent canvas export, however small: never
    assert as_thumbnail(to_pixels(_png(rgba))) is None


@pytest.mark.parametrize("dataset", ["mnist", "usps"])
@pytest.mark.parametrize("name", ["clean/native", "scale/x2-nearest", "scale/x4-bilinear", "scale/x4-bicubic",
                                  "scale/x16-bicubic", "canvas/opaque-dark-ink", "canvas/transparent-light-ink",
                                  "canvas/thin-pen", "photo/paper", "photo/shadow", "scan/shot-noise",
                                  "scan/glass-blur", "scan/fog", "scan/binarised"])
def test_everything_but_thumbnails_reads_as_in_v3(dataset: str, name: str) -> None:
    """MNIST and USPS digits rendered as the suite does (none of them a thumbnail; USPS's are 16 px,
    smooth enlargements among them): v4's output is v3's, bit for bit. Not quite for fog on USPS's
    digits: so blurred a 28 px scan can pass the thumbnail test (3 of these 12 do), and v4 reads it
    as one (in the suite: the same accuracy, fewer of them rejected; README, cnn-v17)."""
    digits = data.load(dataset, "test")  # type: ignore[arg-type]
    render, rng = renderings()[name], np.random.default_rng(3)
    differ = 0
    for i in range(12):
        image = render(digits.images[i].astype(np.float32) / 255.0, rng)
        a, b = preprocess(image, V3), preprocess(image, V4)
        assert a.is_empty == b.is_empty
        differ += not np.array_equal(a.image, b.image)
    assert differ <= (3 if (dataset, name) == ("usps", "scan/fog") else 0)


def test_a_small_transparent_canvas_reads_as_in_v3() -> None:
    rgba = np.zeros((12, 12, 4), np.uint8)
    rgba[2:10, 5:7, 3] = 255
    rgba[2:4, 3:8, 3] = 200
    image = _png(rgba)
    np.testing.assert_array_equal(preprocess(image, V4).image, preprocess(image, V3).image)


def test_pieces_of_a_number_are_read_as_in_v3() -> None:
    """A piece cut from a line is small but no thumbnail: a v4 card reads pieces with v3."""
    from inkdigit.engine.pieces import piece_config

    assert piece_config(V4) == V3
    assert piece_config(V3) is V3
    assert piece_config(PreprocessConfig(version="2")).version == "2"
