"""Draw the benchmark's digits in a real browser canvas and save them as that canvas exports them.

The HTTP benchmark posts what the web app posts: a 280×280 transparent canvas with round strokes,
PNG-encoded by the browser. Browsers encode differently from Pillow (Chromium filters every row
with "Up" and compresses for speed), and decoding cost follows the encoder, so the files come from
Chromium itself. Needs Playwright and Debian's Chromium (as the browser tests do):

    python benchmarks/make_canvas_pngs.py            # → benchmarks/data/canvas/00.png … 31.png
"""

from __future__ import annotations

import argparse
import base64
import json
import random
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).parent / "data" / "canvas"
# one polyline per digit on a 200×200 grid (the page smooths them with quadratic curves)
DIGITS = {
    0: [(100, 20), (50, 60), (40, 120), (100, 180), (155, 125), (150, 60), (100, 20)],
    1: [(80, 50), (110, 20), (110, 180)],
    2: [(45, 60), (100, 20), (155, 60), (50, 180), (160, 180)],
    3: [(50, 35), (140, 30), (95, 95), (155, 135), (100, 180), (45, 160)],
    4: [(130, 180), (130, 20), (40, 130), (165, 130)],
    5: [(150, 25), (65, 25), (55, 90), (140, 95), (145, 160), (50, 175)],
    6: [(140, 25), (70, 80), (50, 150), (100, 180), (145, 140), (100, 105), (55, 135)],
    7: [(40, 25), (160, 25), (85, 180)],
    8: [(100, 95), (55, 55), (100, 20), (145, 55), (100, 95), (50, 140), (100, 180), (150, 140), (100, 95)],
    9: [(150, 70), (100, 105), (55, 65), (100, 20), (150, 60), (140, 180)],
}
DRAW = """([points, width]) => {
  const c = document.createElement('canvas'); c.width = c.height = 280;
  const x = c.getContext('2d');
  x.lineWidth = width; x.lineCap = 'round'; x.lineJoin = 'round'; x.strokeStyle = '#1d1d1f';
  x.beginPath(); x.moveTo(points[0][0], points[0][1]);
  for (let i = 1; i < points.length - 1; i++) {
    const mx = (points[i][0] + points[i + 1][0]) / 2, my = (points[i][1] + points[i + 1][1]) / 2;
    x.quadraticCurveTo(points[i][0], points[i][1], mx, my);
  }
  const last = points[points.length - 1]; x.lineTo(last[0], last[1]); x.stroke();
  return c.toDataURL('image/png');
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    index = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page()
        for i in range(args.count):
            digit = i % 10
            scale, width = rng.uniform(0.5, 1.25), rng.uniform(8, 24)
            ox, oy = rng.uniform(0, 280 - 200 * scale), rng.uniform(0, 280 - 200 * scale)
            points = [[ox + x * scale, oy + y * scale] for x, y in DIGITS[digit]]
            url = page.evaluate(DRAW, [points, width])
            (OUT / f"{i:02d}.png").write_bytes(base64.b64decode(url.split(",", 1)[1]))
            index.append({"file": f"{i:02d}.png", "digit": digit, "scale": round(scale, 3), "width": round(width, 1)})
        browser.close()
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"{args.count} drawings → {OUT}")


if __name__ == "__main__":
    main()
