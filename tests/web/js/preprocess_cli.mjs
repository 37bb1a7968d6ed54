// preprocess_cli: runs preprocessCanvas over a batch of RGBA images, for the Python parity test
// (tests/web/test_preprocess_parity.py). `node preprocess_cli.mjs DIR` reads DIR/manifest.json
// ({config, images: [{width, height, offset, length}]}: each image's RGBA bytes, zlib-compressed,
// at offset in DIR/inputs.bin) and writes DIR/outputs.bin (float32, size × size per image, zeros
// where unsupported) and DIR/results.json ({results: [{supported, isEmpty, reason}], medianMs}:
// the median time preprocessCanvas took per image, decompression not included).

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";

import { preprocessCanvas } from "../../../src/inkdigit/web/static/js/preprocess.mjs";

const dir = process.argv[2];
const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
const inputs = readFileSync(join(dir, "inputs.bin"));
const size = manifest.config.size;
const out = new Float32Array(manifest.images.length * size * size);
const results = [];
const times = [];
manifest.images.forEach(({ width, height, offset, length }, k) => {
  const data = new Uint8ClampedArray(inflateSync(inputs.subarray(offset, offset + length)));
  const start = performance.now();
  const r = preprocessCanvas({ width, height, data }, manifest.config);
  times.push(performance.now() - start);
  if (r.supported) out.set(r.image, k * size * size);
  results.push({ supported: r.supported, isEmpty: r.supported ? r.isEmpty : null, reason: r.reason ?? null });
});
times.sort((a, b) => a - b);
writeFileSync(join(dir, "outputs.bin"), Buffer.from(out.buffer));
writeFileSync(join(dir, "results.json"), JSON.stringify({ results, medianMs: times[times.length >> 1] ?? 0 }));
