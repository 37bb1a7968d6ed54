"""Freeze what a preprocessing version outputs for a varied set of inputs, so faster code can be proven equal.

Run once per version with the reference implementation
(``python -m tests.engine.golden.make_preprocess_golden [VERSION]``, default the latest);
``test_preprocess_golden.py`` then requires every later implementation to reproduce the outputs.
A change that alters them is a new preprocessing ``VERSION`` (and a retrained model), not a speed-up.

Inputs, stored beside the outputs so the fixture does not depend on a renderer's version:
canvas PNGs (thin, medium and thick pens, slanted, with specks, small and off-centre, one exported
by Chromium), MNIST and USPS test digits as arrays, and RGB scans and photo-like images.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from inkdigit.engine.preprocess import VERSION, PreprocessConfig, preprocess
from inkdigit.training.data import load_mnist, load_usps

HERE = Path(__file__).parent
STROKES = [  # polylines on a 280×280 canvas: a 7, a 1, a slanted 1, a 4, an 0-ish loop, a 2
    [(70, 60), (210, 60), (120, 230)],
    [(140, 40), (140, 240)],
    [(110, 230), (170, 50)],
    [(170, 230), (170, 50), (80, 170), (200, 170)],
    [(140, 50), (90, 90), (80, 170), (140, 230), (195, 170), (190, 90), (140, 50)],
    [(80, 90), (140, 50), (200, 90), (90, 230), (210, 230)],
]


def _canvas(points: list[tuple[int, int]], width: int, scale: float = 1.0, offset: tuple[int, int] = (0, 0),
            specks: bool = False, color: tuple[int, int, int] = (20, 20, 20)) -> bytes:
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    pts = [(x * scale + offset[0], y * scale + offset[1]) for x, y in points]
    draw.line(pts, fill=(*color, 255), width=width, joint="curve")
    if specks:
        for x, y in [(20, 20), (250, 30), (30, 250), (260, 260)]:
            draw.ellipse([x, y, x + 3, y + 3], fill=(*color, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _photo(digit: np.ndarray, rng: np.random.Generator, size: int = 160) -> np.ndarray:
    """Dark ink on shaded paper with sensor noise (RGB uint8): the photo path."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    paper = 0.55 + 0.35 * xx + 0.1 * yy  # uneven light
    ink = np.asarray(Image.fromarray(digit).resize((size * 2 // 3, size * 2 // 3), Image.Resampling.BILINEAR),
                     dtype=np.float64) / 255
    mask = np.zeros((size, size))
    o = size // 6
    mask[o: o + ink.shape[0], o: o + ink.shape[1]] = ink
    gray = paper * (1 - 0.8 * mask) + rng.normal(0, 0.02, (size, size))
    rgb = np.clip(np.stack([gray, gray * 0.97, gray * 0.92], axis=-1), 0, 1)
    return (rgb * 255).astype(np.uint8)


def suite_inputs() -> dict[str, bytes | np.ndarray]:
    """Since v2: photos, canvases and enlarged 8×8 scans as the robustness suite renders them."""
    from inkdigit.training.robustness import suite

    mnist = load_mnist("test")
    renderings = suite.renderings()
    items: dict[str, bytes | np.ndarray] = {}
    names = ("photo/paper", "photo/shadow", "photo/pencil", "photo/form-box", "photo/ruled",
             "canvas/thin-pen", "canvas/thick-brush", "scale/from8-x14-nearest", "scale/from8-x8-bicubic",
             "scan/speckle")
    for k, name in enumerate(names):
        for i in range(2):
            rng = np.random.default_rng([11, k, i])
            family = name.split("/")[0]
            items[f"{family}_{name.split('/')[1]}_{i}"] = renderings[name](mnist.images[200 + 2 * k + i] / 255.0, rng)
    return items


def scan_inputs() -> dict[str, bytes | np.ndarray]:
    """Since v3: 8×8 scans enlarged by every filter, at integer and non-integer factors, and a
    native USPS digit enlarged ×4, as PNGs (the bytes an upload carries)."""
    import cv2

    from inkdigit.training.robustness.scale import to8

    mnist, usps = load_mnist("test"), load_usps("test")
    items: dict[str, bytes | np.ndarray] = {}
    filters = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}
    for k, (name, interpolation) in enumerate(filters.items()):
        for i, size in enumerate((28, 64, 112)):
            scan = np.asarray(np.rint(to8(mnist.images[300 + 3 * k + i] / 255.0) * 255), dtype=np.uint8)
            big = cv2.resize(255 - scan if i % 2 else scan, (size, size), interpolation=interpolation)
            items[f"scan_from8_{name}_{size}"] = _png(big)
        items[f"usps_x4_{name}"] = _png(cv2.resize(usps.images[40 + k], (64, 64), interpolation=interpolation))
    return items


def thumbnail_inputs() -> dict[str, bytes | np.ndarray]:
    """Since v4: 8×8 thumbnails at their size (arrays, both polarities) and USPS digits reduced to
    8×8 and enlarged ×4 and ×8 by every filter, and ×2 by nearest neighbour (PNGs)."""
    import cv2

    from inkdigit.training.robustness.scale import to8

    usps = load_usps("test")
    items: dict[str, bytes | np.ndarray] = {}
    filters = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}
    for i in range(4):
        thumb = np.asarray(np.rint(to8(usps.images[60 + i] / 255.0) * 255), dtype=np.uint8)
        items[f"scan_thumb_{i}"] = 255 - thumb if i % 2 else thumb
    for k, (name, interpolation) in enumerate(filters.items()):
        for i, size in enumerate((32, 64)):
            thumb = np.asarray(np.rint(to8(usps.images[70 + 2 * k + i] / 255.0) * 255), dtype=np.uint8)
            items[f"usps_from8_{name}_{size}"] = _png(cv2.resize(thumb, (size, size), interpolation=interpolation))
    thumb = np.asarray(np.rint(to8(usps.images[80] / 255.0) * 255), dtype=np.uint8)
    items["usps_from8_nearest_16"] = _png(cv2.resize(thumb, (16, 16), interpolation=cv2.INTER_NEAREST))
    return items


