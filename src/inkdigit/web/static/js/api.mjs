// api: the HTTP client for the inkdigit service. `createClient({fetch, timeoutMs, timers})` sends
// predictions so that the latest request wins: each `send` aborts the one in flight (not while
// `keep()` says so: then it completes, and its answer goes to `discarded(body)`, as does one that
// arrives after its timeout), and an answer that arrives after a newer request started is reported
// as "stale" and never shown;
// a request that takes longer than `timeoutMs` is aborted and reported as "timeout". `send`
// resolves (never rejects) to an outcome {kind: "ok", body} | {kind: "error", code, message} |
// {kind: "offline"} | {kind: "timeout"} | {kind: "stale"}, with `reached: true` whenever the
// server answered at all. Error bodies are the service's `{"error": {"code", "message"}}`;
// anything else gets a message built from the HTTP status; `send(url, makeInit, accept)` checks the
// body with `accept` (`isPrediction` by default, `isNumberReading` for /recognize). `predictUrl`,
// `recognizeUrl`, `getModels` and `ping` cover the rest of the API, `debounce` delays a call until calls stop. Pure: fetch and
// the timers are injected (browser globals by default), nothing runs at import.

export const PREDICT_PATH = "/api/v1/predict";
export const RECOGNIZE_PATH = "/api/v1/recognize";
export const MODELS_PATH = "/api/v1/models";
export const HEALTH_PATH = "/healthz";
export const READY_PATH = "/readyz";

const globalFetch = (...args) => globalThis.fetch(...args);

const sourceParam = (source) => (source ? `&source=${encodeURIComponent(source)}` : "");

/** The predict URL: all ten probabilities, the stages when `debug`, the chosen model if any, and
 * where the image came from (`source`: "canvas" or "upload", kept with a signed-in user's history). */
export function predictUrl({ debug = false, model = "", source = "" } = {}) {
  return `${PREDICT_PATH}?top_k=10${debug ? "&debug=true" : ""}${model ? `&model=${encodeURIComponent(model)}` : ""}`
    + sourceParam(source);
}

/** The recognize (whole number) URL: three alternatives per digit, the chosen model if any, the source. */
export function recognizeUrl({ model = "", source = "" } = {}) {
  return `${RECOGNIZE_PATH}?top_k=3${model ? `&model=${encodeURIComponent(model)}` : ""}${sourceParam(source)}`;
}

/** The JSON body of a response: {parsed: true, body} or {parsed: false} when it is not JSON. */
export async function readBody(response) {
  try {
    return { parsed: true, body: await response.json() };
  } catch {
    return { parsed: false };
  }
}

/** {code, message} for a failed response: the service's own words when its error body has them. */
export function errorFrom(status, body, parsed = true) {
  if (!parsed) return { code: null, message: `The server answered ${status}.` };
  const error = body && typeof body === "object" ? body.error : null;
  if (error && typeof error === "object" && typeof error.message === "string" && error.message) {
    return { code: typeof error.code === "string" ? error.code : null, message: error.message };
  }
  return { code: null, message: `Request failed (${status}).` };
}

const isNumber = (x) => typeof x === "number" && Number.isFinite(x);

/** True when `body` has the fields the page shows (a blank answer needs only `is_empty`). */
export function isPrediction(body) {
  if (!body || typeof body !== "object" || typeof body.is_empty !== "boolean") return false;
  if (body.is_empty) return true;
  return typeof body.is_digit === "boolean" && isNumber(body.confidence) && typeof body.model === "string"
    && isNumber(body.elapsed_ms) && Array.isArray(body.probabilities) && body.probabilities.length === 10
    && body.probabilities.every(isNumber) && (!body.is_digit || Number.isInteger(body.digit));
}

const isBox = (b) => Array.isArray(b) && b.length === 4 && b.every(isNumber);

/** True when `body` is a /recognize answer the page can show: the text, and every digit's box. */
export function isNumberReading(body) {
  if (!body || typeof body !== "object" || typeof body.is_empty !== "boolean") return false;
  if (typeof body.text !== "string" || typeof body.formatted !== "string" || !isNumber(body.confidence)
    || typeof body.model !== "string" || !isNumber(body.elapsed_ms) || !Array.isArray(body.digits)
    || !Array.isArray(body.separators)) return false;
  return body.digits.every((d) => d && typeof d === "object" && isNumber(d.confidence) && isBox(d.box)
    && typeof d.is_digit === "boolean" && (d.digit === null || Number.isInteger(d.digit)) && Array.isArray(d.top));
}

