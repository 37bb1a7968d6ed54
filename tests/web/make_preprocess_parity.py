"""Freeze Python's preprocessing of transparent canvas drawings, for the JavaScript port's tests.

``python -m tests.web.make_preprocess_parity`` writes ``tests/web/js/fixtures/preprocess_parity.json``:
the shipped default model's preprocessing config, and for each case its RGBA input (its size, and
its bytes zlib-compressed in base64: a transparent canvas is mostly zeros, so a 560 px one takes a
few KB) with what ``preprocess`` makes of it (``is_empty`` and the 28×28 image as base64 float32).
``preprocess.test.mjs`` requires the port to reproduce every case. Cases: the golden canvas PNGs
with an alpha channel (``tests/engine/golden/make_preprocess_golden.py``; the one that is opaque
throughout the port must refuse), drawings of MNIST test digits as ``draw_canvas`` renders them
(canvas 280–1120 px, pen 3–30 px, digit 30–90 % of the canvas, anywhere on it), two of them on
wide or tall canvases (one wider than ``max_side``, which Python first reduces), a blank canvas,
a single speck and ink too faint to count.

The helpers here (rendering drawings, running the port in Node) also serve
``test_preprocess_parity.py``.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from inkdigit.engine.defaults import DEFAULT_MODEL
from inkdigit.engine.preprocess import PreprocessConfig, preprocess
from inkdigit.engine.store import shipped_dir
from inkdigit.training.robustness.canvas import digit_box, draw_canvas, trace_strokes
from inkdigit.training.robustness.common import encode_png

HERE = Path(__file__).parent
FIXTURE = HERE / "js" / "fixtures" / "preprocess_parity.json"
CLI = HERE / "js" / "preprocess_cli.mjs"
_INKS = ((0, 0, 0), (17, 17, 17), (30, 58, 138), (255, 255, 255), (229, 231, 235))


def card_preprocessing() -> dict[str, object]:
    """The ``preprocessing`` object of the shipped default model's card (what the page hands the port)."""
    card = json.loads((shipped_dir() / f"{DEFAULT_MODEL}.json").read_text())
    return dict(card["preprocessing"])


