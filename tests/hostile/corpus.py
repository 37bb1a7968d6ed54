"""A corpus of hostile image files, made from scratch so it needs nothing downloaded.

Each case is a file an attacker (or a broken client) can send in a few kilobytes: dimensions
that are extreme or lie in the header, decompression bombs of every format, float images holding
NaN, TIFFs declaring absurd tiles, animations with thousands of frames, compressed ancillary PNG
chunks that inflate to gigabytes. The contract for every case is the same: a reading or a clear
refusal (an ``ImageInputError``; over HTTP a 4xx with a stable ``code``), in bounded time and
memory, and the server still serving. ``tests/engine/test_hostile_images.py`` checks the engine
on it, ``tests/service/test_hostile_http.py`` a real server, ``benchmarks/bench_bombs.py`` the cost.

Run as a script to write the files out (for a manual trial with curl or a fuzzer)::

    python -m tests.hostile.corpus /tmp/hostile
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")


@dataclass(frozen=True)
class Case:
    """One hostile file: ``name`` says what it is, ``must_refuse`` that no reading is acceptable
    (a reading of it would mean a limit was not applied)."""

    name: str
    data: bytes
    must_refuse: bool = False


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _digit(size: int = 280) -> Image.Image:
    """A plain drawn digit ("1" with a flag), dark on white, so a reading is possible."""
    img = Image.new("L", (size, size), 255)
    a = np.asarray(img).copy()
    s = size / 280
    a[int(40 * s): int(240 * s), int(130 * s): int(150 * s)] = 0
    for i in range(int(60 * s)):
        y, x = int(40 * s) + i // 2, int(130 * s) - i
        a[max(0, y - 6): y + 6, max(0, x - 6): x + 6] = 0
    return Image.fromarray(a)


# --- header patching: the same small file, declaring other dimensions ---------------------------

def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def patch_png(data: bytes, width: int, height: int) -> bytes:
    """A PNG whose IHDR declares ``width``×``height`` (CRC recomputed, so only the size lies)."""
    ihdr = data[16:29]
    body = struct.pack(">II", width, height) + ihdr[8:]
    return data[:8] + _png_chunk(b"IHDR", body) + data[33:]


def patch_jpeg(data: bytes, width: int, height: int) -> bytes:
    """A JPEG whose start-of-frame declares ``width``×``height``; the scan data stays tiny."""
    out = bytearray(data)
    i = 2
    while i + 4 < len(out):
        if out[i] != 0xFF:
            raise ValueError("not a JPEG marker")
        marker = out[i + 1]
        length = struct.unpack(">H", out[i + 2: i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            out[i + 5: i + 9] = struct.pack(">HH", height, width)
            return bytes(out)
        i += 2 + length
    raise ValueError("no SOF marker")


def patch_gif(data: bytes, width: int, height: int) -> bytes:
    """A GIF whose logical screen and first image descriptor declare ``width``×``height``."""
    out = bytearray(data)
    out[6:10] = struct.pack("<HH", width, height)
    at = out.index(b"\x2c", 13)  # the image descriptor follows the colour table
    out[at + 5: at + 9] = struct.pack("<HH", width, height)
    return bytes(out)


def patch_bmp(data: bytes, width: int, height: int) -> bytes:
    out = bytearray(data)
    out[18:26] = struct.pack("<ii", width, height)
    return bytes(out)


def patch_webp(data: bytes, width: int, height: int) -> bytes:
    """A lossless WebP (VP8L) whose header declares ``width``×``height`` (at most 16384 each)."""
    out = bytearray(data)
    if out[12:16] != b"VP8L":
        raise ValueError("expected a VP8L WebP")
    bits = struct.unpack("<I", out[21:25])[0]
    bits = (bits & ~0x0FFFFFFF) | ((width - 1) & 0x3FFF) | (((height - 1) & 0x3FFF) << 14)
    out[21:25] = struct.pack("<I", bits)
    return bytes(out)


def tiff(width: int, height: int, pixels: bytes, *, bits: int = 8, sample_format: int = 1,
         samples: int = 1, tile: tuple[int, int] | None = None,
         extra: dict[int, tuple[int, int]] | None = None) -> bytes:
    """A little-endian baseline TIFF written by hand, so its tags can say anything: one strip of
    ``pixels`` (uncompressed), or with ``tile`` the TileWidth/TileLength tags and one tile."""
    entries: dict[int, tuple[int, int]] = {  # tag → (type, value); type 3 SHORT, 4 LONG
        256: (4, width), 257: (4, height), 258: (3, bits), 259: (3, 1), 262: (3, 1),
        277: (3, samples), 339: (3, sample_format),
    }
    data_at = 8
    if tile is None:
        entries.update({273: (4, data_at), 278: (4, height), 279: (4, len(pixels))})
    else:
        entries.update({322: (4, tile[0]), 323: (4, tile[1]), 324: (4, data_at), 325: (4, len(pixels))})
    entries.update(extra or {})
    ifd_at = data_at + len(pixels) + (len(pixels) & 1)
    ifd = struct.pack("<H", len(entries))
    for tag in sorted(entries):
        kind, value = entries[tag]
        packed = struct.pack("<HHI", tag, kind, 1) + (struct.pack("<HH", value, 0) if kind == 3
                                                      else struct.pack("<I", value))
        ifd += packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", ifd_at) + pixels + b"\x00" * (len(pixels) & 1) + ifd


# --- the cases ----------------------------------------------------------------------------------

def _extremes() -> list[Case]:
    """Real files of extreme shape in every format (each one a valid image)."""
    cases = []
    for w, h in ((1, 1), (2, 6000), (6000, 2), (6000, 1), (1, 6000), (1, 16000), (16000, 1), (3, 3)):
        img = Image.new("L", (w, h), 255)
        if w * h > 9:
            img.paste(0, (0, 0, max(1, w // 3), max(1, h // 3)))
        for fmt in FORMATS:
            if fmt == "WEBP" and max(w, h) > 16383:
                continue
            made = _encode(img.convert("RGB") if fmt == "JPEG" else img, fmt)
            cases.append(Case(f"extreme-{w}x{h}.{fmt.lower()}", made))
    return cases


def _bombs() -> list[Case]:
    """Small files whose headers declare big or absurd dimensions."""
    small = _digit(64)
    png, jpeg = _encode(small, "PNG"), _encode(small.convert("RGB"), "JPEG", quality=80)
    gif, bmp = _encode(small, "GIF"), _encode(small, "BMP")
    webp = _encode(small.convert("RGB"), "WEBP", lossless=True)
    cases = []
    sizes = {"6000x6000": (6000, 6000), "2x6000": (2, 6000), "6000x1": (6000, 1), "1x40000000": (1, 40_000_000),
             "65535x65535": (65535, 65535), "7000x5700": (7000, 5700)}
    patchers: dict[str, tuple[Callable[[bytes, int, int], bytes], bytes, int]] = {
        "png": (patch_png, png, 2**31 - 1), "jpeg": (patch_jpeg, jpeg, 65535), "gif": (patch_gif, gif, 65535),
        "bmp": (patch_bmp, bmp, 2**31 - 1), "webp": (patch_webp, webp, 16384)}
    for ext, (patch, data, top) in patchers.items():
        for label, (w, h) in sizes.items():
            if max(w, h) > top:
                continue
            cases.append(Case(f"bomb-{label}.{ext}", patch(data, w, h), must_refuse=w * h > 40_000_000))
    cases.append(Case("bomb-2147483647x2147483647.png", patch_png(png, 2**31 - 1, 2**31 - 1), must_refuse=True))
    cases.append(Case("bomb-0x0.png", patch_png(png, 0, 0), must_refuse=True))
    # a real 6000×6000 PNG of one colour: a 40 KB file, 36 M pixels (under the pixel limit)
    cases.append(Case("bomb-real-6000x6000.png", _encode(Image.new("L", (6000, 6000), 255), "PNG", optimize=True)))
    cases.append(Case("bomb-real-6000x6000-rgba.png", _encode(Image.new("RGBA", (6000, 6000), (0, 0, 0, 0)), "PNG")))
    cases.append(Case("bomb-real-6000x6000.gif", _encode(Image.new("L", (6000, 6000), 255), "GIF")))
    cases.append(Case("bomb-real-6000x6000.tiff", _encode(Image.new("L", (6000, 6000), 255), "TIFF",
                                                          compression="tiff_deflate")))
    cases.append(Case("bomb-real-6000x6000.webp",
                      _encode(Image.new("RGB", (6000, 6000), "white"), "WEBP", lossless=True)))
    cases.append(Case("bomb-real-6000x6000.jpeg", _encode(Image.new("RGB", (6000, 6000), "white"), "JPEG", quality=10)))
    return cases


def _floats() -> list[Case]:
    """Float TIFFs (mode F) holding NaN, infinities and huge values, alone and with ink."""
    base = np.full((40, 40), 1.0, dtype=np.float32)
    base[8:32, 18:22] = 0.0
    variants = {"nan": np.where(base > 0.5, np.nan, 0.0), "all-nan": np.full((40, 40), np.nan),
                "inf": np.where(base > 0.5, np.inf, -np.inf), "huge": base * 3e38, "negative": base - 1e30,
                "nan-ink": np.where(base > 0.5, 1.0, np.nan), "plain": base}
    cases = []
    for name, arr in variants.items():
        a = np.asarray(arr, dtype=np.float32)
        cases.append(Case(f"float-{name}.tiff", tiff(40, 40, a.tobytes(), bits=32, sample_format=3)))
    wide = np.full((2, 6000), np.nan, dtype=np.float32)
    cases.append(Case("float-nan-2x6000.tiff", tiff(6000, 2, wide.tobytes(), bits=32, sample_format=3)))
    cases.append(Case("float-64bit.tiff", tiff(40, 40, base.astype(np.float64).tobytes(), bits=64, sample_format=3)))
    signed = (base * -30000).astype("<i2").tobytes()
    cases.append(Case("int16-signed.tiff", tiff(40, 40, signed, bits=16, sample_format=2)))
    return cases


def _tiles() -> list[Case]:
    """TIFFs declaring absurd tiles, strips and sample counts."""
    px = bytes(64 * 64)
    top = 2**31
    return [
        Case("tiles-2^31x2^31.tiff", tiff(64, 64, px, tile=(top, top)), must_refuse=True),
        Case("tiles-2^32-16.tiff", tiff(64, 64, px, tile=(2**32 - 16, 2**32 - 16)), must_refuse=True),
        Case("tiles-16x16-image-2^31.tiff", tiff(top - 1, top - 1, px, tile=(16, 16)), must_refuse=True),
        Case("tiles-0x0.tiff", tiff(64, 64, px, tile=(0, 0)), must_refuse=True),
        Case("tiles-16x16-6000x6000.tiff", tiff(6000, 6000, px, tile=(16, 16))),
        Case("strip-rows-0.tiff", tiff(64, 64, px, extra={278: (4, 0)})),
        Case("samples-65535.tiff", tiff(64, 64, px, extra={277: (3, 65535)})),
        Case("bits-0.tiff", tiff(64, 64, px, bits=0)),
        Case("bits-65535.tiff", tiff(64, 64, px, bits=65535)),
        Case("size-2^31x1.tiff", tiff(2**31 - 1, 1, px), must_refuse=True),
    ]


def _animations() -> list[Case]:
    """Animations with many frames, real and declared."""
    frames = [Image.new("L", (8, 8), 255 if i % 2 else 0) for i in range(3000)]
    gif = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=10)
    apng = _encode(frames[0], "PNG", save_all=True, append_images=frames[1:300], duration=10)
    digit = _digit(64)
    big_frames = [digit] + [Image.new("L", (64, 64), i % 256) for i in range(1, 400)]
    apng_digit = _encode(digit, "PNG", save_all=True, append_images=big_frames[1:], duration=10)
    # acTL patched to declare 2^31 - 1 frames
    at = apng.index(b"acTL") - 4
    body = struct.pack(">II", 2**31 - 1, 0)
    declared = apng[:at] + _png_chunk(b"acTL", body) + apng[at + 20:]
    return [Case("gif-3000-frames.gif", gif), Case("apng-300-frames.png", apng),
            Case("apng-digit-400-frames.png", apng_digit), Case("apng-declares-2^31-frames.png", declared)]


def _ancillary() -> list[Case]:
    """PNGs whose compressed ancillary chunks inflate to a gigabyte (text, ICC profile)."""
    png = _encode(_digit(64), "PNG")
    bomb = zlib.compress(b"\x00" * (256 * 1024 * 1024), 9)  # 256 MB of zeros in ~250 KB
    chunks = {
        "ztxt": _png_chunk(b"zTXt", b"Comment\x00\x00" + bomb),
        "itxt": _png_chunk(b"iTXt", b"Comment\x00\x01\x00\x00\x00" + bomb),
        "iccp": _png_chunk(b"iCCP", b"icc\x00\x00" + bomb),
        "many-text": b"".join(_png_chunk(b"tEXt", b"k%d\x00" % i + b"v" * 100) for i in range(20000)),
    }
    at = 33  # after IHDR
    cases = [Case(f"png-bomb-{name}.png", png[:at] + chunk + png[at:]) for name, chunk in chunks.items()]
    # the image data itself: an IDAT that inflates far past what the header says
    raw = zlib.compress(b"\x00" * (200 * 1024 * 1024), 9)
    ihdr = png[:33]
    cases.append(Case("png-idat-overflow.png", ihdr + _png_chunk(b"IDAT", raw) + _png_chunk(b"IEND", b"")))
    return cases


def progressive_scan_bomb(side: int = 2000, repeats: int = 400) -> bytes:
    """A gray progressive JPEG whose last scan is repeated: each scan is a pass over every
    coefficient of the image (2,000 repeats of a 6000² image took 42 s to decode)."""
    data = _encode(Image.new("L", (side, side), 128), "JPEG", progressive=True, quality=90)
    last, end = data.rfind(b"\xff\xda"), data.rfind(b"\xff\xd9")
    return data[:end] + data[last:end] * repeats + data[end:]


def _conversions() -> list[Case]:
    """Images whose decode is small but whose conversion before reduction is not, and JPEG scans."""
    n = 6320  # 40 M pixels: under the pixel limit
    pal = Image.new("P", (n, n), 0)
    pal.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    gray16 = Image.fromarray(np.full((n, n), 60000, dtype=np.uint16))
    return [
        Case("palette-trns-6320x6320.png", _encode(pal, "PNG", transparency=0), must_refuse=True),
        Case("gray16-6320x6320.png", _encode(gray16, "PNG"), must_refuse=True),
        Case("jpeg-progressive-400-scans.jpg", progressive_scan_bomb(), must_refuse=True),
        Case("jpeg-progressive-6000x6000-rgb.jpg",
             _encode(Image.new("RGB", (6000, 6000), "white"), "JPEG", progressive=True, quality=50),
             must_refuse=True),
    ]


def _garbage() -> list[Case]:
    """Not images, or broken ones."""
    png = _encode(_digit(64), "PNG")
    rng = np.random.default_rng(0)
    return [
        Case("empty.bin", b"", must_refuse=True),
        Case("random.bin", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(), must_refuse=True),
        Case("png-signature-only.png", png[:8], must_refuse=True),
        Case("png-truncated.png", png[: len(png) // 2], must_refuse=True),
        Case("jpeg-soi-only.jpg", b"\xff\xd8", must_refuse=True),
        Case("svg.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="99999" height="99999"/>', must_refuse=True),
        Case("pdf.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", must_refuse=True),
        Case("gif-header-only.gif", b"GIF89a\xff\xff\xff\xff\x00\x00\x00", must_refuse=True),
        Case("bmp-negative-size.bmp", patch_bmp(_encode(_digit(64), "BMP"), -5, -2**31), must_refuse=True),
        Case("eps.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", must_refuse=True),
    ]


def cases() -> list[Case]:
    """Every case, in a fixed order (names are unique)."""
    found = [*_extremes(), *_bombs(), *_floats(), *_tiles(), *_animations(), *_ancillary(), *_conversions(),
             *_garbage()]
    names = [c.name for c in found]
    assert len(names) == len(set(names)), "case names must be unique"
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.hostile.corpus OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for case in cases():
        (out / case.name).write_bytes(case.data)
    print(f"{len(cases())} files in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
