// The account pages' pure parts: the CSRF header, the API calls' outcomes, the header's links, where
// sign-in goes next, the history's words, the dashboard's figures and charts, the correction's words.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { call, historyQuery, OFFLINE } from "../../../src/inkdigit/web/static/js/accountapi.mjs";
import { ACCURACY_TERM, chartConfigs, chartSummary, isEmpty, scopeWords, shade, totals } from "../../../src/inkdigit/web/static/js/charts.mjs";
import { savedText } from "../../../src/inkdigit/web/static/js/correction.mjs";
import { entryText, pageText } from "../../../src/inkdigit/web/static/js/entries.mjs";
import { navLinks } from "../../../src/inkdigit/web/static/js/nav.mjs";
import { safeNext } from "../../../src/inkdigit/web/static/js/pagekit.mjs";
import { cookieValue, csrfHeaders, currentUser } from "../../../src/inkdigit/web/static/js/session.mjs";

describe("session", () => {
  test("the CSRF cookie's value is echoed in the header; no cookie, no header", () => {
    assert.equal(cookieValue("a=1; inkdigit_csrf=abc%3D; b=2", "inkdigit_csrf"), "abc=");
    assert.equal(cookieValue("xinkdigit_csrf=1", "inkdigit_csrf"), "");
    assert.deepEqual(csrfHeaders("inkdigit_csrf=tok"), { "X-CSRF-Token": "tok" });
    assert.deepEqual(csrfHeaders(""), {});
  });
  test("currentUser: the account, or null when signed out or unreachable", async () => {
    const user = { id: "1", email: "a@b.c", is_verified: true, is_admin: false };
    assert.deepEqual(await currentUser(async () => ({ ok: true, json: async () => user })), user);
    assert.equal(await currentUser(async () => ({ ok: false, status: 401, json: async () => ({}) })), null);
    assert.equal(await currentUser(async () => { throw new TypeError("offline"); }), null);
  });
});

describe("accountapi", () => {
  test("historyQuery sends only the filters set", () => {
    assert.equal(historyQuery({ offset: 20, limit: 20, digit: "4", corrected: "" }), "offset=20&limit=20&digit=4");
    assert.equal(historyQuery({ digit: 0, source: "canvas", kind: "number", corrected: "true" }),
      "offset=0&limit=20&digit=0&source=canvas&kind=number&corrected=true");
  });
  test("errors carry the service's message; no server, the offline message", async () => {
    const body = { error: { code: "bad_credentials", message: "The e-mail address or the password is wrong." } };
    const r = await call("POST", "/x", { form: { a: "1" }, fetch: async () => new Response(JSON.stringify(body), { status: 400 }) });
    assert.deepEqual(r, { ok: false, status: 400, code: "bad_credentials", message: body.error.message });
    const off = await call("GET", "/x", { fetch: async () => { throw new TypeError("x"); } });
    assert.equal(off.message, OFFLINE);
    const gone = await call("DELETE", "/x", { fetch: async () => new Response(null, { status: 204 }) });
    assert.deepEqual(gone, { ok: true, status: 204, body: null });
  });
  test("JSON bodies are sent as JSON", async () => {
    let seen;
    await call("PUT", "/c", { json: { label: "4" }, fetch: async (url, init) => { seen = init; return new Response("{}"); } });
    assert.equal(seen.headers["content-type"], "application/json");
    assert.equal(seen.body, '{"label":"4"}');
  });
});

test("the header's links follow who is signed in", () => {
  assert.deepEqual(navLinks(null).map((l) => l.text), ["Sign in", "Sign up"]);
  assert.deepEqual(navLinks({ email: "a@b.c" }).map((l) => l.href), ["/history", "/dashboard", "/account"]);
});

test("sign-in goes on only to a path of this site", () => {
  assert.equal(safeNext("/history"), "/history");
  for (const bad of ["//evil.example", "https://evil.example/", "/\\evil.example", "", "javascript:alert(1)"]) {
    assert.equal(safeNext(bad), "/", bad);
  }
});

test("history entries in words", () => {
  const e = { id: 3, created_at: "2025-01-02T03:04:05Z", kind: "digit", source: "canvas", answer: "7",
    confidence: 0.934, label: "4", corrected: true };
  const t = entryText(e);
  assert.equal(t.confidence, "93%");
  assert.equal(t.state, "corrected");
  assert.equal(t.stateText, "corrected: it is 4");
  assert.equal(t.source, "drawn");
  assert.equal(entryText({ ...e, label: "7", corrected: false }).stateText, "confirmed right");
  assert.equal(entryText({ ...e, label: null, corrected: false }).stateText, "not reviewed");
  assert.equal(entryText({ ...e, label: "", corrected: true }).stateText, "corrected: it is no digit");
  assert.equal(pageText(20, 5, 25), "21–25 of 25");
});

