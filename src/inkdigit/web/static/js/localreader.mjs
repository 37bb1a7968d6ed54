// localreader: reads drawings in the page, with the server's own model, so that live answers need
// no round trip and the page keeps reading with no connection (issue 17). The model card is the
// contract: the page reads with a model only when the server lists it as `browser` capable and
// the card names a preprocessing version that preprocess.mjs implements; anything else (an
// upload, a number, a model or an input the port does not cover) goes to the server.
// `createLocalReader({fetch, loadRuntime, now})` returns `{prepare(models, chosen), read(imageData),
// model, ready, files}`: `prepare` loads (once per model) the card and the ONNX file the server hands out
// (GET /api/v1/models/{name}/card and /onnx; the service worker keeps both for offline use) into
// ONNX Runtime Web, and resolves to the model's name or null; `read` resolves to the body the
// server's POST /api/v1/predict would answer (PredictResponse's fields, `where: "browser"` added),
// or null when this input is not one the port reads exactly (then the server must). The pure
// parts, `browserModel` and `predictionFrom`, need no browser; nothing runs at import.

import { VERSIONS, preprocessCanvas } from "./preprocess.mjs";
import { bbox } from "./preprocess_ops.mjs";

export const RUNTIME_URL = "/static/vendor/onnxruntime-web/ort.wasm.min.mjs";
export const TOP_K = 10; // as the page asks the server (predictUrl)

const round6 = (x) => Math.round(x * 1e6) / 1e6;

/** The model the page can read with itself, among GET /api/v1/models' `models`: the chosen one
 * (the picker's value; "" is the server's default), if a browser can run it and its card's
 * preprocessing is one this port implements; else null. */
export function browserModel(models, chosen = "") {
  const list = Array.isArray(models) ? models : [];
  const model = chosen ? list.find((m) => m.name === chosen) : list.find((m) => m.default);
  if (!model || model.browser !== true || model.personal) return null; // a personal model stays with the server
  return VERSIONS.includes(String(model.preprocessing_version)) ? model.name : null;
}

/** Calibrated probabilities from the model's raw output, as the server's Recognizer computes them:
 * a softmax of logits / temperature (in doubles), or probabilities renormalised. */
