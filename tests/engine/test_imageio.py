"""Decoding refuses bad input with a stable code, and reads every common pixel format."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from inkdigit.engine import imageio
from inkdigit.engine.imageio import Limits, to_pixels


def _encode(img: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize(("payload", "code"), [
    (b"", "empty_input"),
    (b"hello, I am a text file named digit.png\n", "not_an_image"),
    (_encode(Image.new("L", (64, 64), 255))[:60], "corrupt_image"),
])
def test_bad_bytes_get_stable_codes(payload: bytes, code: str) -> None:
    with pytest.raises(imageio.ImageInputError) as info:
        to_pixels(payload)
    assert info.value.code == code
    assert str(info.value).endswith(".")


def test_too_many_bytes_and_pixels_are_refused_before_decoding() -> None:
    png = _encode(Image.new("L", (300, 300), 255))
    with pytest.raises(imageio.ImageTooLargeError):
        to_pixels(png, Limits(max_bytes=100))
    with pytest.raises(imageio.ImageTooLargeError, match="300×300"):
        to_pixels(png, Limits(max_pixels=300 * 299))


def test_decompression_bomb_is_refused_cheaply() -> None:
    bomb = _encode(Image.new("1", (20000, 20000), 1), optimize=True)  # ~50 KB, 400 megapixels
    assert len(bomb) < 200_000
    with pytest.raises(imageio.ImageTooLargeError):
        to_pixels(bomb)


def test_formats_decode_to_unit_floats() -> None:
    gray = np.tile(np.arange(0, 256, dtype=np.uint8), (4, 1))
    assert to_pixels(_encode(Image.fromarray(gray))).color.max() == pytest.approx(1.0)
    sixteen = Image.fromarray(gray.astype(np.uint16) * 257)
    px16 = to_pixels(_encode(sixteen))
    assert px16.color.ndim == 2 and px16.color.max() == pytest.approx(1.0)
    cmyk = to_pixels(_encode(Image.new("CMYK", (8, 8), (0, 0, 0, 255)), "JPEG"))
    assert cmyk.color.shape == (8, 8, 3) and cmyk.color.max() < 0.1
    rgba = to_pixels(_encode(Image.new("RGBA", (8, 8), (0, 0, 0, 0))))
    assert rgba.alpha is not None and rgba.alpha.max() == 0
    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([255, 0, 0] * 256)
    assert to_pixels(_encode(pal)).color[0, 0, 0] == pytest.approx(1.0)


def test_animated_gif_uses_first_frame() -> None:
    frames = [Image.new("L", (10, 10), v) for v in (0, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    assert to_pixels(buf.getvalue()).color.max() == pytest.approx(0.0)


def test_exif_orientation_is_applied() -> None:
    img = Image.new("L", (40, 20), 0)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    px = to_pixels(_encode(img, "JPEG", exif=exif))
    assert px.color.shape == (40, 20)


def test_arrays_of_any_common_dtype() -> None:
    assert to_pixels(np.full((5, 5), 65535, np.uint16)).color.max() == pytest.approx(1.0)
    assert to_pixels(np.full((5, 5), 0.5, np.float64)).color.max() == pytest.approx(0.5)
    assert to_pixels(np.zeros((5, 5, 4), np.uint8)).alpha is not None
    with pytest.raises(imageio.ImageInputError):
        to_pixels(np.zeros((5, 5, 2), np.uint8))


@pytest.mark.parametrize(("mode", "fast"), [("L", True), ("LA", True), ("RGB", True), ("RGBA", True),
                                            ("P", False), ("I;16", False)])
def test_plain_pngs_take_the_fast_decoder_and_read_as_pillow_does(mode: str, fast: bool) -> None:
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (30, 20, 4), dtype=np.uint8), "RGBA").convert(mode)
    png = _encode(img)
    assert (imageio._plain_png_size(png) == (20, 30)) is fast
    px, ref = to_pixels(png), to_pixels(Image.open(io.BytesIO(png)))  # what Pillow reads
    np.testing.assert_array_equal(px.color, ref.color)
    assert (px.alpha is None) == (ref.alpha is None)
    if px.alpha is not None:
        np.testing.assert_array_equal(px.alpha, ref.alpha)


def test_a_png_with_a_transparency_key_or_exif_is_left_to_pillow() -> None:
    keyed = _encode(Image.new("RGB", (8, 8), (1, 2, 3)), transparency=(1, 2, 3))
    assert imageio._plain_png_size(keyed) is None
    assert to_pixels(keyed).color.shape == (8, 8, 3)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: Pillow applies it
    rotated = _encode(Image.new("L", (8, 4), 0), exif=exif.tobytes())
    assert imageio._plain_png_size(rotated) is None
    assert to_pixels(rotated).color.shape == (8, 4)
