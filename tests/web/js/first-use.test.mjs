// Issue 14 (first use): a clear is a step that undo takes back, and the drawing keys leave form
// controls alone (Escape on the width slider must not wipe the drawing).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createStrokes, shortcut } from "../../../src/inkdigit/web/static/js/strokes.mjs";

const p = (x, y) => ({ x, y });

function twoStrokes() {
  const s = createStrokes();
  s.begin(1, p(0, 0)); s.extend([p(1, 1)]); s.end();
  s.begin(2, p(5, 5)); s.end();
  return s;
}

describe("clear can be undone", () => {
  test("undo after a clear brings the whole drawing back, redo clears it again", () => {
    const s = twoStrokes();
    const before = s.strokes;
    assert.equal(s.clear(), true);
    assert.equal(s.isEmpty, true);
    assert.equal(s.justCleared, true);
    assert.equal(s.canUndo, true);
    assert.equal(s.undo(), true);
    assert.deepEqual(s.strokes, before);
    assert.equal(s.justCleared, false);
    assert.equal(s.canRedo, true);
    assert.equal(s.redo(), true);
    assert.equal(s.isEmpty, true);
    s.undo();
    s.undo(); // and then the strokes one by one
    assert.equal(s.strokes.length, 1);
  });

  test("clearing an empty drawing is no step at all", () => {
    const s = createStrokes();
    assert.equal(s.clear(), false);
    assert.equal(s.canUndo, false);
    assert.equal(s.justCleared, false);
  });

  test("a new stroke after a clear keeps the clear undoable, not redoable", () => {
    const s = twoStrokes();
    s.clear();
    s.begin(3, p(9, 9)); s.end();
    assert.equal(s.canRedo, false);
    s.undo(); // the new stroke
    assert.equal(s.isEmpty, true);
    s.undo(); // the clear
    assert.equal(s.strokes.length, 2);
  });

  test("a resize moves cleared strokes too, each once", () => {
    const s = twoStrokes();
    s.clear();
    assert.equal(s.all.length, 2);
    s.transform({ scale: 2, dx: 1, dy: 0 });
    s.undo();
    assert.deepEqual(s.strokes[1].points, [p(11, 10)]);
    assert.equal(s.strokes[1].width, 4);
  });
});

describe("shortcut in a form control", () => {
  test("Escape and the undo keys do nothing while a control has the focus", () => {
    assert.equal(shortcut({ key: "Escape", inField: true }), null);
    assert.equal(shortcut({ key: "z", ctrlKey: true, inField: true }), null);
    assert.equal(shortcut({ key: "Escape" }), "clear");
  });
});
