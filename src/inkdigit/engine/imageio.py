"""Turn whatever a caller hands us into pixels, safely.

Accepted inputs: a filesystem path, encoded bytes, a PIL image or a NumPy array. Encoded input is
checked against byte and pixel limits *before* pixels are decoded, so a decompression bomb costs a
header read, not gigabytes. Every refusal is an :class:`ImageInputError` with a stable ``code`` that
the HTTP service maps to a status; the engine itself knows nothing of HTTP.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inkdigit.engine.defaults import MAX_PIXELS, MAX_UPLOAD_BYTES

try:  # optional: a faster decoder for the commonest input, a plain PNG from a canvas
    import pyspng as _spng
except ImportError:  # pragma: no cover - platforms without a wheel fall back to Pillow
    _spng = None

ImageInput = str | os.PathLike[str] | bytes | bytearray | memoryview | Image.Image | np.ndarray



class ImageInputError(ValueError):
    """An input that cannot be read as an image; ``code`` is stable, ``str()`` is for people."""

    code = "invalid_image"


class EmptyInputError(ImageInputError):
    code = "empty_input"


class NotAnImageError(ImageInputError):
    code = "not_an_image"


class CorruptImageError(ImageInputError):
    code = "corrupt_image"


class ImageTooLargeError(ImageInputError):
    code = "image_too_large"


@dataclass(frozen=True)
class Limits:
    """Refuse inputs above these sizes (bytes of the encoded file, pixels of the decoded image)."""

    max_bytes: int = MAX_UPLOAD_BYTES
    max_pixels: int = MAX_PIXELS


DEFAULT_LIMITS = Limits()


class Pixels:
    """Decoded pixels in [0, 1]: ``color`` is (H, W) gray or (H, W, 3) RGB; ``alpha`` (H, W) or None.

    Built from floats, or from 8-bit arrays that are scaled only when first read: a transparent
    canvas export is read from its alpha alone, and its colour channels are never converted.
    """

    def __init__(self, color: np.ndarray, alpha: np.ndarray | None) -> None:
        self._color = color
        self._alpha = alpha

    @staticmethod
    def _unit(a: np.ndarray) -> np.ndarray:
        return a.astype(np.float32) * np.float32(1 / 255) if a.dtype == np.uint8 else a

    @cached_property
    def color(self) -> np.ndarray:
        return self._unit(self._color)

    @cached_property
    def alpha(self) -> np.ndarray | None:
        return None if self._alpha is None else self._unit(self._alpha)

    @property
    def color_u8(self) -> np.ndarray | None:
        """The colour channels as decoded, if they were 8-bit."""
        return self._color if self._color.dtype == np.uint8 else None

    @property
    def alpha_u8(self) -> np.ndarray | None:
        """The alpha channel as decoded, if it was 8-bit (lets callers stay in integers)."""
        return self._alpha if self._alpha is not None and self._alpha.dtype == np.uint8 else None

    @property
    def shape(self) -> tuple[int, int]:
        return self._color.shape[0], self._color.shape[1]


def _open_encoded(data: bytes, limits: Limits) -> Image.Image:
    if not data:
        raise EmptyInputError("The image is empty (0 bytes).")
    if len(data) > limits.max_bytes:
        raise ImageTooLargeError(
            f"The file is {len(data):,} bytes; the limit is {limits.max_bytes:,} bytes.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise NotAnImageError("The file is not an image in a format we can read "
                              "(PNG, JPEG, GIF, BMP, TIFF or WebP).") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(
            f"The image has too many pixels; the limit is {limits.max_pixels:,}.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptImageError(f"The image could not be read: {exc}.") from exc
    _check_pixels(img.size, limits)
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptImageError(f"The image is truncated or corrupt: {exc}.") from exc
    return img


def _check_pixels(size: tuple[int, int], limits: Limits) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise CorruptImageError(f"The image has no pixels ({w}×{h}).")
    if w * h > limits.max_pixels:
        raise ImageTooLargeError(
            f"The image is {w}×{h} = {w * h:,} pixels; the limit is {limits.max_pixels:,}.")


def _read_encoded(source: bytes | bytearray | memoryview | str | os.PathLike[str], limits: Limits) -> bytes:
    """The encoded bytes of a bytes-like or path input; a file over the byte limit is not read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    path = Path(source)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImageInputError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if size > limits.max_bytes:
        raise ImageTooLargeError(f"{path} is {size:,} bytes; the limit is {limits.max_bytes:,} bytes.")
    try:
        return path.read_bytes()
    except OSError as exc:  # a directory, a file unreadable to us
        raise ImageInputError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def open_image(source: ImageInput, limits: Limits = DEFAULT_LIMITS) -> Image.Image:
    """Decode ``source`` into a PIL image, upright per its EXIF orientation, first frame only."""
    if isinstance(source, Image.Image):
        _check_pixels(source.size, limits)
        img = source
    elif isinstance(source, (bytes, bytearray, memoryview, str, os.PathLike)):
        img = _open_encoded(_read_encoded(source, limits), limits)
    else:
        raise ImageInputError(f"Cannot read an image from a {type(source).__name__}.")
    if getattr(img, "n_frames", 1) > 1:
        img.seek(0)
    try:
        return ImageOps.exif_transpose(img) or img
    except (OSError, ValueError, SyntaxError, TypeError):
        return img  # a broken EXIF block is no reason to refuse the pixels


