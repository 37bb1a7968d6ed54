// preprocess: the digit of a canvas drawing in MNIST's 28×28 format, computed in the browser so
// the page can read it without a round trip. A port of inkdigit.engine.preprocess (versions 2,
// 3 and 4, preprocess_v2.digit) restricted to the one input the page has: opaque strokes on a TRANSPARENT
// ground, as `ctx.getImageData()` returns them. On that input Python reads the alpha channel alone
// (the colours never matter) and skips the steps for photos and enlarged scans, so the port is
// small; it computes the same float32 numbers step by step (see preprocess_ops.mjs), and a
// parity test (tests/web/test_preprocess_parity.py) holds it to Python's output on thousands of
// drawings.
//
// `preprocessCanvas({width, height, data}, config)`: `data` is RGBA bytes (a Uint8ClampedArray),
// `config` a model card's `preprocessing` object. Returns {supported: true, isEmpty, image} with
// `image` a Float32Array of size × size in [0, 1] (ink bright, row-major; zeros when `isEmpty`),
// or {supported: false, reason} for input off the path ported here (a mostly opaque image, which
// Python reads by its colours; a version not in VERSIONS; an image large enough that Python
// reduces it while decoding): the caller then asks the server. Pure, no DOM.

import {
  above, bbox, clip01, components, crossInterior, dilate5, dilateDisk, fit, pad, pairwiseSum, quantile,
  roundHalfEven, shiftRows, slice,
} from "./preprocess_ops.mjs";

/** The preprocessing versions this port implements (v1 thins thick strokes: not ported). v4 reads
 * as v3 but for opaque thumbnails (8×8 scans and their enlargements): a transparent canvas, the
 * one input ported here, is never one, so v4 is v3 here. */
export const VERSIONS = ["2", "3", "4"];

const f32 = Math.fround;
const BYTE = f32(1 / 255); // np.float32(1 / 255): an alpha byte's strength is byte * BYTE in float32
const REDUCE_FROM = 4_000_000; // imageio: images this large are reduced in 8 bits while decoding
const FIELDS = ["size", "box", "work", "stroke", "stroke_low", "stroke_high", "max_skew", "max_side",
  "min_contrast", "speck_ratio"];

const unsupported = (reason) => ({ supported: false, reason });

export function preprocessCanvas(imageData, config) {
  const { width: w, height: h, data } = imageData;
  if (!config || !VERSIONS.includes(String(config.version))) {
    return unsupported(`preprocessing version ${config?.version} is not ported (only ${VERSIONS.join(", ")})`);
  }
  const bad = FIELDS.find((k) => typeof config[k] !== "number" || !Number.isFinite(config[k]));
  if (bad) return unsupported(`the preprocessing config has no numeric ${bad}`);
  if (!(w >= 1 && h >= 1) || data.length !== w * h * 4) return unsupported("not an RGBA image");
  if (w * h >= REDUCE_FROM) return unsupported("an image this large is reduced in 8 bits while decoding");
  const found = alphaInk(data, w, h, config);
  if (found.unsupported) return unsupported(found.unsupported);
  const cfg = { ...config, version: Number(config.version) };
  const image = found.ink && digit(found.ink, cfg);
  return image
    ? { supported: true, isEmpty: false, image: image.data }
    : { supported: true, isEmpty: true, image: new Float32Array(cfg.size * cfg.size) };
}

/** plain_ink's alpha path, after _reduce: {ink} (cropped and normalised, or null when blank), or
 * {unsupported} when Python would not read the image from its alpha. */
