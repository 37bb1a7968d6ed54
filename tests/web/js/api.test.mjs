import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  createClient, debounce, errorFrom, getModels, isNumberReading, isPrediction, ping, predictUrl, readBody, recognizeUrl,
} from "../../../src/inkdigit/web/static/js/api.mjs";
import { fakeTimers, manualFetch, numberReading, prediction, settle } from "./fakes.mjs";

const init = () => ({ method: "POST", body: "png" });

describe("predictUrl", () => {
  test("asks for all ten digits", () => {
    assert.equal(predictUrl(), "/api/v1/predict?top_k=10");
  });
  test("adds the stages and an encoded model name", () => {
    assert.equal(predictUrl({ debug: true, model: "knn small&x=1" }),
      "/api/v1/predict?top_k=10&debug=true&model=knn%20small%26x%3D1");
  });
  test("an empty model name lets the server choose", () => {
    assert.equal(predictUrl({ debug: false, model: "" }), "/api/v1/predict?top_k=10");
  });
});

describe("recognizeUrl and isNumberReading", () => {
  test("asks for three alternatives per digit, and the chosen model", () => {
    assert.equal(recognizeUrl(), "/api/v1/recognize?top_k=3");
    assert.equal(recognizeUrl({ model: "a b" }), "/api/v1/recognize?top_k=3&model=a%20b");
  });
  test("a number reading, a blank one and one with an unread piece are accepted", () => {
    assert.ok(isNumberReading(numberReading()));
    assert.ok(isNumberReading(numberReading({ text: "", formatted: "", is_empty: true, digits: [], separators: [] })));
    const unread = numberReading();
    unread.digits[1] = { ...unread.digits[1], digit: null, is_digit: false };
    assert.ok(isNumberReading(unread));
  });
  test("anything the page cannot draw is refused", () => {
    assert.ok(!isNumberReading(prediction())); // a single-digit answer is no number reading
    assert.ok(!isNumberReading(numberReading({ text: 417 })));
    assert.ok(!isNumberReading(numberReading({ digits: "417" })));
    const badBox = numberReading();
    badBox.digits[0] = { ...badBox.digits[0], box: [1, 2, 3] };
    assert.ok(!isNumberReading(badBox));
    const badDigit = numberReading();
    badDigit.digits[2] = { ...badDigit.digits[2], digit: "7" };
    assert.ok(!isNumberReading(badDigit));
    assert.ok(!isNumberReading(null));
  });
});

describe("errorFrom and readBody", () => {
  test("the service's error body gives code and message", () => {
    const body = { error: { code: "not_an_image", message: "The file is not an image." } };
    assert.deepEqual(errorFrom(415, body), { code: "not_an_image", message: "The file is not an image." });
  });
  test("a JSON body without an error object falls back to the status", () => {
    assert.deepEqual(errorFrom(500, { detail: "boom" }), { code: null, message: "Request failed (500)." });
    assert.deepEqual(errorFrom(502, null), { code: null, message: "Request failed (502)." });
    assert.deepEqual(errorFrom(400, { error: { code: "x" } }), { code: null, message: "Request failed (400)." });
    assert.deepEqual(errorFrom(400, { error: "text" }), { code: null, message: "Request failed (400)." });
  });
  test("a body that is not JSON says what the server answered", () => {
    assert.deepEqual(errorFrom(504, undefined, false), { code: null, message: "The server answered 504." });
  });
  test("readBody parses JSON and reports anything else as unparsed", async () => {
    assert.deepEqual(await readBody(new Response('{"a": 1}')), { parsed: true, body: { a: 1 } });
    assert.deepEqual(await readBody(new Response("<html>Bad gateway</html>", { status: 502 })), { parsed: false });
    assert.deepEqual(await readBody(new Response("")), { parsed: false });
  });
});

describe("isPrediction", () => {
  test("accepts the service's bodies", () => {
    assert.equal(isPrediction(prediction()), true);
    assert.equal(isPrediction(prediction({ is_digit: false, digit: null })), true);
    assert.equal(isPrediction({ is_empty: true, digit: null }), true);
  });
  test("rejects bodies the page could not show", () => {
    assert.equal(isPrediction(null), false);
    assert.equal(isPrediction([]), false);
    assert.equal(isPrediction(prediction({ probabilities: [1] })), false);
    assert.equal(isPrediction(prediction({ probabilities: Array(10).fill("0.1") })), false);
    assert.equal(isPrediction(prediction({ confidence: null })), false);
    assert.equal(isPrediction(prediction({ digit: null })), false);
    assert.equal(isPrediction(prediction({ elapsed_ms: undefined })), false);
  });
});

