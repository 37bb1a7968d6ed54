"""Preprocessing properties: what must not change the output, and what must be reported empty."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from inkdigit.engine.imageio import Pixels
from inkdigit.engine.preprocess import preprocess, stroke_width
from tests.conftest import png_bytes, render

STAGES = ["input", "ink", "cleaned", "cropped", "stroke", "deskewed", "fitted", "final"]


def corr(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation after a one-pixel blur: a half-pixel shift of a 2-pixel stroke is no difference."""
    a, b = ndimage.gaussian_filter(a, 1.0), ndimage.gaussian_filter(b, 1.0)
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.fixture(scope="module")
def digits(mnist_test):
    return mnist_test.images[:12]


def test_output_is_mnist_format(digits: np.ndarray) -> None:
    for d in digits:
        out = preprocess(render(d)).image
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert out.min() >= 0 and out.max() <= 1 and out.max() > 0.9
        rows, cols = np.nonzero(out > 0.05)
        assert max(np.ptp(rows), np.ptp(cols)) + 1 <= 21  # fitted into the 20×20 box
        cy, cx = ndimage.center_of_mass(out)
        assert abs(cy - 14) <= 1.0 and abs(cx - 14) <= 1.0


def test_translation_does_not_change_the_output(digits: np.ndarray) -> None:
    for d in digits:
        a = preprocess(render(d, size=120, at=(10, 20))).image
        b = preprocess(render(d, size=120, at=(150, 140))).image
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_polarity_is_detected_not_assumed(digits: np.ndarray) -> None:
    for d in digits:
        dark = preprocess(render(d, dark_ink=True)).image
        light = preprocess(render(d, dark_ink=False)).image
        np.testing.assert_allclose(dark, light, atol=1e-4)


def test_transparent_background_reads_like_paper(digits: np.ndarray) -> None:
    for d in digits:
        gray = render(d)
        rgba = np.zeros((*gray.shape, 4), np.uint8)
        rgba[..., 2] = 200  # blue ink, not black
        rgba[..., 3] = (255 - gray).astype(np.uint8)
        out_rgba = preprocess(png_bytes(rgba)).image
        assert corr(out_rgba, preprocess(gray).image) > 0.99


def test_a_transparent_margin_of_an_opaque_picture_is_not_ink(digits: np.ndarray) -> None:
    """Mostly opaque with a transparent strip (a cropped screenshot, a sticker): the strip takes
    the picture's own background, not black, which on a light picture was a bar of ink."""
    for d in digits:
        gray = render(d)
        for strip in (np.s_[:, :12], np.s_[-10:, :]):
            rgba = np.dstack([gray] * 3 + [np.full_like(gray, 255)]).astype(np.uint8)
            rgba[strip + (3,)] = 0
            assert corr(preprocess(png_bytes(rgba)).image, preprocess(gray).image) > 0.99


