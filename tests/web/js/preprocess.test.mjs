import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { inflateSync } from "node:zlib";

import { VERSIONS, centre, normalise, preprocessCanvas, strokeWidth } from "../../../src/inkdigit/web/static/js/preprocess.mjs";
import {
  components, diskSpans, dilate5, fit, pairwiseSum, quantile, resize, roundHalfEven, shiftRows,
} from "../../../src/inkdigit/web/static/js/preprocess_ops.mjs";

// written by tests/web/make_preprocess_parity.py from Python's own preprocess()
const FIXTURE = JSON.parse(readFileSync(new URL("./fixtures/preprocess_parity.json", import.meta.url), "utf8"));
const CONFIG = FIXTURE.config;
const img = (h, w, values) => ({ h, w, data: Float32Array.from(values) });

/** A transparent RGBA canvas with the given alpha bytes (ink colour #111 where alpha > 0). */
function canvas(width, height, alphaAt) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = alphaAt(x, y), i = 4 * (y * width + x);
      if (a > 0) data.set([17, 17, 17, a], i);
    }
  }
  return { width, height, data };
}

describe("building blocks", () => {
  test("roundHalfEven rounds halves to the even neighbour, like Python's round", () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001, 7].map(roundHalfEven), [0, 2, 2, 0, -2, 2, 3, 7]);
  });

  test("pairwiseSum adds float32 in NumPy's order (8 accumulators), not one by one", () => {
    const a = Float32Array.from([16777216, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert.equal(pairwiseSum(a, 0, a.length, true), 16777224); // np.float32 sum; sequential gives 16777216
    assert.equal(pairwiseSum(a, 0, a.length, false), 16777224);
    const ones = new Float32Array(1000).fill(0.1);
    assert.equal(pairwiseSum(ones, 0, 1000, true), 100.00001525878906); // np.full(1000, 0.1, np.float32).sum()
    assert.equal(pairwiseSum(ones, 0, 3, true), Math.fround(Math.fround(Math.fround(0.1) * 2) + Math.fround(0.1)));
  });

  test("quantile is the element at int(q * (n - 1)) of the sorted values", () => {
    assert.equal(quantile([5, 1, 4, 2, 3], 0.5), 3);
    assert.equal(quantile([5, 1, 4, 2, 3], 0.99), 4);
    assert.equal(quantile([0, 0, 0, 7], 0.997), 0);
  });

  test("resize gives Pillow's BOX and BILINEAR results", () => {
    assert.deepEqual([...resize(img(1, 4, [0, 1, 2, 3]), 2, 1, false).data], [0.5, 2.5]);
    assert.deepEqual([...resize(img(1, 5, [0, 1, 2, 3, 4]), 3, 1, false).data], [0.5, 2, 3.5]);
    assert.deepEqual([...resize(img(1, 2, [0, 1]), 4, 1, true).data], [0, 0.25, 0.75, 1]);
    const tall = resize(img(2, 1, [0, 1]), 1, 4, true);
    assert.deepEqual([tall.h, tall.w, ...tall.data], [4, 1, 0, 0.25, 0.75, 1]);
  });

  test("fit scales the longer side to the target, rounding half to even, bilinear unless both shrink", () => {
    const a = fit(img(4, 2, [1, 1, 1, 1, 1, 1, 1, 1]), 2);
    assert.deepEqual([a.h, a.w], [2, 1]);
    const b = fit(img(128, 45, new Array(128 * 45).fill(1)), 64); // 45 / 2 = 22.5 → 22
    assert.deepEqual([b.h, b.w], [64, 22]);
  });

  test("components numbers pieces as OpenCV does: by the first 2×2 block in row-pair order", () => {
    const rows = [
      "0000011000",
      "1100000000",
      "0000000011",
      "0011000000",
      "0000000000",
    ];
    const mask = Uint8Array.from(rows.join(""), Number);
    const cc = components(mask, 5, 10);
    assert.equal(cc.count, 5);
    assert.deepEqual(rows.map((_, y) => [...cc.labels.subarray(y * 10, y * 10 + 10)].join("")), [
      "0000022000",
      "1100000000",
      "0000000044",
      "0033000000",
      "0000000000",
    ]);
    assert.deepEqual([...cc.area], [0, 2, 2, 2, 2]);
    assert.deepEqual([cc.left[4], cc.top[4], cc.width[4], cc.height[4]], [8, 2, 2, 1]);
  });

  test("components joins diagonal neighbours (8-connectivity) and merges U shapes", () => {
    const rows = ["10001", "01001", "00111"];
    const cc = components(Uint8Array.from(rows.join(""), Number), 3, 5);
    assert.equal(cc.count, 2);
    assert.equal(cc.area[1], 7);
  });

  test("dilate5 grows a mask by two pixels each way, clipped at the border", () => {
    const mask = new Uint8Array(36);
    mask[0] = 1;
    const out = dilate5(mask, 6, 6);
    assert.equal(out.reduce((s, v) => s + v, 0), 9);
    assert.equal(out[2 * 6 + 2], 1);
    assert.equal(out[3 * 6], 0);
  });

  test("diskSpans matches _disk: x² + y² <= r² + r / 2", () => {
    assert.deepEqual(diskSpans(1), [0, 1, 0]);
    assert.deepEqual(diskSpans(2), [1, 2, 2, 2, 1]);
  });

  test("shiftRows interpolates linearly and zeroes the samples straddling an edge", () => {
    const out = shiftRows(img(1, 3, [1, 2, 3]), [-1.5], 5);
    // x samples x - 1.5: x = 1 straddles the left edge (0), x = 2 → 1.5, x = 3 → 2.5, x = 4 straddles the right
    assert.deepEqual([...out.data], [0, 0, 1.5, 2.5, 0]); // as _shift_rows_reference gives

    assert.deepEqual([...shiftRows(img(1, 3, [1, 2, 3]), [-1], 5).data], [0, 1, 2, 3, 0]);
  });

  test("strokeWidth is 2 × area / boundary", () => {
    const bar = img(5, 12, new Array(60).fill(0).map((_, i) => (i >= 12 && i < 48 ? 1 : 0))); // 3 rows
    assert.equal(strokeWidth(bar), 2 * 36 / (36 - 10));
    assert.equal(strokeWidth(img(2, 2, [0, 0, 0, 0])), 0);
  });

  test("normalise maps a clean canvas's ink to [0, 1] and crops it with a one-pixel margin", () => {
    const data = new Float32Array(20 * 20);
    for (let y = 5; y < 9; y++) for (let x = 6; x < 12; x++) data[y * 20 + x] = 0.8;
    const out = normalise({ h: 20, w: 20, data }, 0.08);
    assert.deepEqual([out.h, out.w], [6, 8]);
    assert.equal(out.data[1 * 8 + 1], 1);
    assert.equal(out.data[0], 0);
    assert.equal(normalise({ h: 20, w: 20, data: new Float32Array(400).fill(0.05) }, 0.08), null);
  });

  test("centre puts the centre of mass at (14, 14), rounding half to even", () => {
    const out = centre(img(1, 4, [1, 1, 1, 1]), 28); // cx = 1.5: left = round(12.5) = 12, not 13
    assert.deepEqual([...out.data.subarray(14 * 28 + 11, 14 * 28 + 17)], [0, 1, 1, 1, 1, 0]);
    assert.equal(out.data.reduce((s, v) => s + v, 0), 4);
  });
});

