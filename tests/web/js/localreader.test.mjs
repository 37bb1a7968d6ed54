import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { connectionView, describe as describeAnswer } from "../../../src/inkdigit/web/static/js/format.mjs";
import {
  browserModel, createLocalReader, isFlatMark, predictionFrom, probabilitiesFrom,
} from "../../../src/inkdigit/web/static/js/localreader.mjs";
import { blobFromDataUrl } from "../../../src/inkdigit/web/static/js/drawing.mjs";
import { createPendingReads } from "../../../src/inkdigit/web/static/js/pendingreads.mjs";

const CARD = {
  preprocessing: { version: "3", size: 28, box: 20, work: 64, stroke: 8, stroke_low: 0.6, stroke_high: 1.7,
    deskew: true, max_skew: 0.6, max_side: 1024, min_contrast: 0.08, speck_ratio: 0.04 },
  calibration: { temperature: 2 },
  rejection: { min_confidence: 0, output: "digit_score", min_score: -8 },
  output: { name: "logits", kind: "logits" },
};
const model = (name, extra = {}) => ({ name, family: "cnn", default: false, personal: false, browser: true,
  preprocessing_version: "3", metrics: {}, ...extra });

describe("which model the page reads with", () => {
  const models = [model("cnn-v5", { default: true }), model("cnn-v1", { preprocessing_version: "1" }),
    model("knn", { browser: false }), model("mine", { personal: true })];
  test("the chosen one, or the server's default for the empty name", () => {
    assert.equal(browserModel(models, ""), "cnn-v5");
    assert.equal(browserModel(models, "cnn-v5"), "cnn-v5");
  });
  test("none for a version the port lacks, a model a browser cannot run, a personal or unknown model", () => {
    for (const name of ["cnn-v1", "knn", "mine", "nope"]) assert.equal(browserModel(models, name), null, name);
    assert.equal(browserModel([], ""), null);
    assert.equal(browserModel(null, ""), null);
  });
});

describe("the answer, as the server computes it", () => {
  test("a softmax of logits over the card's temperature", () => {
    const p = probabilitiesFrom([2, 0, 0, 0, 0, 0, 0, 0, 0, 0], CARD);
    const e = Math.exp(1);
    assert.ok(Math.abs(p[0] - e / (e + 9)) < 1e-12);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    const flat = probabilitiesFrom([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], { ...CARD, output: { kind: "probabilities" } });
    assert.deepEqual(flat, Array(10).fill(0.1));
  });
  test("a digit past the gate, the best first in `top`, rounded as the server rounds", () => {
    const body = predictionFrom({ raw: [0, 0, 0, 9, 0, 0, 0, 4, 0, 0], gate: -1 }, CARD, "cnn-v5", 1.23456789);
    assert.equal(body.digit, 3);
    assert.equal(body.is_digit, true);
    assert.equal(body.is_empty, false);
    assert.deepEqual(body.top.slice(0, 2).map((t) => t.digit), [3, 7]);
    assert.equal(body.top.length, 10);
    assert.equal(body.elapsed_ms, 1.234568);
    assert.equal(body.where, "browser");
    assert.equal(body.confidence, body.top[0].confidence);
  });
  test("below the gate's threshold it is no digit; a blank is empty", () => {
    const body = predictionFrom({ raw: [0, 0, 0, 9, 0, 0, 0, 0, 0, 0], gate: -8.5 }, CARD, "cnn-v5", 1);
    assert.equal(body.digit, null);
    assert.equal(body.is_digit, false);
    const blank = predictionFrom({ empty: true }, CARD, "cnn-v5", 0.5);
    assert.equal(blank.is_empty, true);
    assert.deepEqual(blank.top, []);
    assert.equal(describeAnswer(blank).empty, true);
  });
  test("a flat mark is a dash, no digit, however the gate scores it (the server's rule)", () => {
    const bar = new Float32Array(28 * 28);
    for (let r = 13; r < 16; r++) for (let c = 4; c < 24; c++) bar[r * 28 + c] = 1;  // 3 high, 20 wide
    assert.equal(isFlatMark(bar, 28), true);
    const two = new Float32Array(28 * 28);
    for (let r = 9; r < 19; r++) for (let c = 4; c < 24; c++) two[r * 28 + c] = 1;  // 10 high: a flat 2 is 0.5
    assert.equal(isFlatMark(two, 28), false);
    assert.equal(isFlatMark(new Float32Array(28 * 28), 28), false);
    const body = predictionFrom({ raw: [0, 0, 9, 0, 0, 0, 0, 0, 0, 0], gate: 5, flat: true }, CARD, "cnn-v5", 1);
    assert.equal(body.digit, null);
    assert.equal(body.is_digit, false);
  });
  test("the message says the page read it", () => {
    const body = predictionFrom({ raw: [0, 0, 0, 9, 0, 0, 0, 0, 0, 0], gate: 0 }, CARD, "cnn-v5", 2.04);
    assert.equal(describeAnswer(body).message, "Read in this page by cnn-v5 in 2.0 ms.");
    assert.equal(describeAnswer({ ...body, where: undefined }).message, "Read by cnn-v5 in 2.0 ms.");
  });
});