export function probabilitiesFrom(raw, card) {
  const values = Array.from(raw, Number);
  if (card.output && card.output.kind === "probabilities") {
    const total = Math.max(values.reduce((a, b) => a + b, 0), 1e-12);
    return values.map((v) => v / total);
  }
  const t = Number(card.calibration && card.calibration.temperature) || 1;
  const z = values.map((v) => v / t);
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

/** A preprocessed mark (size × size, ink bright) less than FLAT_MARK high per unit of width: a dash
 * or a rule, never a digit (the server's rule, `is_flat_mark` in engine/recognizer.py). */
export const FLAT_MARK = 0.25;
const MARK_INK = 0.1; // what counts as ink when the mark is measured (_MARK_INK in recognizer.py)
export function isFlatMark(image, size) {
  const box = bbox({ h: size, w: size, data: image }, MARK_INK);
  if (box === null) return false;
  const [y0, y1, x0, x1] = box;
  return y1 - y0 < FLAT_MARK * (x1 - x0);
}

/** The /predict body for one reading: `raw` the model's class output, `gate` its digit-or-not
 * score (or null when the card names none), `empty` when preprocessing found no ink, `flat` when
 * the mark is a dash (isFlatMark). */
export function predictionFrom({ raw, gate = null, empty = false, flat = false }, card, model, elapsedMs, topK = TOP_K) {
  if (empty) {
    return { digit: null, confidence: 0, is_digit: false, is_empty: true, probabilities: Array(10).fill(0.1),
      top: [], model, elapsed_ms: round6(elapsedMs), stages: null, where: "browser" };
  }
  const probs = probabilitiesFrom(raw, card);
  let best = 0;
  for (let d = 1; d < probs.length; d++) if (probs[d] > probs[best]) best = d;
  const confidence = probs[best];
  const rejection = card.rejection || {};
  const isDigit = confidence >= Number(rejection.min_confidence || 0)
    && (gate === null || gate >= Number(rejection.min_score)) && !flat;
  const order = probs.map((p, d) => [d, p]).sort((a, b) => b[1] - a[1]).slice(0, topK);
  return {
    digit: isDigit ? best : null, confidence: round6(confidence), is_digit: isDigit, is_empty: false,
    probabilities: probs.map(round6), top: order.map(([d, p]) => ({ digit: d, confidence: round6(p) })),
    model, elapsed_ms: round6(elapsedMs), stages: null, where: "browser",
  };
}

export function createLocalReader({ fetch = (...a) => globalThis.fetch(...a), loadRuntime = () => import(RUNTIME_URL),
  now = () => performance.now() } = {}) {
  let current = null; // {name, card, session, ort} once loaded
  let wanted = null; // the model the last prepare() asked for
  const loading = new Map(); // name -> the promise of its load, while loading

  async function load(name) {
    const ort = await loadRuntime();
    ort.env.wasm.numThreads = 1; // no cross-origin isolation, no threads: one is all a 28×28 image needs
    const base = `/api/v1/models/${encodeURIComponent(name)}`;
    const cardResponse = await fetch(`${base}/card`);
    if (!cardResponse.ok) throw new Error(`card: ${cardResponse.status}`);
    const card = await cardResponse.json();
    if (!VERSIONS.includes(String(card.preprocessing && card.preprocessing.version))) return null;
    const onnx = await fetch(`${base}/onnx`);
    if (!onnx.ok) throw new Error(`onnx: ${onnx.status}`);
    const session = await ort.InferenceSession.create(new Uint8Array(await onnx.arrayBuffer()),
      { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    return { name, card, session, ort };
  }

  /** Load the model to read with (see browserModel); resolves to its name, or null (none, or it
   * could not be loaded: then the server reads, and a later call tries again). */
  async function prepare(models, chosen = "") {
    const name = browserModel(models, chosen);
    wanted = name; // the latest call decides: an earlier one's load, finishing later, is not used
    if (!name) { current = null; return null; }
    if (current && current.name === name) return name;
    current = null; // until the new model is loaded, the server reads (never the model chosen before)
    if (!loading.has(name)) loading.set(name, load(name).catch(() => null).finally(() => loading.delete(name)));
    const loaded = await loading.get(name);
    if (wanted !== name) return null;
    current = loaded;
    return loaded ? name : null;
  }

  /** Read a canvas's pixels ({width, height, data}); null when the server must read this input. */
  async function read(imageData) {
    const model = current;
    if (!model) return null;
    const start = now();
    const pre = preprocessCanvas(imageData, model.card.preprocessing);
    if (!pre.supported) return null;
    if (pre.isEmpty) return predictionFrom({ empty: true }, model.card, model.name, now() - start);
    const { session, ort, card } = model;
    const outputName = (card.output && card.output.name) || session.outputNames[0];
    const gateName = (card.rejection && card.rejection.output) || null;
    const input = new ort.Tensor("float32", pre.image, [1, 1, card.preprocessing.size, card.preprocessing.size]);
    const outputs = await session.run({ [session.inputNames[0]]: input }, gateName ? [outputName, gateName] : [outputName]);
    const gate = gateName ? Number(outputs[gateName].data[0]) : null;
    const flat = isFlatMark(pre.image, card.preprocessing.size);
    return predictionFrom({ raw: outputs[outputName].data, gate, flat }, card, model.name, now() - start);
  }

  return {
    prepare, read,
    get model() { return current ? current.name : null; },
    get ready() { return current !== null; },
    /** The URLs the current model was loaded from (what the service worker must keep for offline use). */
    get files() {
      if (!current) return [];
      const base = `/api/v1/models/${encodeURIComponent(current.name)}`;
      return [`${base}/card`, `${base}/onnx`];
    },
  };
}