describe("createClient", () => {
  function setup() {
    const { fetch, calls } = manualFetch();
    const timers = fakeTimers();
    return { client: createClient({ fetch, timeoutMs: 5000, timers }), calls, timers };
  }

  test("a successful answer is returned with its body, and the timer is cleared", async () => {
    const { client, calls, timers } = setup();
    const pending = client.send("/api/v1/predict?top_k=10", init);
    await settle();
    assert.equal(calls.length, 1);
    assert.equal(calls[0].url, "/api/v1/predict?top_k=10");
    assert.equal(calls[0].init.method, "POST");
    assert.equal(calls[0].init.body, "png");
    assert.ok(calls[0].init.signal instanceof AbortSignal);
    calls[0].respond(200, prediction());
    assert.deepEqual(await pending, { kind: "ok", reached: true, body: prediction() });
    assert.equal(timers.pending, 0);
  });

  test("an error answer carries the service's message", async () => {
    const { client, calls } = setup();
    const pending = client.send("/u", init);
    await settle();
    calls[0].respond(415, { error: { code: "not_an_image", message: "The file is not an image." } });
    assert.deepEqual(await pending,
      { kind: "error", reached: true, code: "not_an_image", message: "The file is not an image." });
  });

  test("a 200 answer that is not a prediction is an error, not a crash", async () => {
    const { client, calls } = setup();
    const pending = client.send("/u", init);
    await settle();
    calls[0].respond(200, "<html>proxy login</html>");
    assert.deepEqual(await pending, { kind: "error", reached: true, code: null, message: "The server answered 200." });
    const second = client.send("/u", init);
    await settle();
    calls[1].respond(200, { hello: "world" });
    assert.equal((await second).kind, "error");
  });

  test("a number reading is checked with the check it is sent with", async () => {
    const { client, calls } = setup();
    const pending = client.send("/api/v1/recognize?top_k=3", init, isNumberReading);
    await settle();
    calls[0].respond(200, numberReading());
    assert.deepEqual(await pending, { kind: "ok", reached: true, body: numberReading() });
    const second = client.send("/api/v1/recognize?top_k=3", init, isNumberReading);
    await settle();
    calls[1].respond(200, prediction()); // a digit where a number was asked for
    assert.equal((await second).kind, "error");
  });

  test("a network failure means offline", async () => {
    const { client, calls } = setup();
    const pending = client.send("/u", init);
    await settle();
    calls[0].fail(new TypeError("Failed to fetch"));
    assert.deepEqual(await pending, { kind: "offline", reached: false });
  });

  test("a request slower than the timeout is aborted and reported as a timeout", async () => {
    const { client, calls, timers } = setup();
    const pending = client.send("/u", init);
    await settle();
    timers.advance(4999);
    assert.equal(calls[0].init.signal.aborted, false);
    timers.advance(1);
    assert.equal(calls[0].init.signal.aborted, true);
    assert.deepEqual(await pending, { kind: "timeout", reached: false });
  });

  test("the latest request wins: the older one is aborted and its late answer is stale", async () => {
    const { client, calls } = setup();
    const first = client.send("/first", init);
    await settle();
    const second = client.send("/second", init);
    await settle();
    assert.equal(calls[0].init.signal.aborted, true);
    assert.deepEqual(await first, { kind: "stale", reached: false });
    calls[1].respond(200, prediction({ digit: 1 }));
    assert.equal((await second).body.digit, 1);
  });

  test("an answer that arrives after a newer request started is stale even if it was not aborted", async () => {
    const { fetch, calls } = manualFetch();
    // a fetch that ignores abort signals, so the older answer really does arrive late
    const deaf = (url, options) => fetch(url, { ...options, signal: undefined });
    const client = createClient({ fetch: deaf, timers: fakeTimers() });
    const first = client.send("/first", init);
    await settle();
    const second = client.send("/second", init);
    await settle();
    calls[1].respond(200, prediction({ digit: 2 }));
    calls[0].respond(200, prediction({ digit: 1 }));
    assert.deepEqual(await first, { kind: "stale", reached: true });
    assert.equal((await second).body.digit, 2);
  });

  test("a request superseded while its body is still being made never reaches fetch's answer", async () => {
    const { client, calls } = setup();
    let release;
    const slowInit = () => new Promise((resolve) => { release = () => resolve(init()); });
    const first = client.send("/first", slowInit);
    const second = client.send("/second", init);
    await settle();
    release();
    await settle();
    calls.find((c) => c.url === "/second").respond(200, prediction());
    assert.equal((await first).kind, "stale");
    assert.equal((await second).kind, "ok");
  });

  test("cancel aborts the request in flight and makes its answer stale", async () => {
    const { client, calls } = setup();
    const pending = client.send("/u", init);
    await settle();
    client.cancel();
    assert.equal(calls[0].init.signal.aborted, true);
    assert.equal((await pending).kind, "stale");
  });
});

