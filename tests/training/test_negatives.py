"""Synthetic non-digits: what they are made of, and that they are reproducible."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from inkdigit.training import negatives


@pytest.fixture(scope="module")
def raw_digits(mnist_test):
    return mnist_test.images[:200]


def test_negatives_are_preprocessed_non_empty_and_reproducible(raw_digits: np.ndarray) -> None:
    a = negatives.make_negatives(60, seed=3, digits=raw_digits, workers=1)
    assert a.shape == (60, 28, 28) and a.dtype == np.uint8
    assert (a.reshape(60, -1).max(axis=1) > 200).all()  # every one holds ink, like a preprocessed digit
    b = negatives.make_negatives(60, seed=3, digits=raw_digits, workers=1)
    np.testing.assert_array_equal(a, b)
    c = negatives.make_negatives(60, seed=4, digits=raw_digits, workers=1)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("kind", negatives.KINDS)
def test_every_kind_draws_something(kind: str, raw_digits: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    for _ in range(3):  # the letters come printed, traced into pen strokes or photographed
        img = negatives._pair(rng, raw_digits) if kind == "pair" else getattr(negatives, f"_{kind}")(rng)
        pixels = np.asarray(Image.open(io.BytesIO(img)).convert("L") if isinstance(img, bytes) else img)
        assert pixels.min() < 128 < pixels.max()


def test_no_glyph_looks_like_a_digit() -> None:
    for glyphs in (negatives.GLYPHS, negatives.LETTERS):
        assert not set(glyphs) & set("0123456789OoIlSsZzBbGgqT!$?CcDdUuaeLYPFrtfy")


def test_the_letter_fonts_ship_with_matplotlib_so_every_machine_draws_the_same() -> None:
    files = negatives._font_files()
    assert len(files) >= 8 and all(f.exists() for f in files)
    assert not any(reserved in f.name.lower() for f in files for reserved in ("comic", "humor", "kristi", "klee"))


def test_every_letter_renders_in_every_way_including_flat_ones_in_photos() -> None:
    rng = np.random.default_rng(0)
    for _ in range(150):  # each call draws a glyph and a way (printed, pen strokes, photo) at random
        img = negatives._letter(rng)
        assert isinstance(img, bytes | Image.Image)
