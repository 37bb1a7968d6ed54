"""The scan renderings and MNIST-C corruptions: valid PNGs, reproducible, each doing what it says."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inkdigit.training import data
from inkdigit.training.robustness.scan import RENDERINGS, SIDE

SCANS = ("binarised", "speckle")
#: renderings that draw nothing from the generator
DETERMINISTIC = {"binarised", "scale", "brightness", "stripe", "canny-edges"}
#: renderings the shipped model must still read (a broken rendering makes them fail)
READABLE = ("binarised", "speckle", "shear", "rotate", "translate", "scale", "brightness")


@pytest.fixture(scope="module")
def digits(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The first 40 MNIST test digits as renderings take them (float32 in [0, 1]) and their labels."""
    ds = data.load("mnist", "test", data_dir, download=False)
    return ds.images[:40].astype(np.float32) / 255.0, ds.labels[:40]


def decode(png: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    return np.asarray(img.convert("L"), dtype=np.int32)


def run(name: str, digit: np.ndarray, seed: int = 0) -> np.ndarray:
    return decode(RENDERINGS[name](digit, np.random.default_rng(seed)))


def u8(digit: np.ndarray) -> np.ndarray:
    return np.rint(digit * 255).astype(np.int32)


def test_the_family_is_complete() -> None:
    assert list(RENDERINGS) == [
        "binarised", "speckle", "shot-noise", "impulse-noise", "glass-blur", "motion-blur", "shear",
        "scale", "rotate", "brightness", "translate", "stripe", "fog", "spatter", "dotted-line",
        "zigzag", "canny-edges"]
    assert not any("/" in name for name in RENDERINGS)


@pytest.mark.parametrize("name", list(RENDERINGS))
def test_valid_png_of_the_right_size_and_reproducible(name: str, digits: tuple[np.ndarray, np.ndarray]) -> None:
    digit = digits[0][0]
    out = run(name, digit)
    assert out.shape == ((84, 84) if name in SCANS else digit.shape)
    assert np.array_equal(out, run(name, digit))
    if name not in SCANS:  # the scans are black on white, so they always differ from the input
        assert not np.array_equal(out, u8(digit))
    if name not in DETERMINISTIC:
        assert any(not np.array_equal(out, run(name, digit, seed)) for seed in range(1, 6))


def test_binarised_is_a_two_level_scan_of_the_digit(digits: tuple[np.ndarray, np.ndarray]) -> None:
    for digit in digits[0][:5]:
        raw = Image.open(io.BytesIO(RENDERINGS["binarised"](digit, np.random.default_rng(0))))
        assert raw.mode == "1"
        out = decode(RENDERINGS["binarised"](digit, np.random.default_rng(0)))
        assert set(np.unique(out)) == {0, 255}
        assert np.mean(out == 255) > 0.5  # white paper, black ink
        ink = np.mean(out == 0)
        assert ink == pytest.approx(np.mean(digit > 0.5), abs=0.03)


def test_speckle_is_the_scan_with_a_little_dust(digits: tuple[np.ndarray, np.ndarray]) -> None:
    for digit in digits[0][:5]:
        clean = run("binarised", digit)
        for seed in range(3):
            out = run("speckle", digit, seed)
            assert set(np.unique(out)) == {0, 255}
            assert 0.004 < np.mean(out != clean) < 0.03


def test_shot_noise_keeps_the_background_and_roughly_the_mean(digits: tuple[np.ndarray, np.ndarray]) -> None:
    for digit in digits[0][:5]:
        out = run("shot-noise", digit)
        assert np.all(out[u8(digit) == 0] == 0)
        assert 0.6 < out.mean() / u8(digit).mean() < 1.1


def test_impulse_noise_sets_about_a_sixth_of_pixels_to_black_or_white(digits: tuple[np.ndarray, np.ndarray]) -> None:
    digit = digits[0][0]
    outs = [run("impulse-noise", digit, seed) for seed in range(5)]
    changed = np.concatenate([o[o != u8(digit)] for o in outs])
    assert set(np.unique(changed)) <= {0, 255}
    whites = np.mean([np.mean(o == 255) - np.mean(u8(digit) == 255) for o in outs])
    assert 0.06 < whites < 0.11  # half of 17 % become salt


@pytest.mark.parametrize("name", ["glass-blur", "motion-blur", "shear", "rotate"])
def test_blurs_and_warps_roughly_keep_the_ink(name: str, digits: tuple[np.ndarray, np.ndarray]) -> None:
    for digit in digits[0][:5]:
        assert 0.75 < run(name, digit).sum() / u8(digit).sum() < 1.25


def test_scale_shrinks_the_digit_to_seven_tenths(digits: tuple[np.ndarray, np.ndarray]) -> None:
    for digit in digits[0][:5]:
        assert run("scale", digit).sum() / u8(digit).sum() == pytest.approx(0.49, abs=0.08)


def shifted(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``a`` moved by (dy, dx) pixels, black coming in."""
    out = np.zeros_like(a)
    h, w = a.shape
    out[max(dy, 0): h + min(dy, 0), max(dx, 0): w + min(dx, 0)] = a[max(-dy, 0): h - max(dy, 0),
                                                                    max(-dx, 0): w - max(dx, 0)]
    return out


def test_translate_moves_the_digit_three_pixels_on_each_axis(digits: tuple[np.ndarray, np.ndarray]) -> None:
    for digit in digits[0][:10]:
        out, ref = run("translate", digit), u8(digit)
        moves = [shifted(ref, dy, dx) for dy in (-3, 3) for dx in (-3, 3)]
        assert any(np.array_equal(out, m) for m in moves)
        if not (ref[:3].any() or ref[-3:].any() or ref[:, :3].any() or ref[:, -3:].any()):
            assert out.sum() == ref.sum()  # the ink stays in the frame, all of it


def test_brightness_lifts_every_pixel_by_half(digits: tuple[np.ndarray, np.ndarray]) -> None:
    digit = digits[0][0]
    assert np.abs(run("brightness", digit) - np.minimum(u8(digit) + 128, 255)).max() <= 1


def test_stripe_inverts_the_outer_columns_only(digits: tuple[np.ndarray, np.ndarray]) -> None:
    digit = digits[0][0]
    out, ref = run("stripe", digit), u8(digit)
    assert np.array_equal(out[:, 7:21], ref[:, 7:21])
    assert np.array_equal(out[:, :7], 255 - ref[:, :7]) and np.array_equal(out[:, 21:], 255 - ref[:, 21:])


def test_fog_veils_the_background(digits: tuple[np.ndarray, np.ndarray]) -> None:
    digit = digits[0][0]
    out, ref = run("fog", digit), u8(digit)
    assert out[ref == 0].mean() > 20 and out[ref == 0].std() > 2
    assert out.max() < 255 and np.corrcoef(out.ravel(), ref.ravel())[0, 1] > 0.3


def test_spatter_only_pulls_pixels_towards_mud_gray(digits: tuple[np.ndarray, np.ndarray]) -> None:
    digit = digits[0][0]
    ref = u8(digit)
    outs = [run("spatter", digit, seed) for seed in range(5)]
    assert any(not np.array_equal(o, ref) for o in outs)
    for out in outs:
        assert np.all(np.abs(out - 63) <= np.abs(ref - 63) + 1)


@pytest.mark.parametrize("name", ["dotted-line", "zigzag"])
def test_lines_only_add_ink(name: str, digits: tuple[np.ndarray, np.ndarray]) -> None:
    for digit in digits[0][:5]:
        out, ref = run(name, digit), u8(digit)
        assert np.all(out >= ref) and (out - ref).sum() > 255 * 5
        if name == "dotted-line":
            gaps = ((np.arange(SIDE) // 2) % 2 == 0) | (np.arange(SIDE) == SIDE - 1)
            assert np.array_equal(out[:, gaps], ref[:, gaps])


def test_canny_edges_outline_the_digit(digits: tuple[np.ndarray, np.ndarray]) -> None:
    from scipy import ndimage

    for digit in digits[0][:5]:
        out = run("canny-edges", digit)
        assert set(np.unique(out)) == {0, 255}
        assert np.all(ndimage.binary_dilation(digit > 0, iterations=2)[out == 255])
        assert np.mean(out == 255) < np.mean(digit > 0.2) * 1.5 and (out == 255).sum() > 10


def test_a_usps_digit_is_upsampled_to_mnist_size(data_dir: Path) -> None:
    digit = data.load("usps", "test", data_dir, download=False).images[0].astype(np.float32) / 255.0
    for name in RENDERINGS:
        assert run(name, digit).shape == ((48, 48) if name in SCANS else (SIDE, SIDE))


def test_the_shipped_model_reads_the_mild_ones(digits: tuple[np.ndarray, np.ndarray]) -> None:
    from inkdigit.engine.recognizer import Recognizer
    from inkdigit.engine.store import shipped_dir

    recognizer = Recognizer(shipped_dir() / "cnn-v1.json", threads=1)
    images, labels = digits
    for name in READABLE:
        rng = np.random.default_rng(7)
        pngs = [RENDERINGS[name](d, rng) for d in images]
        read = [recognizer.predict(png).digit for png in pngs]
        accuracy = np.mean(np.array([-1 if r is None else r for r in read]) == labels)
        assert accuracy >= 0.8, f"{name}: {accuracy:.2f}"