function alphaInk(data, w, h, cfg) {
  const factor = Math.ceil(Math.max(h, w) / cfg.max_side);
  if (factor > 1) return reducedInk(data, w, h, factor, cfg);
  let y0 = h, y1 = -1, x0 = w, x1 = -1; // the box of every pixel with any opacity
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (data[4 * (y * w + x) + 3]) {
        if (y < y0) y0 = y;
        y1 = y;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
  }
  if (y1 < 0) return { ink: null }; // fully transparent
  const bh = y1 + 1 - y0, bw = x1 + 1 - x0, strength = new Float32Array(bh * bw);
  let opaque = 0, solid = 0;
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const b = data[4 * ((y + y0) * w + x + x0) + 3];
      opaque += b >= 128;
      solid += b > 128;
      strength[y * bw + x] = b * BYTE;
    }
  }
  const n = w * h;
  if (!(n - opaque > 0.02 * n && solid < 0.5 * n)) {
    return { unsupported: "mostly opaque: not strokes on a transparent canvas" };
  }
  return { ink: normalise({ h: bh, w: bw, data: strength }, cfg.min_contrast) };
}

/** _reduce's block means (float32, summed as NumPy sums them: each row of a block, then the rows),
 * then plain_ink's float alpha path on the whole reduced image. */
function reducedInk(data, w, h, factor, cfg) {
  const fy = Math.min(factor, h), fx = Math.min(factor, w);
  const rh = Math.floor(h / fy), rw = Math.floor(w / fx);
  if (fy >= 8 || fx >= 8 || rh < 2 || rw < 2) return { unsupported: "a reduction whose summation order is not ported" };
  const alpha = new Float32Array(rh * rw);
  let clear = 0, inked = 0;
  for (let y = 0; y < rh; y++) {
    for (let x = 0; x < rw; x++) {
      let acc = 0;
      for (let i = 0; i < fy; i++) {
        let part = 0;
        for (let j = 0; j < fx; j++) part = f32(part + f32(data[4 * ((y * fy + i) * w + x * fx + j) + 3] * BYTE));
        acc = f32(acc + part);
      }
      const v = f32(acc / (fy * fx));
      alpha[y * rw + x] = v;
      clear += v < 0.5;
      inked += v > 0.5;
    }
  }
  const n = rh * rw;
  if (!(clear / n > 0.02 && inked / n < 0.5)) return { unsupported: "mostly opaque: not strokes on a transparent canvas" };
  return { ink: normalise({ h: rh, w: rw, data: alpha }, cfg.min_contrast) };
}

/** _normalise (crop=True): background noise → 0, the digit's core → 1, cropped to the pixels above
 * the noise floor with a one-pixel margin; null if blank. */
export function normalise(img, minContrast) {
  const { h, w, data } = img;
  const step = Math.max(1, Math.trunc(Math.sqrt(data.length / 4096)));
  const sample = [];
  for (let y = 0; y < h; y += step) for (let x = 0; x < w; x += step) sample.push(data[y * w + x]);
  let peak = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > peak) peak = data[i];
  const top = Math.max(sample.length > 400 ? quantile(sample, 0.997) : peak, 0.5 * peak);
  if (top < minContrast) return null;
  const quietBelow = f32(0.25 * top);
  const quiet = sample.filter((v) => v < quietBelow);
  let floor = 0.18 * top;
  if (quiet.length && quiet.some((v) => v !== 0)) { // a clean ground (a canvas) has no noise to measure
    const med = quantile(quiet, 0.5);
    const mad = quantile(quiet.map((v) => Math.abs(f32(v - med))), 0.5);
    floor = Math.max(floor, med + 6.0 * 1.4826 * mad);
  }
  if (floor >= top * 0.9) return null;
  const box = bbox(img, floor);
  if (!box) return null;
  const region = slice(img, Math.max(0, box[0] - 1), Math.min(h, box[1] + 1), Math.max(0, box[2] - 1), Math.min(w, box[3] + 1));
  const lo = f32(floor), span = f32(top - floor), d = region.data;
  for (let i = 0; i < d.length; i++) d[i] = f32(f32(d[i] - lo) / span);
  return clip01(region);
}

/** preprocess_v2.digit from the ink on: the digit's pieces → crop → finish. */
function digit(ink, cfg) {
  const cleaned = selectDigit(ink, cfg);
  const box = cleaned && bbox(cleaned, 0.1);
  return box ? finish(slice(cleaned, ...box), cfg) : null;
}

