import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  HISTORY_KEY, HISTORY_MAX, createHistory, entryFor, entryForNumber, isEntry,
} from "../../../src/inkdigit/web/static/js/history.mjs";
import { safeStorage } from "../../../src/inkdigit/web/static/js/storage.mjs";
import { memoryStorage, numberReading, prediction } from "./fakes.mjs";

const THUMB = "data:image/png;base64,iVBORw0KGgo=";
const entry = (at, digit = 3, confidence = 0.9) => ({ digit, confidence, at, thumb: null });

describe("createHistory", () => {
  test("starts empty and stores entries newest first, as JSON under its key", () => {
    const storage = memoryStorage();
    const h = createHistory(storage);
    assert.deepEqual(h.load(), []);
    h.add(entry(1));
    const items = h.add(entry(2, 5));
    assert.deepEqual(items.map((x) => x.at), [2, 1]);
    assert.deepEqual(JSON.parse(storage.data.get(HISTORY_KEY)), items);
    assert.deepEqual(createHistory(storage).load(), items); // a reload finds them
  });

  test(`keeps only the newest ${HISTORY_MAX}`, () => {
    const storage = memoryStorage();
    const h = createHistory(storage);
    let items;
    for (let i = 1; i <= HISTORY_MAX + 7; i++) items = h.add(entry(i));
    assert.equal(items.length, HISTORY_MAX);
    assert.equal(items[0].at, HISTORY_MAX + 7);
    assert.equal(items.at(-1).at, 8);
    assert.equal(JSON.parse(storage.data.get(HISTORY_KEY)).length, HISTORY_MAX);
  });

  test("a smaller maximum and another key can be chosen", () => {
    const storage = memoryStorage();
    const h = createHistory(storage, { key: "k", max: 2 });
    h.add(entry(1)); h.add(entry(2)); h.add(entry(3));
    assert.deepEqual(JSON.parse(storage.data.get("k")).map((x) => x.at), [3, 2]);
    assert.equal(storage.data.has(HISTORY_KEY), false);
  });

  test("add with `replaces` swaps the drawing's old entry for the new one", () => {
    const h = createHistory(memoryStorage());
    h.add(entry(1));
    h.add(entry(2, 1));
    h.add(entry(3));
    const items = h.add(entry(4, 7), 2);
    assert.deepEqual(items.map((x) => [x.at, x.digit]), [[4, 7], [3, 3], [1, 3]]);
    assert.equal(h.add(entry(5), 99).length, 4); // nothing to replace: just added
  });

  test("update changes one entry in place", () => {
    const h = createHistory(memoryStorage());
    h.add(entry(1));
    h.add(entry(2));
    const items = h.update(1, { thumb: THUMB });
    assert.deepEqual(items.map((x) => x.thumb), [null, THUMB]);
    assert.deepEqual(h.update(42, { thumb: THUMB }), items); // gone meanwhile: nothing changes
  });

  test("clear empties it", () => {
    const storage = memoryStorage();
    const h = createHistory(storage);
    h.add(entry(1));
    assert.deepEqual(h.clear(), []);
    assert.deepEqual(createHistory(storage).load(), []);
  });

  test("unreadable storage reads as empty", () => {
    for (const stored of ["{not json", '"a string"', '{"at": 1}', "null", "42"]) {
      assert.deepEqual(createHistory(memoryStorage({ [HISTORY_KEY]: stored })).load(), [], stored);
    }
  });

  test("entries that are not well formed are dropped, the rest kept", () => {
    const good = { digit: null, confidence: 0.2, at: 5, thumb: THUMB };
    const stored = [
      good,
      { digit: "<img src=x onerror=alert(1)>", confidence: 0.9, at: 1, thumb: null },
      { digit: 3, confidence: "99%", at: 2, thumb: null },
      { digit: 3, confidence: 0.9, at: 3, thumb: "javascript:alert(1)" },
      { digit: 12, confidence: 0.9, at: 4, thumb: null },
      { digit: 3, confidence: 0.9, thumb: null },
      null,
    ];
    assert.deepEqual(createHistory(memoryStorage({ [HISTORY_KEY]: JSON.stringify(stored) })).load(), [good]);
  });

  test("when storage refuses writes, it shows what is really kept", () => {
    const kept = [entry(1)];
    const storage = memoryStorage({ [HISTORY_KEY]: JSON.stringify(kept) }, { failWrites: true });
    const h = createHistory(storage);
    assert.deepEqual(h.add(entry(2)), kept);
    assert.deepEqual(h.clear(), kept);
  });

  test("works through safeStorage when there is no storage at all", () => {
    const h = createHistory(safeStorage(() => { throw new DOMException("denied", "SecurityError"); }));
    assert.deepEqual(h.load(), []);
    assert.deepEqual(h.add(entry(1)), []);
  });
});

describe("entries", () => {
  test("entryFor keeps the digit only when it is one", () => {
    assert.deepEqual(entryFor(prediction(), THUMB, 10), { digit: 7, confidence: 0.95, at: 10, thumb: THUMB });
    assert.deepEqual(entryFor(prediction({ is_digit: false, digit: null, confidence: 0.3 }), null, 11),
      { digit: null, confidence: 0.3, at: 11, thumb: null });
  });
  test("isEntry accepts what entryFor makes", () => {
    assert.equal(isEntry(entryFor(prediction(), THUMB, 10)), true);
    assert.equal(isEntry(entryFor(prediction({ is_digit: false, digit: null }), null, 10)), true);
    assert.equal(isEntry({ ...entry(1), thumb: "data:image/svg+xml;base64,PHN2Zz4=" }), false);
  });
});

describe("numbers in the history", () => {
  test("a number reading becomes an entry with its text, kept across a reload", () => {
    const storage = memoryStorage();
    const e = entryForNumber(numberReading(), THUMB, 5);
    assert.deepEqual(e, { digit: null, text: "4 17", confidence: 0.9, at: 5, thumb: THUMB });
    createHistory(storage).add(e);
    assert.deepEqual(createHistory(storage).load(), [e]);
  });
  test("stored text that is not a number, or a number with a digit, is dropped", () => {
    const ok = { digit: null, text: "12.5", confidence: 0.5, at: 1, thumb: null };
    assert.ok(isEntry(ok));
    assert.ok(!isEntry({ ...ok, text: "<img src=x onerror=alert(1)>" }));
    assert.ok(!isEntry({ ...ok, text: "" }));
    assert.ok(!isEntry({ ...ok, text: "1".repeat(81) }));
    assert.ok(!isEntry({ ...ok, text: 12 }));
    assert.ok(!isEntry({ ...ok, digit: 3 }));
  });
});