def draw(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One transparent canvas drawing (uint8 RGBA) of ``digit`` (H, W in [0, 1]), drawn from ``rng`` as
    the robustness suite's canvas family draws them: a side of 280-1120 px (a third of them the page's
    560), the digit 30-90 % of it high, anywhere on it, a pen of 3-30 px (clamped to 3-20 % of the
    digit's height), sometimes a thin 3 px pen or a thick brush, one of several ink colours."""
    strokes = trace_strokes(digit)
    side = 560 if rng.random() < 1 / 3 else int(rng.integers(280, 1121))
    frac = float(rng.uniform(0.3, 0.9))
    style = rng.random()
    if style < 0.15:  # canvas/thin-pen: a fine pen, the thickening path
        pen = 3.0
    elif style < 0.25:  # canvas/thick-brush
        pen = float(np.clip(rng.uniform(18.0, 30.0), 0.0, 0.22 * frac * side))
    else:
        pen = float(np.clip(rng.uniform(3.0, 30.0), 0.03 * frac * side, 0.2 * frac * side))
    w, h = digit_box(strokes, side, pen, frac)
    centre = (float(rng.uniform(w / 2, max(w / 2, side - w / 2))), float(rng.uniform(h / 2, max(h / 2, side - h / 2))))
    ink = _INKS[int(rng.integers(len(_INKS)))]
    return draw_canvas(strokes, side, pen, frac, centre, sum(ink) < 384, True, ink=ink)


def python_outputs(images: Iterable[np.ndarray], config: dict[str, object]) -> tuple[np.ndarray, np.ndarray]:
    """(N, size, size) float32 images and (N,) is_empty that ``preprocess`` gives each RGBA image sent
    as a PNG (as the page would send it)."""
    cfg = PreprocessConfig(**config)  # type: ignore[arg-type]
    outs = [preprocess(encode_png(img), cfg) for img in images]
    return np.stack([o.image for o in outs]), np.array([o.is_empty for o in outs])


def run_port(images: Iterable[np.ndarray], config: dict[str, object]) -> tuple[np.ndarray, list[dict], float]:
    """The port's (N, size, size) outputs (zeros where unsupported), its per-image results
    ({supported, isEmpty, reason}) and its median time per image in ms, run by Node on the RGBA
    ``images`` (handed over zlib-compressed: thousands of big, mostly empty canvases)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed")
    size = int(config["size"])  # type: ignore[call-overload]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        entries, offset = [], 0
        with open(folder / "inputs.bin", "wb") as f:
            for img in images:
                rgba = np.ascontiguousarray(img, dtype=np.uint8)
                assert rgba.ndim == 3 and rgba.shape[2] == 4
                packed = zlib.compress(rgba.tobytes(), 1)
                f.write(packed)
                entries.append({"width": rgba.shape[1], "height": rgba.shape[0], "offset": offset,
                                "length": len(packed)})
                offset += len(packed)
        (folder / "manifest.json").write_text(json.dumps({"config": config, "images": entries}))
        proc = subprocess.run([node, str(CLI), str(folder)], capture_output=True, text=True, timeout=600, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"node {CLI.name} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        out = np.fromfile(folder / "outputs.bin", dtype=np.float32).reshape(len(entries), size, size)
        report = json.loads((folder / "results.json").read_text())
    return out, report["results"], float(report["medianMs"])


def _golden_canvases() -> dict[str, np.ndarray]:
    """The golden inputs that are PNGs with an alpha channel, as RGBA arrays."""
    golden = np.load(HERE.parent / "engine" / "golden" / "preprocess_v3.npz")
    out: dict[str, np.ndarray] = {}
    for key in golden.files:
        if key.startswith("in/png/"):
            img = Image.open(io.BytesIO(golden[key].tobytes()))
            if "A" in img.getbands():
                out["golden/" + key.removeprefix("in/png/")] = np.asarray(img.convert("RGBA"))
    return out


def cases(count: int = 40, seed: int = 2024) -> dict[str, np.ndarray]:
    """Every fixture input by name: golden canvases, ``count`` drawings, a blank canvas and specks."""
    from inkdigit.training.data import load_mnist

    items = _golden_canvases()
    mnist = load_mnist("test")
    rng = np.random.default_rng(seed)
    for k, i in enumerate(rng.choice(len(mnist.images), count, replace=False)):
        items[f"mnist/{int(i)}/{k}"] = draw(mnist.images[int(i)] / 255.0, rng)
    wide = np.zeros((560, 1200, 4), np.uint8)  # wider than max_side: reduced by block means first
    wide[:, 300:860] = draw(mnist.images[7] / 255.0, np.random.default_rng([seed, 1]))[:560, :560]
    items["wide"] = wide
    items["tall"] = np.ascontiguousarray(draw(mnist.images[11] / 255.0, np.random.default_rng([seed, 3]))[:, :200])
    items["blank"] = np.zeros((560, 560, 4), np.uint8)
    speck = np.zeros((560, 560, 4), np.uint8)
    speck[300:303, 200:203] = (17, 17, 17, 255)
    items["speck"] = speck
    faint = np.zeros((560, 560, 4), np.uint8)
    faint[100:104, 100:140, 3] = 12  # below min_contrast
    items["faint"] = faint
    return items


def main() -> None:
    config = card_preprocessing()
    items = cases()
    images, empty = python_outputs(list(items.values()), config)
    entries = []
    for (name, rgba), image, is_empty in zip(items.items(), images, empty, strict=True):
        raw = np.ascontiguousarray(rgba, dtype=np.uint8).tobytes()
        entries.append({"name": name, "width": int(rgba.shape[1]), "height": int(rgba.shape[0]),
                        "rgba": base64.b64encode(zlib.compress(raw, 9)).decode(),
                        # only the golden set holds inputs that are no transparent canvas (an opaque
                        # export with an alpha channel): those the port must refuse
                        "supported": bool((rgba[..., 3] < 255).any()) or not name.startswith("golden/"),
                        "is_empty": bool(is_empty),
                        "image": base64.b64encode(np.asarray(image, dtype="<f4").tobytes()).decode()})
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps({"config": config, "cases": entries}, indent=0))
    print(f"{len(entries)} cases → {FIXTURE} ({FIXTURE.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