/** select_digit(photo=False): drop specks, pieces far from the digit and printed boxes; v3 keeps
 * faint ink linked to a kept piece. */
export function selectDigit(ink, cfg) {
  const { h, w } = ink;
  const cc = components(above(ink, 0.35), h, w);
  const n = cc.count - 1;
  if (n === 0) return null;
  if (n === 1) return cc.area[1] >= 4 ? ink : null;
  const candidate = new Uint8Array(cc.count);
  for (let l = 1; l <= n; l++) candidate[l] = cc.area[l] >= 4;
  const encloses = (o, i) => cc.left[o] < cc.left[i] && cc.top[o] < cc.top[i]
    && cc.left[i] + cc.width[i] < cc.left[o] + cc.width[o] && cc.top[i] + cc.height[i] < cc.top[o] + cc.height[o];
  const initial = [];
  for (let l = 1; l <= n; l++) if (candidate[l]) initial.push(l);
  for (const l of initial) { // the candidates checked against change as boxes are dropped, as in Python
    if (!isBox(cc, l, w)) continue;
    for (let j = 1; j <= n; j++) {
      if (j !== l && candidate[j] && encloses(l, j)) {
        candidate[l] = 0;
        break;
      }
    }
  }
  let main = 0;
  for (let l = 1; l <= n; l++) if (candidate[l] && (!main || cc.area[l] > cc.area[main])) main = l;
  if (!main) return null;
  const largest = cc.area[main];
  const mx = cc.left[main], my = cc.top[main], mw = cc.width[main], mh = cc.height[main];
  const reach = 0.6 * Math.max(mw, mh);
  const keep = new Uint8Array(cc.count);
  for (let l = 1; l <= n; l++) {
    const gx = Math.max(0, Math.max(mx - (cc.left[l] + cc.width[l]), cc.left[l] - (mx + mw)));
    const gy = Math.max(0, Math.max(my - (cc.top[l] + cc.height[l]), cc.top[l] - (my + mh)));
    const near = Math.sqrt(gx * gx + gy * gy) <= reach; // np.hypot of whole numbers
    keep[l] = candidate[l] && cc.area[l] >= Math.max(2.0, cfg.speck_ratio * largest) && (near || cc.area[l] >= 0.3 * largest);
  }
  let kept = dilate5(cc.labels.map((l) => keep[l]), h, w);
  if (cfg.version >= 3) kept = withFaintLinks(ink, kept);
  const out = new Float32Array(h * w);
  for (let i = 0; i < out.length; i++) out[i] = kept[i] ? ink.data[i] : 0;
  return { h, w, data: out };
}

/** _is_box: piece `l` lies along its own bounding box (a printed frame, not a stroke). */
function isBox(cc, l, w) {
  const x = cc.left[l], y = cc.top[l], bw = cc.width[l], bh = cc.height[l];
  if (bw < 12 || bh < 12) return false;
  const band = Math.max(2, Math.trunc(0.1 * Math.min(bw, bh)));
  let inside = 0;
  for (let yy = y + band; yy < y + bh - band; yy++) {
    for (let xx = x + band; xx < x + bw - band; xx++) inside += cc.labels[yy * w + xx] === l;
  }
  return inside < 0.1 * cc.area[l];
}

/** _with_faint_links: `kept` grown over the faint ink (> 0.05) connected to it. */
function withFaintLinks(ink, kept) {
  const cc = components(above(ink, 0.05), ink.h, ink.w);
  const linked = new Uint8Array(cc.count);
  for (let i = 0; i < kept.length; i++) if (kept[i]) linked[cc.labels[i]] = 1;
  linked[0] = 0;
  return kept.map((k, i) => k || linked[cc.labels[i]]);
}

/** finish with v2's stroke rule (_thicken): working scale → thin strokes thickened → deskew →
 * 20 px box → centred by mass; null if nothing is left. */