export function createClient({
  fetch = globalFetch, timeoutMs = 5000, timers = globalThis, keep = () => false, discarded = () => {},
} = {}) {
  let sequence = 0;
  let inflight = null;
  const TIMEOUT = Symbol("timeout");

  return {
    /** Forget the request in flight (aborting it, unless `keep()`) without starting another. */
    cancel() {
      sequence++;
      if (inflight && !keep()) inflight.abort();
      inflight = null;
    },

    /** POST a prediction; `makeInit()` gives the method, headers and body (it may be async);
     * `accept(body)` says whether the answer is one the page can show. */
    async send(url, makeInit, accept = isPrediction) {
      const seq = ++sequence;
      // while `keep()` (signed in: every read the server answers is kept in the account's history),
      // a superseded request is not aborted: it completes, and its answer goes to `discarded`
      const keeping = Boolean(keep());
      if (inflight && !keeping) inflight.abort();
      const controller = new AbortController();
      inflight = controller;
      const stale = () => seq !== sequence;
      let timer = null;
      const timeout = new Promise((resolve) => {
        timer = timers.setTimeout(() => {
          if (!keeping) controller.abort();
          resolve(TIMEOUT);
        }, timeoutMs);
      });
      const exchange = (async () => {
        const init = await makeInit();
        const response = await fetch(url, { ...init, signal: controller.signal });
        return { response, ...(await readBody(response)) };
      })();
      exchange.catch(() => {}); // after a timeout, its failure is nobody's concern
      try {
        const got = await Promise.race([exchange, timeout]);
        if (got === TIMEOUT) {
          if (keeping) exchange.then((late) => { if (late.parsed && late.response.ok) discarded(late.body); }, () => {});
          return stale() ? { kind: "stale", reached: false } : { kind: "timeout", reached: false };
        }
        const { response, parsed, body } = got;
        if (stale()) {
          if (parsed && response.ok) discarded(body);
          return { kind: "stale", reached: true };
        }
        if (!response.ok || !parsed) {
          return { kind: "error", reached: true, ...errorFrom(response.status, body, parsed) };
        }
        if (!accept(body)) {
          return { kind: "error", reached: true, code: null, message: "The server's answer could not be read." };
        }
        return { kind: "ok", reached: true, body };
      } catch (err) {
        if (stale()) return { kind: "stale", reached: false };
        if (err && err.name === "AbortError") {
          // aborted by our timer: too slow; aborted by anything else (the page unloading): say nothing
          return controller.signal.aborted ? { kind: "timeout", reached: false } : { kind: "stale", reached: false };
        }
        return { kind: "offline", reached: false };
      } finally {
        timers.clearTimeout(timer);
        if (inflight === controller) inflight = null;
      }
    },
  };
}

/** The models the server offers (each {name, family, default, metrics, ...}); throws on failure. */
export async function getModels(fetch = globalFetch) {
  const response = await fetch(MODELS_PATH, { cache: "no-store" });
  if (!response.ok) throw new Error(`GET ${MODELS_PATH} answered ${response.status}`);
  const body = await response.json();
  if (!body || !Array.isArray(body.models)) throw new Error(`GET ${MODELS_PATH}: no model list`);
  return body.models.filter((m) => m && typeof m === "object" && typeof m.name === "string");
}

/** Whether the server is back to serving: its readiness check (the default model loaded), not its
 * liveness one, which answers before the models are loaded (a read sent then got a 503 that
 * nothing retried). A check that hangs counts as no answer after `timeoutMs`. */
export async function ping(fetch = globalFetch, timeoutMs = 5000) {
  try {
    const signal = typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(timeoutMs) : undefined;
    return (await fetch(READY_PATH, { cache: "no-store", signal })).ok;
  } catch {
    return false;
  }
}

/** `fn` called `ms` after the last of a burst of calls, with that call's arguments; `.cancel()` drops it. */
export function debounce(fn, ms, timers = globalThis) {
  let timer = null;
  const debounced = (...args) => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = timers.setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  debounced.cancel = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
  };
  return debounced;
}
