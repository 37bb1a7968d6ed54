import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { describe as describeAnswer, historyTime, historyView, percent, recallView }
  from "../../../src/inkdigit/web/static/js/format.mjs";
import { createHistory, isEntry } from "../../../src/inkdigit/web/static/js/history.mjs";
import { memoryStorage, prediction } from "./fakes.mjs";

const AT = Date.UTC(2026, 2, 14, 9, 26, 53);

describe("history entries as the page shows them", () => {
  test("the percentage is the answer panel's: 99.7 % stays 99.7 %, never 100 %", () => {
    const body = prediction({ confidence: 0.997 });
    const panel = describeAnswer(body).confidenceText;
    const view = historyView({ digit: 7, confidence: 0.997, at: AT, thumb: null });
    assert.equal(view.percentText.trim(), percent(0.997));
    assert.ok(panel.startsWith(view.percentText.trim()), `${panel} / ${view.percentText}`);
    assert.equal(view.percentText, " 99.7%");
  });

  test("each entry has its time: an ISO datetime and a local short time", () => {
    const t = historyTime(AT, AT + 60_000, "en-GB");
    assert.equal(t.datetime, new Date(AT).toISOString());
    assert.match(t.text, /^\d\d:\d\d$/);
    const older = historyTime(AT, AT + 3 * 86_400_000, "en-GB");
    assert.match(older.text, /Mar/); // another day: the date too
    assert.equal(historyTime("soon"), null);
    const view = historyView({ digit: 3, confidence: 0.5, at: AT, thumb: null }, AT, "en-GB");
    assert.deepEqual(view.time, historyTime(AT, AT, "en-GB"));
    assert.match(view.label, /^3, 50\.0 percent, read at \d\d:\d\d$/);
  });

  test("an entry opened again: digit, number and non-digit", () => {
    const digit = recallView({ digit: 7, confidence: 0.997, at: AT, thumb: null }, AT, "en-GB");
    assert.equal(digit.kind, "digit");
    assert.equal(digit.digitText, "7");
    assert.equal(digit.confidenceText, "99.7% sure");
    assert.equal(digit.probabilities, null);
    assert.match(digit.message, /^From the history: read at \d\d:\d\d\.$/);
    const none = recallView({ digit: null, confidence: 0.2, at: AT, thumb: null });
    assert.equal(none.digitText, "?");
    const number = recallView({ digit: null, text: "12 345", confidence: 0.9, at: AT, thumb: null });
    assert.equal(number.kind, "number");
    assert.equal(number.text, "12 345");
    assert.equal(number.confidenceText, "90.0% sure of every digit");
    assert.deepEqual(number.digits, []);
  });

  test("old stored entries (no extra fields) still load; malformed ones are dropped", () => {
    const storage = memoryStorage();
    const old = [{ digit: 4, confidence: 0.88, at: 1700000000000, thumb: null },
      { digit: null, text: "41 70", confidence: 0.7, at: 1700000000001, thumb: null },
      { digit: 4, confidence: 0.88, at: "yesterday", thumb: null }];
    storage.setItem("inkdigit.history", JSON.stringify(old));
    const items = createHistory(storage).load();
    assert.deepEqual(items, old.slice(0, 2));
    assert.ok(items.every(isEntry));
    assert.ok(historyView(items[0]).time); // their time comes from `at`
  });
});