describe("the reader", () => {
  // a runtime whose session answers a fixed output and records what it was asked
  function fakes({ version = "3", fail = false } = {}) {
    const asked = [];
    const ort = {
      env: { wasm: {} },
      Tensor: class { constructor(type, data, dims) { Object.assign(this, { type, data, dims }); } },
      InferenceSession: {
        async create(bytes) {
          if (fail) throw new Error("no wasm");
          asked.push({ create: bytes.length });
          return {
            inputNames: ["image"], outputNames: ["logits", "digit_score", "piece_score"],
            async run(feeds, names) {
              asked.push({ dims: feeds.image.dims, names });
              return { logits: { data: Float32Array.from([0, 9, 0, 0, 0, 0, 0, 0, 0, 0]) },
                digit_score: { data: Float32Array.from([1]) } };
            },
          };
        },
      },
    };
    const fetched = [];
    const fetch = async (url) => {
      fetched.push(url);
      if (url.endsWith("/card")) return { ok: true, json: async () => ({ ...CARD, preprocessing: { ...CARD.preprocessing, version } }) };
      return { ok: true, arrayBuffer: async () => new ArrayBuffer(16) };
    };
    return { asked, fetched, reader: createLocalReader({ fetch, loadRuntime: async () => ort, now: () => 0 }) };
  }
  const models = [model("cnn-v5", { default: true })];
  // a 28×28 transparent canvas with an opaque vertical bar: a "1"
  function bar() {
    const data = new Uint8ClampedArray(56 * 56 * 4);
    for (let y = 8; y < 48; y++) for (let x = 26; x < 30; x++) data[4 * (y * 56 + x) + 3] = 255;
    return { width: 56, height: 56, data };
  }

  test("loads the card and the ONNX file once, and reads with the card's outputs", async () => {
    const { asked, fetched, reader } = fakes();
    assert.equal(await reader.prepare(models, ""), "cnn-v5");
    assert.equal(await reader.prepare(models, ""), "cnn-v5");
    assert.deepEqual(fetched, ["/api/v1/models/cnn-v5/card", "/api/v1/models/cnn-v5/onnx"]);
    assert.deepEqual(reader.files, fetched);
    const body = await reader.read(bar());
    assert.equal(body.digit, 1);
    assert.deepEqual(asked.at(-1), { dims: [1, 1, 28, 28], names: ["logits", "digit_score"] });
    const blank = await reader.read({ width: 56, height: 56, data: new Uint8ClampedArray(56 * 56 * 4) });
    assert.equal(blank.is_empty, true);
  });
  test("a dash drawn on the canvas is no digit, though the fake gate passes everything", async () => {
    const { reader } = fakes();
    await reader.prepare(models, "");
    const data = new Uint8ClampedArray(56 * 56 * 4);
    for (let y = 26; y < 30; y++) for (let x = 8; x < 48; x++) data[4 * (y * 56 + x) + 3] = 255;
    const body = await reader.read({ width: 56, height: 56, data });
    assert.equal(body.is_empty, false);
    assert.equal(body.is_digit, false);
    assert.equal(body.digit, null);
  });
  test("leaves to the server an opaque image, a card version it lacks, and a runtime that fails", async () => {
    const opaque = { width: 8, height: 8, data: new Uint8ClampedArray(8 * 8 * 4).fill(255) };
    const ok = fakes();
    await ok.reader.prepare(models, "");
    assert.equal(await ok.reader.read(opaque), null);
    for (const f of [fakes({ version: "1" }), fakes({ fail: true })]) {
      assert.equal(await f.reader.prepare(models, ""), null);
      assert.equal(f.reader.ready, false);
      assert.equal(await f.reader.read(bar()), null);
    }
  });
});