const STATS = {
  scope: "me", days: 2, users: null, readings: 3, labelled: 1, corrected: 1, accuracy: 2 / 3, reviewed_accuracy: 0,
  per_day: [{ date: "2025-01-01", readings: 0, corrected: 0, accuracy: null, median_ms: null },
    { date: "2025-01-02", readings: 3, corrected: 1, accuracy: 2 / 3, median_ms: 2.5 }],
  digits: [0, 0, 0, 0, 0, 0, 0, 3, 0, 0], sources: { canvas: 2, upload: 1, api: 0 }, kinds: { digit: 3, number: 0 },
  confusion: Array.from({ length: 10 }, () => Array(10).fill(0)), latency_ms: { median: 2.5, p90: 4 },
};

test("the dashboard's figures and charts", () => {
  const colors = { text: "#000", muted: "#555", line: "#ddd", accent: "#00f", bar: "#ccf", ok: "#0a0", warn: "#a60" };
  const configs = chartConfigs(STATS, colors);
  assert.deepEqual(Object.keys(configs), ["c-readings", "c-accuracy", "c-digits", "c-sources", "c-latency"]);
  assert.deepEqual(configs["c-readings"].data.labels, ["01-01", "01-02"]);
  assert.deepEqual(configs["c-accuracy"].data.datasets[0].data, [null, 2 / 3]);
  assert.deepEqual(configs["c-sources"].data.labels, ["drawn", "uploaded", "API"]);
  for (const c of Object.values(configs)) assert.equal(c.options.animation, false);
  assert.equal(totals(STATS).find((t) => t.term === ACCURACY_TERM).value, "66.7%");
  assert.equal(totals({ ...STATS, users: 5 })[0].value, "5");
  assert.match(chartSummary("c-digits", STATS), /most often 7/);
  assert.match(chartSummary("c-readings", STATS), /most on 2025-01-02 \(3\)/);
  assert.equal(shade(0, 0), 0);
  assert.equal(shade(2, 4), 0.5);
});

test("the correction's confirmation", () => {
  assert.equal(savedText("7", "4"), "Thanks: saved. It is 4.");
  assert.equal(savedText("7", "7"), "Thanks: saved as right (7).");
  assert.equal(savedText("7", ""), "Thanks: saved. It is no digit.");
});

describe("what a browser review asked for", () => {
  test("the main page's notice on arriving: only from its flags", async () => {
    const { landingNotice } = await import("../../../src/inkdigit/web/static/js/format.mjs");
    assert.equal(landingNotice("?signed-out"), "Signed out.");
    assert.equal(landingNotice("?deleted"), "Your account and its data were deleted.");
    assert.equal(landingNotice("?msg=Hello"), "");
    assert.equal(landingNotice(""), "");
  });
  test("a session that ended sends to sign in, and back", async () => {
    const { SESSION_ENDED, signInHref } = await import("../../../src/inkdigit/web/static/js/session.mjs");
    assert.match(SESSION_ENDED, /session has ended — sign in again/);
    assert.equal(signInHref("/history"), "/signin?next=/history");
    assert.equal(signInHref("//evil.example"), "/signin?next=/");
  });
  test("the dashboard's words follow whose readings it shows; no reading is an empty dashboard", () => {
    assert.match(scopeWords("me").accuracy, /your corrections/);
    for (const words of Object.values(scopeWords("all"))) assert.doesNotMatch(words, /your|you /);
    assert.match(ACCURACY_TERM, /unreviewed readings counted as right/);
    assert.ok(isEmpty({ readings: 0 }));
    assert.ok(!isEmpty({ readings: 2 }));
  });
  test("the number correction takes digits, perhaps grouped; nothing else", async () => {
    const { NUMBER_FIELD } = await import("../../../src/inkdigit/web/static/js/correction.mjs");
    for (const ok of ["", "417", "4 170", "1.000"]) assert.ok(NUMBER_FIELD.test(ok), ok);
    for (const bad of ["4a", "abc", "-1"]) assert.ok(!NUMBER_FIELD.test(bad), bad);
  });
});
