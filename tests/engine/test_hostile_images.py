"""The engine on the hostile-image corpus: every case is read or refused with an ``ImageInputError``.

Before this, extreme aspect ratios raised ``ValueError`` (an empty block mean), float TIFFs with
NaN a ``ValueError`` in the background's mode colour, absurd TIFF tiles an ``OverflowError`` from
Pillow, and 2-px-high lines an OpenCV assertion in the number reader: each a 500 over HTTP.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from inkdigit.engine.imageio import REDUCE_FROM, Fit, ImageInputError, ImageTooLargeError, Limits, to_pixels
from inkdigit.library import load_recognizer
from tests.hostile.corpus import Case, cases, patch_jpeg, patch_png

CASES = cases()


@pytest.fixture(scope="module")
def rec():
    return load_recognizer()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_read_or_refused(rec, case: Case) -> None:
    for read in (rec.predict, rec.read_number):
        try:
            read(case.data)
        except ImageInputError as exc:
            assert exc.code and str(exc)
        else:
            assert not case.must_refuse, f"{case.name} was read; a limit should have refused it"


def test_the_corpus_covers_every_format_and_kind() -> None:
    names = [c.name for c in CASES]
    for ext in ("png", "jpeg", "gif", "bmp", "tiff", "webp"):
        assert any(n.startswith("extreme-") and n.endswith(ext) for n in names)
        assert any(n.startswith("bomb-") and n.endswith(ext) for n in names)
    for kind in ("float-nan", "tiles-2^31", "gif-3000-frames", "apng-declares", "png-bomb-ztxt", "png-bomb-iccp"):
        assert any(n.startswith(kind) for n in names)


def _jpeg(size: int, quality: int = 90) -> bytes:
    img = Image.new("L", (size, size), 255)
    a = np.asarray(img).copy()
    a[size // 5: 4 * size // 5, size // 2 - size // 30: size // 2 + size // 30] = 0  # a "1"
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def test_a_header_bomb_jpeg_is_decoded_reduced() -> None:
    """A 4 KB JPEG declaring 6000×6000: decoded at 1/4 by DCT scaling (the largest scale that keeps
    the 1000 px the reader reduces it to), not at full size."""
    bomb = patch_jpeg(_jpeg(64), 6000, 6000)
    assert len(bomb) < 8000
    try:
        px = to_pixels(bomb, fit=Fit(1024, 1024, round_up=True))
    except ImageInputError:
        return  # its scan data is 64×64's: a decoder may also call it truncated
    assert max(px.shape) <= 1500 and px.source_shape == (6000, 6000)


def test_a_large_image_reads_the_same_digit_reduced_at_decoding(rec) -> None:
    big = _jpeg(4000)
    assert REDUCE_FROM <= 4000 * 4000
    px = to_pixels(big, fit=Fit(1024, 1024, round_up=True))
    assert max(px.shape) <= 2000 and px.source_shape == (4000, 4000)
    assert rec.predict(big).digit == rec.predict(_jpeg(1000)).digit == 1


def test_number_boxes_are_in_the_pixels_sent_even_when_decoded_reduced(rec) -> None:
    """A 6000×1200 line is decoded at a fifth of its size; its boxes still cover the sent image."""
    line = Image.new("L", (6000, 1200), 255)
    a = np.asarray(line).copy()
    for x in (1000, 3000, 5000):  # three 1s
        a[200:1000, x - 40: x + 40] = 0
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    px = to_pixels(buf.getvalue(), fit=Fit(160, 6000))
    assert px.shape[0] < 1200 and px.source_shape == (1200, 6000)
    reading = rec.read_number(buf.getvalue())
    assert reading.text == "111"
    for d, x in zip(reading.digits, (1000, 3000, 5000), strict=True):
        bx, by, bw, bh = d.box
        assert bx <= x - 40 + 30 and bx + bw >= x + 40 - 30, d.box
        assert by <= 230 and by + bh >= 970, d.box


def test_small_images_are_not_reduced_at_decoding() -> None:
    """Under REDUCE_FROM pixels the reader reduces in floats, exactly as before (golden fixtures)."""
    data = _jpeg(1500)
    px = to_pixels(data, fit=Fit(1024, 1024, round_up=True))
    assert px.shape == (1500, 1500) and px.source_shape == (1500, 1500)


def test_decoding_memory_is_budgeted_with_row_pointers() -> None:
    """1×40,000,000 is under the pixel limit, but Pillow keeps a pointer per row: 360 MB."""
    tall = patch_png(_png_l(8, 8), 1, 40_000_000)
    with pytest.raises(ImageTooLargeError, match="MiB"):
        to_pixels(tall)
    with pytest.raises(ImageTooLargeError):
        to_pixels(_png_rgba(3000, 3000), Limits(max_decoded_bytes=16 * 2**20))
    assert to_pixels(_png_rgba(3000, 3000)).shape == (3000, 3000)


def _png_l(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (w, h), 255).save(buf, format="PNG")
    return buf.getvalue()


def _png_rgba(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (w, h), (255, 255, 255, 255)).save(buf, format="PNG")
    return buf.getvalue()


def test_nan_in_a_float_image_reads_as_black(rec) -> None:
    a = np.full((40, 40), np.nan, dtype=np.float32)
    a[8:32, 18:22] = 1.0  # a white 1 on NaN
    px = to_pixels(Image.fromarray(a, mode="F"))
    assert np.isfinite(px.color).all() and px.color.max() == 1.0
    assert rec.predict(Image.fromarray(a, mode="F")).digit == 1


def test_a_strip_two_pixels_high_is_read_as_blank(rec) -> None:
    strip = np.full((2, 6000), 255, dtype=np.uint8)
    strip[:, :2000] = 0
    assert rec.predict(strip).digit is None
    assert rec.read_number(Image.fromarray(strip)).text in ("", "1")


def test_a_rotated_wide_line_is_reduced_by_its_upright_size(rec) -> None:
    """A number written across 8000×2000, stored turned a quarter (EXIF orientation 6), as a WebP:
    the decoder must reduce it by its upright height (the line's 160 px), not its stored width."""
    line = Image.new("L", (8000, 2000), 255)
    a = np.asarray(line).copy()
    for x in (1500, 4000, 6500):  # three 1s
        a[300:1700, x - 90: x + 90] = 0
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(a).transpose(Image.Transpose.ROTATE_90).save(buf, format="WEBP", quality=92, exif=exif.tobytes())
    px = to_pixels(buf.getvalue(), fit=Fit(160, 6000))
    assert px.source_shape == (2000, 8000) and px.shape[0] >= 160, px.shape
    assert rec.read_number(buf.getvalue()).text == "111"


def test_the_decode_budget_counts_conversions_and_jpeg_scans() -> None:
    refused = {c.name for c in CASES if c.must_refuse}
    assert {"palette-trns-6320x6320.png", "gray16-6320x6320.png", "jpeg-progressive-400-scans.jpg",
            "jpeg-progressive-6000x6000-rgb.jpg"} <= refused
    for name in ("palette-trns-6320x6320.png", "jpeg-progressive-400-scans.jpg"):
        with pytest.raises(ImageTooLargeError):
            to_pixels(next(c for c in CASES if c.name == name).data, fit=Fit(1024, 1024, round_up=True))
    # an 8K screenshot still passes (RGB is reduced directly, with no conversion or split)
    shot = Image.new("RGB", (7680, 4320), "white")
    buf = io.BytesIO()
    shot.save(buf, format="PNG")
    assert to_pixels(buf.getvalue(), fit=Fit(1024, 1024, round_up=True)).source_shape == (4320, 7680)