describe("preprocessCanvas", () => {
  test("implements versions 2, 3 and 4 and refuses others", () => {
    assert.deepEqual(VERSIONS, ["2", "3", "4"]);
    const c = canvas(60, 60, () => 0);
    assert.equal(preprocessCanvas(c, { ...CONFIG, version: "1" }).supported, false);
    assert.equal(preprocessCanvas(c, { ...CONFIG, version: "5" }).supported, false);
    assert.equal(preprocessCanvas(c, { version: "3" }).supported, false);
  });

  test("reads v4 as v3: a transparent canvas is never a thumbnail, even a 12 px one", () => {
    const tiny = canvas(12, 12, (x, y) => (x > 3 && x < 8 && y > 1 && y < 10 ? 255 : 0));
    const v3 = preprocessCanvas(tiny, { ...CONFIG, version: "3" });
    const v4 = preprocessCanvas(tiny, { ...CONFIG, version: "4" });
    assert.equal(v3.supported, true);
    assert.deepEqual(v4, v3);
  });

  test("refuses a mostly opaque image (Python reads its colours, not its alpha)", () => {
    const r = preprocessCanvas(canvas(100, 100, () => 255), CONFIG);
    assert.equal(r.supported, false);
    assert.match(r.reason, /opaque/);
    assert.equal(preprocessCanvas(canvas(100, 100, (x) => (x < 60 ? 200 : 0)), CONFIG).supported, false);
  });

  test("a blank canvas is empty", () => {
    const r = preprocessCanvas(canvas(560, 560, () => 0), CONFIG);
    assert.deepEqual([r.supported, r.isEmpty, r.image.length, r.image.every((v) => v === 0)], [true, true, 784, true]);
  });

  test("a vertical bar becomes a centred, thickened bar", () => {
    const r = preprocessCanvas(canvas(560, 560, (x, y) => (x >= 270 && x < 276 && y >= 100 && y < 460 ? 255 : 0)), CONFIG);
    assert.equal(r.supported, true);
    assert.equal(r.isEmpty, false);
    const row = [...r.image.subarray(14 * 28, 15 * 28)];
    assert.ok(row[14] > 0.9 || row[13] > 0.9, `the bar crosses the middle row: ${row}`);
    assert.equal(row[5], 0);
    assert.equal(r.image[0], 0);
  });

  for (const c of FIXTURE.cases) {
    test(`reproduces Python on ${c.name}`, () => {
      const data = new Uint8ClampedArray(inflateSync(Buffer.from(c.rgba, "base64")));
      assert.equal(data.length, c.width * c.height * 4);
      const r = preprocessCanvas({ width: c.width, height: c.height, data }, CONFIG);
      assert.equal(r.supported, c.supported, r.reason);
      if (!c.supported) return;
      assert.equal(r.isEmpty, c.is_empty);
      const raw = Buffer.from(c.image, "base64");
      const expected = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - r.image[i]));
      assert.ok(worst <= 1e-6, `max |difference| ${worst}`); // measured: 0 on every case
    });
  }
});
