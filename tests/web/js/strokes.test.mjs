import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createStrokes, shortcut, toCanvasPoint, trace } from "../../../src/inkdigit/web/static/js/strokes.mjs";

const p = (x, y) => ({ x, y });

describe("createStrokes", () => {
  test("starts empty, with nothing to undo or redo", () => {
    const s = createStrokes();
    assert.equal(s.isEmpty, true);
    assert.equal(s.canUndo, false);
    assert.equal(s.canRedo, false);
    assert.equal(s.drawing, false);
    assert.equal(s.undo(), false);
    assert.equal(s.redo(), false);
  });

  test("a stroke collects points from begin to end", () => {
    const s = createStrokes();
    s.begin(18, p(1, 2));
    assert.equal(s.drawing, true);
    assert.equal(s.extend([p(3, 4), p(5, 6)]), true);
    assert.equal(s.end(), true);
    assert.equal(s.drawing, false);
    assert.deepEqual(s.strokes, [{ width: 18, points: [p(1, 2), p(3, 4), p(5, 6)] }]);
  });

  test("points and ends without a stroke in progress are ignored", () => {
    const s = createStrokes();
    assert.equal(s.extend([p(1, 1)]), false);
    assert.equal(s.end(), false);
    s.begin(4, p(0, 0));
    s.end();
    assert.equal(s.extend([p(9, 9)]), false);
    assert.equal(s.end(), false); // pointerup after lostpointercapture: one stroke, one end
    assert.deepEqual(s.strokes[0].points, [p(0, 0)]);
  });

  test("undo and redo replay strokes in order", () => {
    const s = createStrokes();
    for (const x of [1, 2, 3]) { s.begin(x, p(x, x)); s.end(); }
    assert.equal(s.undo(), true);
    assert.equal(s.undo(), true);
    assert.deepEqual(s.strokes.map((x) => x.width), [1]);
    assert.equal(s.canRedo, true);
    assert.equal(s.redo(), true);
    assert.deepEqual(s.strokes.map((x) => x.width), [1, 2]);
    assert.equal(s.redo(), true);
    assert.equal(s.redo(), false);
    assert.deepEqual(s.strokes.map((x) => x.width), [1, 2, 3]);
  });

  test("a new stroke forgets what was undone", () => {
    const s = createStrokes();
    s.begin(1, p(0, 0)); s.end();
    s.begin(2, p(0, 0)); s.end();
    s.undo();
    s.begin(3, p(0, 0)); s.end();
    assert.equal(s.canRedo, false);
    assert.deepEqual(s.strokes.map((x) => x.width), [1, 3]);
  });

  test("undo in the middle of a stroke stops it", () => {
    const s = createStrokes();
    s.begin(1, p(0, 0));
    s.undo();
    assert.equal(s.drawing, false);
    assert.equal(s.extend([p(5, 5)]), false);
    assert.equal(s.redo(), true);
    assert.deepEqual(s.strokes[0].points, [p(0, 0)]);
  });

  test("clear removes strokes and the redo list", () => {
    const s = createStrokes();
    s.begin(1, p(0, 0)); s.end();
    s.begin(2, p(0, 0)); s.end();
    s.undo();
    s.clear();
    assert.equal(s.isEmpty, true);
    assert.equal(s.canRedo, false);
  });
});

function recordingContext() {
  const calls = [];
  const ctx = new Proxy({ calls }, {
    get(target, name) {
      if (name in target) return target[name];
      return (...args) => calls.push([name, ...args]);
    },
    set(target, name, value) {
      calls.push([`set ${String(name)}`, value]);
      return true;
    },
  });
  return ctx;
}

describe("trace", () => {
  test("a tap is a filled dot as wide as the stroke", () => {
    const ctx = recordingContext();
    trace(ctx, { width: 20, points: [p(10, 30)] }, "#111");
    const ops = ctx.calls.filter(([name]) => !name.startsWith("set "));
    assert.deepEqual(ops, [["beginPath"], ["arc", 10, 30, 10, 0, Math.PI * 2], ["fill"]]);
    assert.ok(ctx.calls.some(([n, v]) => n === "set fillStyle" && v === "#111"));
  });

  test("a line curves through the midpoints between its points and ends on the last one", () => {
    const ctx = recordingContext();
    trace(ctx, { width: 8, points: [p(0, 0), p(10, 0), p(10, 10), p(20, 10)] }, "white");
    const ops = ctx.calls.filter(([name]) => !name.startsWith("set "));
    assert.deepEqual(ops, [
      ["beginPath"], ["moveTo", 0, 0],
      ["quadraticCurveTo", 10, 0, 10, 5],
      ["quadraticCurveTo", 10, 10, 15, 10],
      ["lineTo", 20, 10], ["stroke"],
    ]);
    const set = Object.fromEntries(ctx.calls.filter(([n]) => n.startsWith("set ")).map(([n, v]) => [n.slice(4), v]));
    assert.deepEqual(set,
      { strokeStyle: "white", fillStyle: "white", lineWidth: 8, lineCap: "round", lineJoin: "round" });
  });

  test("two points make a straight segment", () => {
    const ctx = recordingContext();
    trace(ctx, { width: 8, points: [p(1, 2), p(3, 4)] }, "black");
    const ops = ctx.calls.filter(([name]) => !name.startsWith("set "));
    assert.deepEqual(ops, [["beginPath"], ["moveTo", 1, 2], ["lineTo", 3, 4], ["stroke"]]);
  });
});

test("toCanvasPoint maps a displayed canvas onto its pixels", () => {
  const rect = { left: 100, top: 50, width: 280, height: 280 }; // a 560 px canvas shown at half size
  assert.deepEqual(toCanvasPoint(100, 50, rect, 560, 560), p(0, 0));
  assert.deepEqual(toCanvasPoint(240, 190, rect, 560, 560), p(280, 280));
  assert.deepEqual(toCanvasPoint(380, 330, rect, 560, 560), p(560, 560));
});

describe("shortcut", () => {
  const cases = [
    [{ key: "z", ctrlKey: true }, "undo"],
    [{ key: "z", metaKey: true }, "undo"],
    [{ key: "Z", ctrlKey: true, shiftKey: true }, "redo"],
    [{ key: "z", metaKey: true, shiftKey: true }, "redo"],
    [{ key: "y", ctrlKey: true }, "redo"],
    [{ key: "Y", ctrlKey: true }, "redo"],
    [{ key: "Escape" }, "clear"],
    [{ key: "z" }, null],
    [{ key: "y" }, null],
    [{ key: "a", ctrlKey: true }, null],
    [{ key: "Enter" }, null],
    [{}, null],
  ];
  for (const [event, expected] of cases) {
    test(`${JSON.stringify(event)} -> ${expected}`, () => assert.equal(shortcut(event), expected));
  }
});