def test_a_shape_held_by_the_alpha_alone_stays_visible() -> None:
    """Mostly opaque and one flat colour: paper with the digit cut out of it, or a bold digit cut out
    tight (filling most of its frame). The transparent part must not take that same colour."""
    from matplotlib import font_manager
    from PIL import ImageDraw, ImageFont

    from inkdigit.engine.recognizer import Recognizer
    from inkdigit.paths import default_model, store

    rec = Recognizer(store().find(default_model()))
    font = ImageFont.truetype(font_manager.findfont("DejaVu Sans:bold"), 180)
    for digit in "08":
        mask = Image.new("L", (200, 200), 0)
        ImageDraw.Draw(mask).text((30, -20), digit, font=font, fill=255, stroke_width=6, stroke_fill=255)
        m = np.asarray(mask)
        ys, xs = np.nonzero(m)
        tight = m[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        for colour in ((0, 0, 0), (255, 255, 255), (200, 30, 30)):
            stencil = np.zeros((*m.shape, 4), np.uint8)
            stencil[..., :3] = colour
            stencil[..., 3] = 255 - m  # the digit cut out of opaque paper
            cutout = np.zeros((*tight.shape, 4), np.uint8)
            cutout[..., :3] = colour
            cutout[..., 3] = tight  # the digit itself, opaque on more than half of its frame
            assert (cutout[..., 3] > 127).mean() > 0.5
            for rgba in (stencil, cutout):
                pre = preprocess(png_bytes(rgba))
                assert not pre.is_empty
                assert rec.probabilities(pre.image[None])[0].argmax() == int(digit), (digit, colour)


def test_scale_changes_little(digits: np.ndarray) -> None:
    for d in digits:
        assert corr(preprocess(render(d, size=60)).image, preprocess(render(d, size=260)).image) > 0.9


def test_colour_ink_and_16_bit_and_palette(digits: np.ndarray) -> None:
    d = digits[0]
    ref = preprocess(render(d)).image
    ink = 1 - render(d) / 255
    rgb = np.stack([255 - 40 * ink, 220 - 200 * ink, 60 + 100 * ink], -1)  # green-ish on yellow
    assert corr(preprocess(rgb.astype(np.uint8)).image, ref) > 0.97
    sixteen = Image.fromarray((render(d) * 257).astype(np.uint16))
    assert corr(preprocess(png_bytes(sixteen)).image, ref) > 0.99
    pal = Image.fromarray(render(d).astype(np.uint8)).convert("P")
    assert corr(preprocess(png_bytes(pal)).image, ref) > 0.99


def test_exif_rotated_photo_is_read_upright(digits: np.ndarray) -> None:
    d = digits[1]
    upright = Image.fromarray(render(d).astype(np.uint8))
    stored = upright.rotate(90, expand=True)  # camera stored it sideways ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... and says "rotate 90° clockwise to view"
    buf = io.BytesIO()
    stored.save(buf, format="JPEG", quality=92, exif=exif)
    assert corr(preprocess(buf.getvalue()).image, preprocess(upright).image) > 0.95


def test_thin_strokes_do_not_vanish(digits: np.ndarray) -> None:
    d = digits[2]
    big = np.asarray(Image.fromarray(d).resize((700, 700), Image.Resampling.BILINEAR)) > 128
    skeleton = big & ~ndimage.binary_erosion(big, iterations=1)  # a 1-pixel outline
    canvas = np.full((1000, 1000), 255, np.uint8)
    canvas[150:850, 150:850][skeleton] = 0
    out = preprocess(canvas).image
    assert out.max() > 0.8 and (out > 0.5).sum() >= 40
    assert stroke_width(out) >= 1.5


def test_specks_far_from_the_digit_are_ignored(digits: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    for d in digits[:6]:
        clean = render(d, size=120, at=(80, 80))
        noisy = clean.copy()
        for y, x in rng.integers(0, 275, size=(25, 2)):
            if not (60 < y < 220 and 60 < x < 220):
                noisy[y: y + 3, x: x + 3] = 0
        assert corr(preprocess(noisy).image, preprocess(clean).image) > 0.98


def test_uneven_lighting_of_a_photo(digits: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    for d in digits[:6]:
        ink = 1 - render(d, canvas=400, size=220) / 255
        yy, xx = np.mgrid[0:400, 0:400] / 400
        paper = 0.45 + 0.5 * xx * (1 - 0.4 * yy)  # shadow across the sheet
        photo = paper * (1 - 0.8 * ink) + rng.normal(0, 0.02, paper.shape)
        rgb = np.clip(np.stack([photo, photo * 0.97, photo * 0.9], -1) * 255, 0, 255).astype(np.uint8)
        assert corr(preprocess(rgb).image, preprocess(render(d)).image) > 0.9


@pytest.mark.parametrize("blank", [
    np.full((280, 280), 255, np.uint8),
    np.zeros((280, 280, 4), np.uint8),
    np.full((50, 80, 3), 128, np.uint8),
    np.clip(np.random.default_rng(2).normal(200, 2, (300, 300)), 0, 255).astype(np.uint8),
])
def test_empty_images_are_reported_empty(blank: np.ndarray) -> None:
    result = preprocess(blank)
    assert result.is_empty
    assert result.image.max() == 0


def test_stages_are_returned_in_order(digits: np.ndarray) -> None:
    result = preprocess(render(digits[3]), return_stages=True)
    assert list(result.stages) == STAGES
    for img in result.stages.values():
        assert img.ndim == 2 and np.isfinite(img).all()
    np.testing.assert_array_equal(result.stages["final"], result.image)
    tiny = preprocess(Pixels(np.full((9, 9), 1.0, np.float32), None), return_stages=True)
    assert tiny.stages["input"].shape == (9, 9)


def test_input_stage_shows_light_ink_on_a_transparent_ground() -> None:
    rgba = np.zeros((60, 60, 4), np.uint8)
    rgba[10:50, 28:32] = (255, 255, 255, 255)  # white strokes, as a dark-themed canvas draws them
    view = preprocess(rgba, return_stages=True).stages["input"]
    assert view[30, 30] > 0.9 and view[5, 5] < 0.1  # visible: light ink on a dark ground
