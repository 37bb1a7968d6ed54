import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createStrokes, fitInto, inkBounds, shortcut, toCanvasPoint, trace } from "../../../src/inkdigit/web/static/js/strokes.mjs";

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

describe("fitting a drawing into a canvas of another size", () => {
  const stroke = (width, ...pts) => ({ width, points: pts.map(([x, y]) => ({ x, y })) });
  test("inkBounds covers every point widened by half the pen", () => {
    assert.deepEqual(inkBounds([stroke(10, [100, 50], [300, 400]), stroke(4, [20, 30])]),
      { x0: 18, y0: 28, x1: 305, y1: 405 });
    assert.equal(inkBounds([]), null);
  });
  test("ink that fits is left where it is", () => {
    assert.deepEqual(fitInto({ x0: 10, y0: 10, x1: 500, y1: 400 }, 1400, 480), { scale: 1, dx: 0, dy: 0 });
    assert.deepEqual(fitInto(null, 560, 560), { scale: 1, dx: 0, dy: 0 });
  });
  test("ink that does not fit is shrunk as little as needed and centred", () => {
    const t = fitInto({ x0: 100, y0: 100, x1: 1300, y1: 400 }, 560, 560); // a number going back to the square
    const m = 0.04 * 560;
    assert.ok(Math.abs(t.scale - (560 - 2 * m) / 1200) < 1e-9);
    assert.ok(Math.abs(100 * t.scale + t.dx - m) < 1e-9); // left edge on the margin
    const top = 100 * t.scale + t.dy;
    const bottom = 400 * t.scale + t.dy;
    assert.ok(Math.abs(top - (560 - bottom)) < 1e-9); // centred
    const low = fitInto({ x0: 200, y0: 60, x1: 300, y1: 540 }, 1400, 480); // a tall digit onto the strip
    assert.ok(low.scale < 1 && 60 * low.scale + low.dy >= 0 && 540 * low.scale + low.dy <= 480);
  });
  test("transform moves and scales every stroke, undone ones too", () => {
    const s = createStrokes();
    s.begin(10, { x: 100, y: 100 });
    s.extend([{ x: 200, y: 300 }]);
    s.end();
    s.begin(6, { x: 400, y: 100 });
    s.end();
    s.undo();
    s.transform({ scale: 0.5, dx: 10, dy: 20 });
    assert.deepEqual(s.strokes[0], { width: 5, points: [{ x: 60, y: 70 }, { x: 110, y: 170 }] });
    s.redo();
    assert.deepEqual(s.strokes[1], { width: 3, points: [{ x: 210, y: 70 }] });
    assert.equal(s.all.length, 2);
  });
});