function finish(region, cfg) {
  let crop = thicken(restoreContrast(fit(pad(region, 1), cfg.work)), cfg);
  if (cfg.deskew) crop = deskew(crop, cfg);
  const box = bbox(crop, 0.05);
  if (!box) return null;
  return centre(clip01(fit(slice(crop, ...box), cfg.box)), cfg.size);
}

/** restore_contrast: a line much thinner than a working pixel, shrunk faint, brought back to full. */
function restoreContrast(img) {
  const t = f32(0.02), inked = [];
  for (const v of img.data) if (v > t) inked.push(v);
  const peak = inked.length ? quantile(inked, 0.99) : 1.0;
  if (peak >= 0.9) return img;
  const by = f32(Math.max(peak, 0.05)), d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = f32(d[i] / by);
  return clip01(img);
}

/** stroke_width: 2 × ink area / boundary length. */
export function strokeWidth(img) {
  const mask = above(img, 0.5);
  let area = 0;
  for (const m of mask) area += m;
  if (area === 0) return 0.0;
  return 2.0 * area / Math.max(1, area - crossInterior(mask, img.h, img.w));
}

function thicken(img, cfg) {
  const width = strokeWidth(img);
  if (width > 0 && width < cfg.stroke * cfg.stroke_low) {
    const r = Math.max(1, roundHalfEven((cfg.stroke - width) / 2));
    return dilateDisk(pad(img, r), r);
  }
  return img;
}

/** _deskew: a horizontal shear that makes the principal axis vertical (moments; NumPy's float32
 * sums, float64 products). */
export function deskew(img, cfg) {
  const { h, w, data } = img;
  const total = pairwiseSum(data, 0, h * w, true);
  if (total <= 0) return img;
  const rows = new Float64Array(h), cols = new Float64Array(w);
  for (let y = 0; y < h; y++) rows[y] = pairwiseSum(data, y * w, w, true);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) cols[x] = f32(cols[x] + data[y * w + x]);
  let sy = 0, sx = 0;
  for (let y = 0; y < h; y++) sy += rows[y] * y;
  for (let x = 0; x < w; x++) sx += cols[x] * x;
  const cy = sy / total, cx = sx / total;
  let s02 = 0, s11 = 0;
  for (let y = 0; y < h; y++) s02 += rows[y] * ((y - cy) * (y - cy));
  for (let x = 0; x < w; x++) {
    let v = 0;
    for (let y = 0; y < h; y++) v += (y - cy) * data[y * w + x];
    s11 += v * (x - cx);
  }
  const mu02 = s02 / total, mu11 = s11 / total;
  if (mu02 < 1e-3) return img;
  const alpha = Math.min(Math.max(mu11 / mu02, -cfg.max_skew), cfg.max_skew);
  if (Math.abs(alpha) < 0.02) return img;
  const padding = Math.ceil(Math.abs(alpha) * h / 2) + 1;
  const shifts = new Float64Array(h);
  for (let y = 0; y < h; y++) shifts[y] = alpha * y - padding - alpha * cy;
  return shiftRows(img, shifts, w + 2 * padding);
}

/** _centre: `fitted` placed in a size × size frame with its centre of mass at the middle. */
export function centre(fitted, size) {
  const { h, w, data } = fitted;
  const out = new Float32Array(size * size);
  const total = pairwiseSum(data, 0, h * w, true);
  let cy = (h - 1) / 2, cx = (w - 1) / 2;
  if (total > 0) {
    const byY = new Float64Array(h * w), byX = new Float64Array(h * w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        byY[y * w + x] = data[y * w + x] * y;
        byX[y * w + x] = data[y * w + x] * x;
      }
    }
    cy = pairwiseSum(byY, 0, h * w, false) / total;
    cx = pairwiseSum(byX, 0, h * w, false) / total;
  }
  const top = Math.min(Math.max(roundHalfEven(size / 2 - cy), 0), size - h);
  const left = Math.min(Math.max(roundHalfEven(size / 2 - cx), 0), size - w);
  for (let y = 0; y < h; y++) out.set(data.subarray(y * w, (y + 1) * w), (top + y) * size + left);
  return { h: size, w: size, data: out };
}
