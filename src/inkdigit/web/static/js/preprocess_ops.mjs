// preprocess_ops: the image operations `preprocess.mjs` is built from, each computing the same
// numbers as the Python code it mirrors (inkdigit.engine.preprocess and its compiled kernels), not
// merely similar ones: float32 where NumPy works in float32 (every result rounded with
// Math.fround), NumPy's pairwise summation order, Pillow's resampling loops, OpenCV's labelling
// order, Python's round-half-to-even. A difference of one float32 rounding can move a threshold
// or a rounded offset, and that moves a whole pixel.
// An image is {h, w, data: Float32Array (row-major)}; a mask is a Uint8Array of 0/1 beside its h, w.
// Pure functions, no DOM.

const f32 = Math.fround;
const same = (x) => x;

/** Python's round() of a float: halves go to the even neighbour (Math.round sends them up). */
export function roundHalfEven(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** NumPy's pairwise summation of a[off .. off + n) (its `pairwise_sum`: 8 accumulators, blocks of
 * 128); in float32 when `single`, as np.sum of a float32 array, else in float64. */
export function pairwiseSum(a, off, n, single) {
  const r = single ? f32 : same;
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = r(res + a[off + i]);
    return res;
  }
  if (n <= 128) {
    const acc = [];
    for (let j = 0; j < 8; j++) acc.push(r(a[off + j]));
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) acc[j] = r(acc[j] + a[off + i + j]);
    }
    let res = r(r(r(acc[0] + acc[1]) + r(acc[2] + acc[3])) + r(r(acc[4] + acc[5]) + r(acc[6] + acc[7])));
    for (; i < n; i++) res = r(res + a[off + i]);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return r(pairwiseSum(a, off, n2, single) + pairwiseSum(a, off + n2, n - n2, single));
}

/** _quantile: the element at int(q * (n - 1)) of the sorted values. */
export function quantile(values, q) {
  const sorted = Float32Array.from(values).sort();
  return sorted[Math.trunc(q * (sorted.length - 1))];
}

/** (y0, y1, x0, x1) of the pixels of `img` above `thr` (compared in float32), or null. */
export function bbox(img, thr) {
  const t = f32(thr);
  let y0 = img.h, y1 = -1, x0 = img.w, x1 = -1;
  for (let y = 0; y < img.h; y++) {
    const row = y * img.w;
    for (let x = 0; x < img.w; x++) {
      if (img.data[row + x] > t) {
        if (y < y0) y0 = y;
        y1 = y;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
  }
  return y1 < 0 ? null : [y0, y1 + 1, x0, x1 + 1];
}

/** img[y0:y1, x0:x1] as a new image. */
export function slice(img, y0, y1, x0, x1) {
  const h = y1 - y0, w = x1 - x0, data = new Float32Array(h * w);
  for (let y = 0; y < h; y++) data.set(img.data.subarray((y + y0) * img.w + x0, (y + y0) * img.w + x1), y * w);
  return { h, w, data };
}

/** `img` with `r` pixels of zeros around it (np.pad(a, r)). */
export function pad(img, r) {
  const h = img.h + 2 * r, w = img.w + 2 * r, data = new Float32Array(h * w);
  for (let y = 0; y < img.h; y++) data.set(img.data.subarray(y * img.w, (y + 1) * img.w), (y + r) * w + r);
  return { h, w, data };
}

/** np.clip(a, 0, 1) in place. */
export function clip01(img) {
  const d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] < 0 ? 0 : d[i] > 1 ? 1 : d[i];
  return img;
}

/** The 0/1 mask of the pixels above `thr` (compared in float32). */
export function above(img, thr) {
  const t = f32(thr), mask = new Uint8Array(img.data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = img.data[i] > t ? 1 : 0;
  return mask;
}

// ---- resize: Pillow's BOX / BILINEAR on mode F (the compiled `resize` kernel, Resample.c's loops) ----

function coefficients(inSize, outSize, bilinear) {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = (bilinear ? 1.0 : 0.5) * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const kk = new Float64Array(outSize * ksize), bounds = new Int32Array(outSize * 2);
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = 0.0 + (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5)); // C's (int) truncates toward zero
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const t = (x + xmin - center + 0.5) * ss;
      const w = bilinear ? (Math.abs(t) < 1.0 ? 1.0 - Math.abs(t) : 0.0) : (t > -0.5 && t <= 0.5 ? 1.0 : 0.0);
      kk[xx * ksize + x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) if (ww !== 0.0) kk[xx * ksize + x] /= ww;
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = xmax;
  }
  return { kk, bounds, ksize };
}