describe("createClient while the server keeps every read (signed in)", () => {
  function keeping() {
    const { fetch, calls } = manualFetch();
    const timers = fakeTimers();
    const discarded = [];
    const client = createClient({ fetch, timers, keep: () => true, discarded: (body) => discarded.push(body) });
    return { client, calls, timers, discarded };
  }

  test("a superseded request is not aborted: it completes, stale, and its answer is discarded", async () => {
    const { client, calls, discarded } = keeping();
    const first = client.send("/first", init);
    await settle();
    const second = client.send("/second", init);
    await settle();
    assert.equal(calls[0].init.signal.aborted, false);
    calls[0].respond(200, prediction({ id: 11 }));
    assert.deepEqual(await first, { kind: "stale", reached: true });
    assert.deepEqual(discarded.map((b) => b.id), [11]);
    calls[1].respond(200, prediction({ id: 12 }));
    assert.equal((await second).body.id, 12);
    assert.deepEqual(discarded.map((b) => b.id), [11]); // the answer shown is not discarded
  });

  test("cancel does not abort either; an error answer is not discarded", async () => {
    const { client, calls, discarded } = keeping();
    const pending = client.send("/u", init);
    await settle();
    client.cancel();
    assert.equal(calls[0].init.signal.aborted, false);
    calls[0].respond(500, { error: { code: "x", message: "boom" } });
    assert.equal((await pending).kind, "stale");
    assert.deepEqual(discarded, []);
  });

  test("a read slower than the timeout is reported as one, and its late answer is discarded", async () => {
    const { client, calls, timers, discarded } = keeping();
    const pending = client.send("/u", init);
    await settle();
    timers.advance(5000);
    assert.deepEqual(await pending, { kind: "timeout", reached: false });
    assert.equal(calls[0].init.signal.aborted, false);
    calls[0].respond(200, prediction({ id: 7 }));
    await settle();
    await settle();
    assert.deepEqual(discarded.map((b) => b.id), [7]);
  });
});

describe("getModels and ping", () => {
  const answering = (status, body) => async (url, options) => {
    answering.last = { url, options };
    return new Response(JSON.stringify(body), { status });
  };

  test("getModels returns the server's models, uncached", async () => {
    const models = [{ name: "cnn-v1", family: "cnn", default: true }, { name: "knn", family: "knn", default: false }];
    assert.deepEqual(await getModels(answering(200, { default: "cnn-v1", models })), models);
    assert.equal(answering.last.url, "/api/v1/models");
    assert.equal(answering.last.options.cache, "no-store");
  });
  test("getModels drops entries without a name and fails on a bad answer", async () => {
    const mixed = { models: [{ name: "a" }, null, { family: "x" }] };
    assert.deepEqual(await getModels(answering(200, mixed)), [{ name: "a" }]);
    await assert.rejects(getModels(answering(503, { models: [] })), /503/);
    await assert.rejects(getModels(answering(200, { models: "cnn" })), /no model list/);
  });
  test("ping is true only when /readyz answers OK (models loaded), and gives up on a hang", async () => {
    assert.equal(await ping(answering(200, { status: "ok" })), true);
    assert.equal(answering.last.url, "/readyz");
    assert.ok(answering.last.options.signal, "a hanging check is cut off");
    assert.equal(await ping(answering(503, {})), false);
    assert.equal(await ping(async () => { throw new TypeError("Failed to fetch"); }), false);
  });
});

describe("debounce", () => {
  test("calls once, after the last call of a burst, with its arguments", () => {
    const timers = fakeTimers();
    const seen = [];
    const f = debounce((x) => seen.push(x), 120, timers);
    f(1);
    timers.advance(100);
    f(2);
    timers.advance(100);
    f(3);
    timers.advance(119);
    assert.deepEqual(seen, []);
    timers.advance(1);
    assert.deepEqual(seen, [3]);
    timers.advance(1000);
    assert.deepEqual(seen, [3]);
    f(4);
    timers.advance(120);
    assert.deepEqual(seen, [3, 4]);
  });
  test("cancel drops the pending call", () => {
    const timers = fakeTimers();
    let calls = 0;
    const f = debounce(() => calls++, 50, timers);
    f();
    f.cancel();
    timers.advance(100);
    assert.equal(calls, 0);
    assert.equal(timers.pending, 0);
  });
});
