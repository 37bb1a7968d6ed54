"""Time from pen up to the answer shown, in Chromium: the page reading the drawing itself (ONNX Runtime
Web, issue 17) beside the page sending it to the server, as it did before (the baseline, same run).

A real ``inkdigit serve`` on loopback and Debian's Chromium (Playwright). Digits are MNIST test
digits traced into strokes (the robustness suite's canvas tracer) and drawn with the mouse, stroke by
stroke, as a hand would. After the last stroke's ``pointerup`` the time runs until the answer's
message changes and the next frame is painted (``requestAnimationFrame`` after the change: what the
eye can see, not just the DOM). The baseline is the same page with ONNX Runtime Web's files blocked,
so that it falls back to the server: the debounce, the PNG encoding and the request, as every
reading took before. Both run in the same Chromium against the same server, alternating digit by
digit; this machine's speed drifts, so compare the medians of one run.

    python benchmarks/bench_browser.py                 # 60 digits each way
    python benchmarks/bench_browser.py --digits 200 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.service.conftest import running_server
from tests.web.test_app import draw

CHROMIUM = os.environ.get("INKDIGIT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

# after each pointerup: the time until the message shows a reading and a frame is painted
TIMER = """(() => {
  window.__latencies = [];
  let up = null;
  document.addEventListener('pointerup', () => { up = performance.now(); }, true);
  const start = () => {
    const message = document.getElementById('message');
    new MutationObserver(() => {
      if (up === null || !/^Read /.test(message.textContent)) return;
      const from = up;
      up = null;
      requestAnimationFrame(() => window.__latencies.push(performance.now() - from));
    }).observe(message, { childList: true, characterData: true, subtree: true });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();"""


def digit_strokes(count: int, seed: int) -> list[list[list[tuple[float, float]]]]:
    """``count`` MNIST test digits as strokes in canvas fractions (the digit 60 % of the canvas high,
    centred); digits that trace into more than four strokes (broken skeletons) are skipped."""
    import numpy as np

    from inkdigit.training.data import load_mnist
    from inkdigit.training.robustness.canvas import trace_strokes

    test = load_mnist("test")
    rng = np.random.default_rng(seed)
    out: list[list[list[tuple[float, float]]]] = []
    for i in rng.permutation(len(test.images)):
        strokes = [s for s in trace_strokes(test.images[i] / 255.0) if len(s) >= 2]  # in units of its height
        if not strokes or len(strokes) > 4:
            continue
        width = max(float(s[:, 0].max()) for s in strokes)
        left = 0.5 - 0.3 * width
        # every other point (the mouse moves in between), the last one kept
        out.append([[(left + 0.6 * float(x), 0.2 + 0.6 * float(y)) for x, y in [*s[:-1:2], s[-1]]]
                    for s in strokes])
        if len(out) == count:
            return out
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=60, help="digits drawn in each configuration")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    digits = digit_strokes(args.digits, args.seed)
    results: dict[str, list[float]] = {"page": [], "server": []}
    with running_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = {}
        for name in results:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            if name == "server":
                context.route("**/onnxruntime-web/**", lambda route: route.abort())
            context.add_init_script(TIMER)
            page = context.new_page()
            page.goto(url)
            reader = "page" if name == "page" else "server"
            page.wait_for_selector(f"#connection[data-state=online][data-reader={reader}]", timeout=30_000)
            pages[name] = page
        for strokes in digits:
            for name, page in pages.items():
                if page.get_by_test_id("clear-button").is_enabled():  # off on an empty canvas
                    page.get_by_test_id("clear-button").click()
                page.evaluate("window.__latencies = []")
                draw(page, strokes, steps=2)
                page.wait_for_function("() => window.__latencies.length >= 1", timeout=15_000)
                page.wait_for_timeout(50 if name == "page" else 300)  # let a late answer land before the next
                results[name].append(float(page.evaluate("window.__latencies[window.__latencies.length - 1]")))
        browser.close()
    summary = {name: {"n": len(v), "median_ms": round(statistics.median(v), 1),
                      "p90_ms": round(sorted(v)[int(0.9 * (len(v) - 1))], 1)} for name, v in results.items()}
    ratio = summary["server"]["median_ms"] / max(summary["page"]["median_ms"], 1e-9)
    print(f"{'reading':<10}{'n':>6}{'median ms':>12}{'p90 ms':>10}")
    for name, s in summary.items():
        print(f"{name:<10}{s['n']:>6}{s['median_ms']:>12}{s['p90_ms']:>10}")
    print(f"pen up to answer: the page alone is {ratio:.1f}× faster than asking the server")
    if args.json:
        print(json.dumps({"digits": args.digits, "seed": args.seed, **summary, "ratio": round(ratio, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