/** Image.fromarray(a, "F").resize((ow, oh), BILINEAR if bilinear else BOX): horizontal pass, then
 * vertical, each summed in double and rounded to float32 (a pass that keeps its size is skipped). */
export function resize(img, ow, oh, bilinear) {
  const { h, w } = img;
  const out = new Float32Array(oh * ow);
  const needH = ow !== w, needV = oh !== h;
  const ch = coefficients(w, ow, bilinear), cv = coefficients(h, oh, bilinear);
  let first = needV ? cv.bounds[0] : 0;
  const last = needV ? cv.bounds[2 * oh - 2] + cv.bounds[2 * oh - 1] : h;
  let vin = img.data;
  if (needH) {
    const hout = needV ? new Float32Array((last - first) * ow) : out;
    for (let yy = first; yy < last; yy++) {
      const row = yy * w, orow = (yy - first) * ow;
      for (let xx = 0; xx < ow; xx++) {
        const xmin = ch.bounds[2 * xx], xmax = ch.bounds[2 * xx + 1], k = xx * ch.ksize;
        let ss = 0.0;
        for (let x = 0; x < xmax; x++) ss += img.data[row + x + xmin] * ch.kk[k + x];
        hout[orow + xx] = ss;
      }
    }
    vin = hout;
  } else {
    first = 0;
  }
  if (needV) {
    for (let yy = 0; yy < oh; yy++) {
      const ymin = cv.bounds[2 * yy] - first, ymax = cv.bounds[2 * yy + 1], k = yy * cv.ksize;
      for (let xx = 0; xx < ow; xx++) {
        let ss = 0.0;
        for (let y = 0; y < ymax; y++) ss += vin[(y + ymin) * ow + xx] * cv.kk[k + y];
        out[yy * ow + xx] = ss;
      }
    }
  } else if (!needH) {
    out.set(img.data);
  }
  return { h: oh, w: ow, data: out };
}

/** _fit: scaled so its longer side is `side` (round half to even), by area averaging when both
 * sides shrink, else bilinear. */
export function fit(img, side) {
  const scale = side / Math.max(img.h, img.w);
  const ow = Math.max(1, roundHalfEven(img.w * scale)), oh = Math.max(1, roundHalfEven(img.h * scale));
  return resize(img, ow, oh, !(ow <= img.w && oh <= img.h));
}

// ---- morphology on masks and images (OpenCV's, with the border modes the Python code names) ----

/** How many pixels of `mask` survive cv2.erode with the 3×3 cross, zero border. */
export function crossInterior(mask, h, w) {
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (mask[i] && mask[i - 1] && mask[i + 1] && mask[i - w] && mask[i + w]) n++;
    }
  }
  return n;
}

/** cv2.dilate(mask, ones(3, 3), iterations=2), zero border: any set pixel in the 5×5 window. */
export function dilate5(mask, h, w) {
  const across = new Uint8Array(mask.length), out = new Uint8Array(mask.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let k = Math.max(0, x - 2); k <= Math.min(w - 1, x + 2) && !v; k++) v = mask[y * w + k];
      across[y * w + x] = v;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let k = Math.max(0, y - 2); k <= Math.min(h - 1, y + 2) && !v; k++) v = across[k * w + x];
      out[y * w + x] = v;
    }
  }
  return out;
}

/** _disk(r) as the half-width of each of its rows (dy = -r .. r). */
export function diskSpans(r) {
  const spans = [];
  for (let dy = -r; dy <= r; dy++) {
    let half = -1;
    for (let dx = 0; dx <= r; dx++) if (dx * dx + dy * dy <= r * r + r * 0.5) half = dx;
    spans.push(half);
  }
  return spans;
}

/** cv2.dilate(img, _disk(r)) where every pixel within r of the border is 0 (np.pad(a, r) first), so
 * BORDER_REFLECT only ever brings in zeros: the maximum over the disk, clipped to the image. */
