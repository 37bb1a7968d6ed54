// Test doubles for the web modules' injected dependencies: storage, timers and fetch.
// Not a test file itself (node --test picks up only *.test.mjs here).

export const STATIC = new URL("../../../src/inkdigit/web/static/", import.meta.url);
export const MODULES = new URL("js/", STATIC);

/** A Storage-like object backed by a Map; `failWrites` makes setItem throw as a full store does. */
export function memoryStorage(initial = {}, { failWrites = false } = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (key) => (data.has(key) ? data.get(key) : null),
    setItem(key, value) {
      if (failWrites) throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
      data.set(key, String(value));
    },
    removeItem: (key) => void data.delete(key),
  };
}

/** setTimeout/clearTimeout on a clock that moves only when `advance(ms)` is called. */
export function fakeTimers() {
  let now = 0;
  let nextId = 1;
  const pending = new Map();
  return {
    setTimeout(fn, ms) {
      const id = nextId++;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    advance(ms) {
      now += ms;
      const due = [...pending].filter(([, t]) => t.at <= now).sort((a, b) => a[1].at - b[1].at);
      for (const [id, t] of due) {
        pending.delete(id);
        t.fn();
      }
    },
    get pending() { return pending.size; },
  };
}

/**
 * A fetch whose answers the test gives by hand: each call is recorded as {url, init, respond,
 * fail}; aborting the call's signal rejects it with an AbortError, as browsers do.
 */
export function manualFetch() {
  const calls = [];
  const fetch = (url, init = {}) => new Promise((resolve, reject) => {
    const call = {
      url, init,
      respond: (status, body) => resolve(new Response(typeof body === "string" ? body : JSON.stringify(body),
        { status, headers: { "content-type": "application/json" } })),
      fail: (error) => reject(error),
    };
    if (init.signal) {
      if (init.signal.aborted) reject(new DOMException("This operation was aborted", "AbortError"));
      init.signal.addEventListener("abort", () => reject(new DOMException("This operation was aborted", "AbortError")));
    }
    calls.push(call);
  });
  return { fetch, calls };
}

/** Let pending promise callbacks run. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A prediction body as the service sends it. */
export function prediction(overrides = {}) {
  const probabilities = [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.95, 0.011, 0.011];
  return {
    digit: 7, confidence: 0.95, is_digit: true, is_empty: false, probabilities,
    top: [{ digit: 7, confidence: 0.95 }], model: "cnn-v1", elapsed_ms: 0.734, stages: null, ...overrides,
  };
}

/** A /recognize body as the service sends it: "4 17" read from three digits. */
export function numberReading(overrides = {}) {
  const digit = (d, confidence, box) => ({ digit: d, confidence, is_digit: true, box,
    top: [{ digit: d, confidence }, { digit: 9, confidence: 1 - confidence }] });
  return {
    text: "417", formatted: "4 17", confidence: 0.9, is_empty: false,
    digits: [digit(4, 0.98, [10, 5, 40, 60]), digit(1, 0.99, [90, 6, 12, 58]), digit(7, 0.93, [120, 4, 38, 61])],
    separators: [{ kind: "space", box: [50, 5, 40, 60], after: 1 }], model: "cnn-v4", elapsed_ms: 12.34, ...overrides,
  };
}
