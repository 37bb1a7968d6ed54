"""Turn whatever a caller hands us into pixels, safely.

Accepted inputs: a filesystem path, encoded bytes, a PIL image or a NumPy array. Encoded input is
checked against byte and pixel limits *before* pixels are decoded, so a decompression bomb costs a
header read, not gigabytes. Every refusal is an :class:`ImageInputError` with a stable ``code`` that
the HTTP service maps to a status; the engine itself knows nothing of HTTP.

A digit reader never needs a big image at full resolution: the reader says how large an image it
works on (a :class:`Fit`), and a larger one is reduced while it is still 8-bit, right after
decoding (a JPEG is decoded reduced, by its DCT scaling), never converted to floats at full size.
A 6000×6000 JPEG bomb of 4 KB then costs a 750×750 decode, not a gigabyte; a 36-megapixel PNG its
8-bit decode and nothing more. Memory a large decode took is handed back to the system afterwards.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import math
import os
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inkdigit.engine.defaults import MAX_DECODED_BYTES, MAX_PIXELS, MAX_UPLOAD_BYTES

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


class UnreadableImageError(ImageInputError):
    """Reading this image failed in a way no check foresaw (a bug, logged where it is raised): the
    image gets this error in its own slot, and the other images of a batch are still read."""

    code = "unreadable_image"


@dataclass(frozen=True)
class Limits:
    """Refuse inputs above these sizes: bytes of the encoded file, pixels of the image its header
    declares, and bytes of memory its decode would take (at the reduced size a JPEG decodes to)."""

    max_bytes: int = MAX_UPLOAD_BYTES
    max_pixels: int = MAX_PIXELS
    max_decoded_bytes: int = MAX_DECODED_BYTES


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Fit:
    """The most a reader works on: it reduces a larger image to at most ``height`` × ``width``
    itself, so the decoder may reduce it first by a whole factor: the largest that stays within
    (``round_up`` False), or, when the reader reduces by the rounded-up factor anyway (a single
    digit's preprocessing), exactly that factor. Images under :data:`REDUCE_FROM` pixels are left
    to the reader, which reduces in floats (every canvas and 640×480 photo reads exactly as before)."""

    height: int
    width: int
    round_up: bool = False

    def factor(self, width: int, height: int) -> int:
        """The whole factor an image of this size is reduced by when it is decoded (1: not at all)."""
        if width * height < REDUCE_FROM:
            return 1
        ratio = max(height / self.height, width / self.width)
        return max(1, math.ceil(ratio) if self.round_up else math.floor(ratio))


#: images of this many pixels and more are reduced as they are decoded (a 2000×2000 image decodes
#: to 16 MB at most, and its float copies to 64 MB: below that, reducing early saves little)
REDUCE_FROM = 4_000_000


class Pixels:
    """Decoded pixels in [0, 1]: ``color`` is (H, W) gray or (H, W, 3) RGB; ``alpha`` (H, W) or None.

    Built from floats, or from 8-bit arrays that are scaled only when first read: a transparent
    canvas export is read from its alpha alone, and its colour channels are never converted.
    """

    def __init__(self, color: np.ndarray, alpha: np.ndarray | None,
                 source_shape: tuple[int, int] | None = None) -> None:
        self._color = color
        self._alpha = alpha
        self._source = source_shape

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

    @property
    def source_shape(self) -> tuple[int, int]:
        """(height, width) of the image as it was sent: larger than ``shape`` when it was decoded
        reduced (boxes reported to the caller are in these pixels)."""
        return self._source or self.shape


def _open_encoded(data: bytes, limits: Limits, fit: Fit | None = None) -> tuple[Image.Image, tuple[int, int]]:
    """Decode ``data`` under ``limits``, and its (width, height) as its header declares it; with
    ``fit``, a JPEG is decoded reduced (DCT scaling)."""
    if not data:
        raise EmptyInputError("The image is empty (0 bytes).")
    if len(data) > limits.max_bytes:
        raise ImageTooLargeError(
            f"The file is {len(data):,} bytes; the limit is {limits.max_bytes:,} bytes.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError as exc:
        raise NotAnImageError("The file is not an image in a format we can read "
                              "(PNG, JPEG, GIF, BMP, TIFF or WebP).") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(
            f"The image has too many pixels; the limit is {limits.max_pixels:,}.") from exc
    except Exception as exc:  # a damaged header: plugins raise OSError, SyntaxError, struct.error, ...
        raise CorruptImageError(f"The image could not be read: {exc}.") from exc
    _check_pixels(img.size, limits)
    sent = img.size
    factor = fit.factor(*_upright(img)) if fit else 1
    if factor > 1 and img.format == "JPEG":
        try:  # decode at 1/2, 1/4 or 1/8 of the size, as far as that stays at least this large
            img.draft(img.mode, (-(-img.size[0] // factor), -(-img.size[1] // factor)))
        except Exception as exc:
            raise CorruptImageError(f"The image could not be read: {exc}.") from exc
    _check_jpeg(img, data, sent, limits)
    _check_decoded_size(img.size, img.mode, limits, reduced=factor > 1, alpha=_has_alpha(img))
    try:
        img.load()
    except MemoryError as exc:
        raise ImageTooLargeError("The image is too large to decode.") from exc
    except Exception as exc:  # truncated data, absurd tiles (OverflowError), decoder errors
        raise CorruptImageError(f"The image is truncated or corrupt: {exc}.") from exc
    return img, sent


def _pixel_bytes(mode: str) -> int:
    """Bytes Pillow stores a pixel of ``mode`` in (multi-band modes take 4)."""
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


#: the formats read (Image.open tries every format Pillow knows otherwise: EPS runs Ghostscript)
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")
#: modes converted before they are reduced (reduce works on 8-bit and 32-bit bands only)
_CONVERTED = frozenset({"1", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "I;16", "I;16B", "I;16L", "I;16N"})
#: more scans than a progressive JPEG needs (encoders write about 10): each one is a full pass over
#: the whole image's coefficients, so 2,000 repeated scans in 259 KB took 42 s to decode
MAX_JPEG_SCANS = 100


def _upright(img: Image.Image) -> tuple[int, int]:
    """(width, height) of ``img`` once turned upright per its EXIF orientation."""
    w, h = img.size
    return (h, w) if _orientation(img) in (5, 6, 7, 8) else (w, h)


def _has_alpha(img: Image.Image) -> bool:
    return "A" in img.getbands() or (img.mode == "P" and "transparency" in img.info)


def _check_decoded_size(size: tuple[int, int], mode: str, limits: Limits, *, reduced: bool = False,
                        alpha: bool = False) -> None:
    """Refuse a decode that would take more memory than the limit: the pixels as Pillow holds them
    and a pointer per row (a 1×40,000,000 image takes 320 MB of row pointers for 40 MB of
    pixels), and when it is reduced, its conversion (a palette to RGB(A), 16-bit to 32-bit) and
    its bands split apart (an image with alpha is reduced band by band)."""
    w, h = size
    need = h * (w * _pixel_bytes(mode) + 8)
    if reduced:
        if mode in _CONVERTED:
            need += w * h * (1 if mode == "1" else 4)
        if alpha:
            need += w * h * 4
    if need > limits.max_decoded_bytes:
        raise ImageTooLargeError(
            f"Decoding the image ({w}×{h}, {mode}) would take {need / 2**20:,.0f} MiB; the limit is "
            f"{limits.max_decoded_bytes / 2**20:,.0f} MiB. Send it smaller, or as a JPEG.")


def _check_jpeg(img: Image.Image, data: bytes, sent: tuple[int, int], limits: Limits) -> None:
    """A progressive JPEG holds every coefficient of the full image while it decodes, whatever the
    scale it is decoded at (2 bytes a sample), and decodes it once per scan: both are bounded."""
    if img.format != "JPEG" or not img.info.get("progressive"):
        return
    scans = data.count(b"\xff\xda")  # start-of-scan: 0xFF is never followed by 0xDA in coded data
    if scans > MAX_JPEG_SCANS:
        raise ImageTooLargeError(f"The JPEG has {scans:,} scans; at most {MAX_JPEG_SCANS} are decoded.")
    w, h = sent
    need = w * h * max(1, int(getattr(img, "layers", 3))) * 2
    if need > limits.max_decoded_bytes:
        raise ImageTooLargeError(
            f"Decoding this progressive JPEG ({w}×{h}) would take {need / 2**20:,.0f} MiB; the limit is "
            f"{limits.max_decoded_bytes / 2**20:,.0f} MiB. Send it smaller, or as a baseline JPEG.")


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


def open_image(source: ImageInput, limits: Limits = DEFAULT_LIMITS, fit: Fit | None = None) -> Image.Image:
    """Decode ``source`` into a PIL image, upright per its EXIF orientation, first frame only;
    with ``fit``, reduced by the whole factor it allows (see :class:`Fit`)."""
    return _open(source, limits, fit)[0]


def _open(source: ImageInput, limits: Limits, fit: Fit | None) -> tuple[Image.Image, tuple[int, int]]:
    """The image as :func:`open_image` gives it, and (height, width) of it as sent, upright."""
    if isinstance(source, Image.Image):
        _check_pixels(source.size, limits)
        img, (w, h) = source, source.size
    elif isinstance(source, (bytes, bytearray, memoryview, str, os.PathLike)):
        img, (w, h) = _open_encoded(_read_encoded(source, limits), limits, fit)
    else:
        raise ImageInputError(f"Cannot read an image from a {type(source).__name__}.")
    # an animation is at its first frame once opened (counting frames would read the whole file)
    if fit is not None:
        img = _reduced(img, fit.factor(*_upright(img)))
    try:
        upright = ImageOps.exif_transpose(img) or img
    except Exception:
        return img, (h, w)  # a broken EXIF block is no reason to refuse the pixels
    turned = upright.size != img.size or (upright is not img and _orientation(img) in (5, 6, 7, 8))
    return upright, ((w, h) if turned else (h, w))


def _orientation(img: Image.Image) -> int | None:
    try:
        value = img.getexif().get(0x0112)
    except Exception:
        return None
    return value if isinstance(value, int) else None


def _reduced(img: Image.Image, factor: int) -> Image.Image:
    """``img`` reduced by ``factor`` (box averages, in its 8-bit or integer form); the memory of a
    large decode is handed back to the system afterwards."""
    if factor <= 1:
        return img
    big = img.size[0] * img.size[1] * _pixel_bytes(img.mode)
    if img.mode in ("1", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "I;16", "I;16B", "I;16L", "I;16N"):
        has_alpha = img.mode == "PA" or (img.mode == "P" and "transparency" in img.info)
        target = ("RGBA" if has_alpha else "RGB") if img.mode in ("P", "PA") else \
            "I" if img.mode.startswith("I;16") else "L" if img.mode == "1" else "RGB"
        img = img.convert(target)
    w, h = img.size
    # the reader's block means drop a partial last block: so does this, where a whole one is left
    box = (0, 0, w // factor or -(-w // factor), h // factor or -(-h // factor))
    if "A" in img.getbands():  # each band on its own: Pillow's RGBA reduce premultiplies by alpha
        small = Image.merge(img.mode, [band.reduce(factor).crop(box) for band in img.split()])
    else:
        small = img.reduce(factor).crop(box)
    del img
    if big >= _TRIM_AFTER:
        _return_memory()
    return small


#: a decode at least this large is followed by giving freed memory back to the system
_TRIM_AFTER = 32 * 1024 * 1024
_libc_name = ctypes.util.find_library("c")
_malloc_trim = getattr(ctypes.CDLL(_libc_name), "malloc_trim", None) if _libc_name else None


def _return_memory() -> None:
    """Ask glibc to return freed heap to the system: after a large image is freed, its blocks
    otherwise stay with the process (a worker kept 470-650 MB after a few bombs)."""
    if _malloc_trim is not None:
        _malloc_trim(0)


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
    _check_decoded_size(size, "L" if data[25] == 0 else "RGBA", limits)  # as Pillow would hold it
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


def to_pixels(source: ImageInput, limits: Limits = DEFAULT_LIMITS, fit: Fit | None = None) -> Pixels:
    """Decode any supported input into float pixels in [0, 1] (gray or RGB, plus alpha if any).

    With ``fit``, an encoded image larger than it is reduced right after decoding (see
    :class:`Fit`); ``Pixels.source_shape`` keeps its size as sent."""
    if isinstance(source, np.ndarray):
        return _from_array(source, limits)
    if isinstance(source, (bytes, bytearray, memoryview, str, os.PathLike)):
        data = _read_encoded(source, limits)
        size = _plain_png_size(data) if fit is not None and data.startswith(_PNG_SIGNATURE) else None
        if size is None or fit is None or fit.factor(*size) == 1:
            fast = _fast_png(data, limits)
            if fast is not None:
                return fast
        source = data
    img, sent = _open(source, limits, fit)
    return _pixels(img, None if sent == (img.size[1], img.size[0]) else sent)


def _pixels(img: Image.Image, source_shape: tuple[int, int] | None) -> Pixels:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.nan_to_num(np.asarray(img, dtype=np.float32), nan=0.0, neginf=0.0)  # NaN: black
        top = 65535.0 if mode.startswith("I") and arr.max(initial=0) > 255 else 255.0
        if mode == "F" and arr.max(initial=0) <= 1.0:
            top = 1.0
        return Pixels(np.clip(arr / top, 0.0, 1.0), None, source_shape)
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info)
    if mode in ("L", "1") and not has_alpha:
        return Pixels(np.asarray(img if mode == "L" else img.convert("L")), None, source_shape)
    target = "RGBA" if has_alpha else "RGB"
    rgba = np.asarray(img if mode == target else img.convert(target))  # convert() copies even a no-op
    if has_alpha:  # a contiguous alpha plane: strided 8-bit scans cost several times more
        return Pixels(rgba[:, :, :3], np.ascontiguousarray(rgba[:, :, 3]), source_shape)
    return Pixels(rgba, None, source_shape)