test("the last choice wins: a model chosen earlier and loaded later is not used, nor read with meanwhile", async () => {
  let release;
  const slow = new Promise((r) => { release = r; });
  const ort = { env: { wasm: {} }, Tensor: class {},
    InferenceSession: { create: async () => ({ inputNames: ["image"], outputNames: ["logits"], run: async () => ({}) }) } };
  const fetch = async (url) => {
    if (url.includes("/a/")) await slow;
    return url.endsWith("/card") ? { ok: true, json: async () => CARD } : { ok: true, arrayBuffer: async () => new ArrayBuffer(4) };
  };
  const reader = createLocalReader({ fetch, loadRuntime: async () => ort, now: () => 0 });
  const list = [model("a", { default: true }), model("b")];
  const first = reader.prepare(list, "a");
  assert.equal(reader.ready, false); // nothing read with until "a" is loaded
  assert.equal(await reader.prepare(list, "b"), "b");
  release();
  assert.equal(await first, null);
  assert.equal(reader.model, "b");
});

describe("the connection badge", () => {
  test("says who reads, and stays hopeful offline when the page reads", () => {
    const view = (online, here) => { const { state, text } = connectionView(online, here); return { state, text }; };
    assert.deepEqual(view(true, false), { state: "online", text: "connected" });
    assert.deepEqual(view(true, true), { state: "online", text: "reading here" });
    assert.deepEqual(view(false, false), { state: "offline", text: "server unreachable" });
    assert.deepEqual(view(false, true), { state: "offline", text: "offline · reading here" });
    assert.equal(view(null, false).state, "unknown");
    assert.match(connectionView(true, true).title, /read in this page/);
  });
});

describe("drawings kept for a signed-in user's history", () => {
  const memory = () => { const m = new Map(); return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v) }; };

  test("one entry per drawing, per account; sent oldest first; a failure keeps the rest", async () => {
    const storage = memory();
    const pending = createPendingReads({ storage });
    pending.put({ user: "ada", drawing: 1, png: "data:image/png;base64,AA==", at: 1 });
    pending.put({ user: "ada", drawing: 1, png: "data:image/png;base64,AQ==", at: 2 }); // the same drawing, again
    pending.put({ user: "bob", drawing: 1, png: "data:image/png;base64,Ag==", at: 3 });
    pending.put({ user: "ada", drawing: 2, png: "data:image/png;base64,Aw==", at: 4 });
    assert.equal(pending.count("ada"), 2);
    const sent = [];
    let fail = true;
    assert.equal(await pending.flush("ada", async (e) => { sent.push(e.at); return !(fail && e.at === 4); }), 1);
    assert.deepEqual(sent, [2, 4]);
    assert.equal(pending.count("ada"), 1);
    fail = false;
    assert.equal(await pending.flush("ada", async () => true), 1);
    assert.equal(pending.count("ada"), 0);
    assert.equal(pending.count("bob"), 1); // another account's drawing is never sent for this one
    pending.drop("bob", 1);
    assert.equal(pending.count("bob"), 0);
  });
  test("at most `limit` entries, the oldest dropped; a thrown send counts as a failure", async () => {
    const pending = createPendingReads({ storage: memory(), limit: 3 });
    for (let i = 0; i < 5; i++) pending.put({ user: "ada", drawing: i, png: "data:,", at: i });
    assert.equal(pending.count("ada"), 3);
    assert.equal(await pending.flush("ada", async () => { throw new Error("offline"); }), 0);
    assert.equal(pending.count("ada"), 3);
  });
  test("a data URL becomes the bytes it holds", async () => {
    const blob = blobFromDataUrl("data:image/png;base64,iVBORw==");
    assert.equal(blob.type, "image/png");
    assert.deepEqual([...new Uint8Array(await blob.arrayBuffer())], [0x89, 0x50, 0x4e, 0x47]);
  });
});