export function dilateDisk(img, r) {
  const { h, w, data } = img, spans = diskSpans(r), out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let m = 0;
      for (let dy = -r; dy <= r; dy++) {
        const yy = y + dy, half = spans[dy + r];
        if (yy < 0 || yy >= h || half < 0) continue;
        const lo = Math.max(0, x - half), hi = Math.min(w - 1, x + half), row = yy * w;
        for (let xx = lo; xx <= hi; xx++) if (data[row + xx] > m) m = data[row + xx];
      }
      out[y * w + x] = m;
    }
  }
  return { h, w, data: out };
}

// ---- connected components (cv2.connectedComponentsWithStats, 8-connectivity) ----

/** Labels 1..count-1 of the 8-connected pieces of `mask` (0: background), numbered as OpenCV's
 * block-based labelling numbers them: by the first 2×2 block (rows by pairs, then columns) holding
 * a pixel of the piece (a piece's order decides ties among the largest). Returns {count, labels,
 * left, top, width, height, area} (the stats indexed by label). */
export function components(mask, h, w) {
  const labels = new Int32Array(h * w);
  const parent = new Int32Array(h * w + 1);
  const find = (a) => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]];
      a = parent[a];
    }
    return a;
  };
  const union = (a, b) => {
    a = find(a);
    b = find(b);
    if (a < b) parent[b] = a;
    else if (b < a) parent[a] = b;
    return a < b ? a : b;
  };
  let next = 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      let l = x > 0 ? labels[i - 1] : 0; // the neighbours scanned already: left, and the three above
      if (y > 0) {
        for (let k = x > 0 ? -1 : 0; k <= (x < w - 1 ? 1 : 0); k++) {
          const m = labels[i - w + k];
          if (m && m !== l) l = l ? union(l, m) : m;
        }
      }
      if (!l) {
        l = next++;
        parent[l] = l;
      }
      labels[i] = l;
    }
  }
  const blocksAcross = (w + 1) >> 1;
  const firstBlock = new Float64Array(next).fill(Infinity);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const l = labels[y * w + x];
      if (!l) continue;
      const root = find(l), key = (y >> 1) * blocksAcross + (x >> 1);
      if (key < firstBlock[root]) firstBlock[root] = key;
    }
  }
  const roots = [];
  for (let l = 1; l < next; l++) if (parent[l] === l) roots.push(l);
  roots.sort((a, b) => firstBlock[a] - firstBlock[b]);
  const final = new Int32Array(next);
  roots.forEach((root, k) => { final[root] = k + 1; });
  const count = roots.length + 1;
  const left = new Int32Array(count).fill(w), top = new Int32Array(count).fill(h);
  const right = new Int32Array(count).fill(-1), bottom = new Int32Array(count).fill(-1);
  const area = new Int32Array(count);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!labels[i]) continue;
      const l = final[find(labels[i])];
      labels[i] = l;
      area[l]++;
      if (x < left[l]) left[l] = x;
      if (x > right[l]) right[l] = x;
      if (y < top[l]) top[l] = y;
      if (y > bottom[l]) bottom[l] = y;
    }
  }
  const width = right.map((r, l) => r - left[l] + 1), height = bottom.map((b, l) => b - top[l] + 1);
  return { count, labels, left, top, width, height, area };
}

// ---- deskew's shear (the compiled `shift_rows` kernel) ----

/** Row y of the output samples row y of `img` at x + shifts[y], linearly interpolated in double,
 * 0 outside (and 0 for the one sample on each side that straddles an edge, as ndimage does). */
export function shiftRows(img, shifts, outW) {
  const { h, w, data } = img, out = new Float32Array(h * outW);
  for (let y = 0; y < h; y++) {
    const left = Math.floor(shifts[y]), frac = shifts[y] - left, row = y * w;
    for (let x = 0; x < outW; x++) {
      const j = left + x;
      if (frac > 0 && (j === -1 || j === w - 1)) continue;
      const v0 = j >= 0 && j < w ? data[row + j] : 0.0;
      const v1 = j + 1 >= 0 && j + 1 < w ? data[row + j + 1] : 0.0;
      out[y * outW + x] = v0 * (1.0 - frac) + v1 * frac;
    }
  }
  return { h, w: outW, data: out };
}