def _from_array(arr: np.ndarray, limits: Limits) -> Pixels:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ImageInputError(f"An array image must be (H, W), (H, W, 3) or (H, W, 4); got {arr.shape}.")
    _check_pixels((arr.shape[1], arr.shape[0]), limits)
    if arr.dtype == np.bool_:
        data = arr.astype(np.float32)
    elif np.issubdtype(arr.dtype, np.integer):
        top = 65535.0 if arr.dtype.itemsize > 1 and arr.max(initial=0) > 255 else 255.0
        data = arr.astype(np.float32) / top
    elif np.issubdtype(arr.dtype, np.floating):
        data = np.nan_to_num(arr.astype(np.float32))
        if data.max(initial=0.0) > 1.0:
            data = data / 255.0
    else:
        raise ImageInputError(f"Unsupported array dtype {arr.dtype}.")
    data = np.clip(data, 0.0, 1.0)
    if data.ndim == 3 and data.shape[2] == 4:
        return Pixels(data[:, :, :3], data[:, :, 3])
    return Pixels(data, None)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_PLAIN_TYPES = frozenset({0, 2, 4, 6})  # IHDR colour types: gray, RGB, gray + alpha, RGBA


def _plain_png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of an 8-bit gray / gray+alpha / RGB / RGBA PNG with no transparency key
    (tRNS) and no EXIF block; None for anything else, which Pillow then reads.

    Walks the chunk headers up to the first IDAT instead of opening the file with Pillow, which
    costs more (~75 µs) than the rest of this check and a third of the decode itself.
    """
    if len(data) < 33 or data[12:16] != b"IHDR" or b"eXIf" in data:
        return None
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    bit_depth, colour_type = data[24], data[25]
    if bit_depth != 8 or colour_type not in _PNG_PLAIN_TYPES:
        return None
    pos = 8
    while pos + 8 <= len(data):
        kind = data[pos + 4: pos + 8]
        if kind == b"IDAT":
            return width, height
        if kind == b"tRNS":
            return None
        pos += 12 + int.from_bytes(data[pos: pos + 4], "big")
    return None  # no image data: damaged, and Pillow says how


def _fast_png(data: bytes, limits: Limits) -> Pixels | None:
    """Decode a plain 8-bit PNG with libspng (about 3× faster than Pillow for a canvas export);
    None when that does not apply (no pyspng, other modes, EXIF, damage): Pillow then decides."""
    if _spng is None or not data.startswith(_PNG_SIGNATURE) or len(data) > limits.max_bytes:
        return None
    size = _plain_png_size(data)
    if size is None:
        return None
    _check_pixels(size, limits)
    try:
        arr = _spng.load(data)
    except Exception:  # libspng reports damage as plain exceptions; Pillow classifies it
        return None
    if arr.dtype != np.uint8 or arr.shape[:2] != (size[1], size[0]):
        return None
    if arr.ndim == 2:
        return Pixels(arr, None)
    channels = arr.shape[2]
    if channels == 1:
        return Pixels(arr[:, :, 0], None)
    if channels == 2:
        return Pixels(np.ascontiguousarray(arr[:, :, 0]), np.ascontiguousarray(arr[:, :, 1]))
    if channels == 4:
        return Pixels(arr[:, :, :3], np.ascontiguousarray(arr[:, :, 3]))
    return Pixels(arr, None)


def to_pixels(source: ImageInput, limits: Limits = DEFAULT_LIMITS) -> Pixels:
    """Decode any supported input into float pixels in [0, 1] (gray or RGB, plus alpha if any)."""
    if isinstance(source, np.ndarray):
        return _from_array(source, limits)
    if isinstance(source, (bytes, bytearray, memoryview, str, os.PathLike)):
        data = _read_encoded(source, limits)
        fast = _fast_png(data, limits)
        if fast is not None:
            return fast
        source = data
    img = open_image(source, limits)
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        top = 65535.0 if mode.startswith("I") and arr.max(initial=0) > 255 else 255.0
        if mode == "F" and arr.max(initial=0) <= 1.0:
            top = 1.0
        return Pixels(np.clip(arr / top, 0.0, 1.0), None)
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info)
    if mode in ("L", "1") and not has_alpha:
        return Pixels(np.asarray(img if mode == "L" else img.convert("L")), None)
    target = "RGBA" if has_alpha else "RGB"
    rgba = np.asarray(img if mode == target else img.convert(target))  # convert() copies even a no-op
    if has_alpha:  # a contiguous alpha plane: strided 8-bit scans cost several times more
        return Pixels(rgba[:, :, :3], np.ascontiguousarray(rgba[:, :, 3]))
    return Pixels(rgba, None)