def _png(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def inputs(version: str = "1") -> dict[str, bytes | np.ndarray]:
    rng = np.random.default_rng(7)
    mnist, usps = load_mnist("test"), load_usps("test")
    items: dict[str, bytes | np.ndarray] = {}
    for i, pts in enumerate(STROKES):
        for width in (3, 9, 18, 40):
            items[f"canvas_{i}_w{width}"] = _canvas(pts, width)
        items[f"canvas_{i}_small"] = _canvas(pts, 4, scale=0.3, offset=(170, 180))
        items[f"canvas_{i}_specks"] = _canvas(pts, 12, specks=True, color=(40, 90, 220))
    chromium = HERE / "chromium_canvas.png"
    if chromium.exists():
        items["canvas_chromium"] = chromium.read_bytes()
    for i in range(60):
        items[f"mnist_{i}"] = mnist.images[i]
    for i in range(30):
        items[f"usps_{i}"] = usps.images[i]
    for i in range(4):
        d = mnist.images[100 + i]
        items[f"scan_dark_{i}"] = np.repeat((255 - np.kron(d, np.ones((8, 8), np.uint8)))[..., None], 3, axis=2)
        items[f"photo_{i}"] = _photo(d, rng)
    if version != "1":
        items.update(suite_inputs())
    if int(version) >= 3:
        items.update(scan_inputs())
    if int(version) >= 4:
        items.update(thumbnail_inputs())
    return items


def _as_array(value: bytes | np.ndarray) -> np.ndarray:
    return np.frombuffer(value, np.uint8) if isinstance(value, bytes) else value


def main(version: str = VERSION) -> None:
    out = HERE / f"preprocess_v{version}.npz"
    cfg = PreprocessConfig(version=version)
    items = inputs(version)
    arrays: dict[str, np.ndarray] = {}
    for name, value in items.items():
        pre = preprocess(value, cfg)
        arrays[f"in/{'png' if isinstance(value, bytes) else 'arr'}/{name}"] = _as_array(value)
        arrays[f"out/{name}"] = pre.image if not pre.is_empty else np.full((1,), -1.0, np.float32)
    np.savez_compressed(out, **arrays)
    print(f"{len(items)} inputs → {out} ({out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main(*sys.argv[1:2])
