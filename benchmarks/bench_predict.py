"""Latency of reading one 280×280 canvas PNG and one 640×480 phone photo, on one core's worth.

The canvas input is a 7 drawn in Chromium's canvas and PNG-encoded by it (``data/canvas/07.png``),
as the web app sends it; the photo is a test digit on paper as the robustness suite renders it
(JPEG, seeded). Prints median / p90 / p99 per stage; the decode of the same kind of drawing
encoded by Pillow instead (zlib's slow path for its long runs: PNG decode cost follows the
encoder); each preprocessing version on both inputs, side by side in the same run; and the same
request served the way tutorial apps do it (model loaded per request) as the baseline.
Run: ``python benchmarks/bench_predict.py [--n 2000] [--model NAME]``.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

import inkdigit
from inkdigit import paths
from inkdigit.engine.imageio import to_pixels
from inkdigit.engine.preprocess import VERSIONS, PreprocessConfig
from inkdigit.engine.preprocess import preprocess as run_preprocess
from inkdigit.engine.recognizer import Recognizer


def canvas_png() -> bytes:
    """A '7' drawn with a round 18-px brush on a transparent RGBA canvas, encoded by Pillow."""
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.line([(70, 60), (210, 60), (120, 230)], fill=(20, 20, 20, 255), width=18, joint="curve")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def measure(fn: Callable[[], object], n: int) -> list[float]:
    for _ in range(min(50, n)):
        fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


def row(name: str, ms: list[float]) -> str:
    q = np.percentile(ms, [50, 90, 99])
    return f"{name:<38} median {q[0]:8.3f} ms   p90 {q[1]:8.3f} ms   p99 {q[2]:8.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    parser.add_argument("--model", default=None, help="model name (default: the default model)")
    args = parser.parse_args()
    png = (Path(__file__).parent / "data" / "canvas" / "07.png").read_bytes()
    pillow_png = canvas_png()
    rec = Recognizer(paths.store().find(args.model or paths.default_model()), threads=args.threads)
    pre = rec.preprocess(png)
    x = pre.image[None]
    assert rec.predict(png).digit == 7, "benchmark input should read as 7"

    decode = measure(lambda: to_pixels(png), args.n)
    decode_pillow = measure(lambda: to_pixels(pillow_png), args.n)
    preprocess = measure(lambda: rec.preprocess(png), args.n)
    infer = measure(lambda: rec.probabilities(x), args.n)
    total = measure(lambda: rec.predict(png), args.n)
    baseline = measure(lambda: Recognizer(paths.store().find(rec.name), threads=args.threads).predict(png),
                       max(20, args.n // 20))
    print(f"inkdigit {inkdigit.__version__}, model {rec.name}, 280×280 RGBA PNG ({len(png)} bytes), "
          f"n={args.n}, ORT threads={args.threads}")
    print(row("decode only (to_pixels)", decode))
    print(row(f"  same, Pillow-encoded ({len(pillow_png)} B)", decode_pillow))
    print(row("decode + preprocess", preprocess))
    print(row("model inference (reused session)", infer))
    print(row("total: predict(png)", total))
    print(row("baseline: load model per request", baseline))
    print(f"speed-up over baseline (medians): {statistics.median(baseline) / statistics.median(total):.1f}×")
    photo_jpeg = photo()
    print(f"640×480 photo JPEG ({len(photo_jpeg)} bytes), read as {rec.predict(photo_jpeg).digit}:")
    print(row("  total: predict(photo)", measure(lambda: rec.predict(photo_jpeg), max(50, args.n // 10))))
    for version in VERSIONS:
        cfg = PreprocessConfig(version=version)
        print(row(f"preprocess v{version}: canvas PNG", measure(lambda c=cfg: run_preprocess(png, c), args.n)))
        print(row(f"preprocess v{version}: photo JPEG",
                  measure(lambda c=cfg: run_preprocess(photo_jpeg, c), max(50, args.n // 10))))


def photo() -> bytes:
    """A test digit (a 7) photographed on paper, as the robustness suite's ``photo/paper`` renders it."""
    from inkdigit.training import data
    from inkdigit.training.robustness import photo as photos

    return photos.render_photo(data.load("mnist", "test").images[0] / 255.0, np.random.default_rng(0))


if __name__ == "__main__":
    main()
