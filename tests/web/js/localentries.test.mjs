import assert from "node:assert/strict";
import { test } from "node:test";

import { createLocalEntries } from "../../../src/inkdigit/web/static/js/localentries.mjs";

test("a drawing keeps one entry: each reading replaces the one before", () => {
  const local = createLocalEntries();
  assert.equal(local.replace("canvas", "digit", 1), null);
  assert.equal(local.replace("canvas", "digit", 2), 1);
  assert.equal(local.drawing, 2);
});

test("an upload keeps one entry per mode until the next upload", () => {
  const local = createLocalEntries();
  assert.equal(local.replace("file", "digit", 1), null);
  assert.equal(local.replace("file", "number", 2), null);
  assert.equal(local.replace("file", "digit", 3), 1);
  assert.equal(local.replace("file", "number", 4), 2);
  local.newUpload();
  assert.equal(local.replace("file", "digit", 5), null);
  assert.equal(local.drawing, null); // the drawing's entry is apart
});

test("switching modes back and forth updates the drawing's entry of each mode", () => {
  const local = createLocalEntries();
  local.replace("canvas", "digit", 1);
  local.switchMode("number");
  assert.equal(local.drawing, null);
  local.replace("canvas", "number", 2);
  local.switchMode("digit");
  assert.equal(local.drawing, 1);
  local.switchMode("number");
  assert.equal(local.drawing, 2);
});

test("a cleared drawing's entry is set aside, and an undo brings it back", () => {
  const local = createLocalEntries();
  local.replace("canvas", "digit", 1);
  assert.equal(local.clear(true), true);
  assert.equal(local.drawing, null);
  assert.equal(local.clear(true), false); // a second clear (of nothing) keeps the entry set aside
  assert.equal(local.restore(), true);
  assert.equal(local.drawing, 1);
  assert.equal(local.restore(), false); // once
});

test("a clear that is not the drawing's sets nothing aside, and a stroke forgets what was", () => {
  const local = createLocalEntries();
  local.replace("canvas", "digit", 1);
  assert.equal(local.clear(false), false);
  assert.equal(local.restore(), false);
  local.replace("canvas", "digit", 2);
  local.clear(true);
  local.stroke();
  assert.equal(local.restore(), false);
});

test("an undo while the drawing has an entry restores nothing; a clear forgets the other mode's entry", () => {
  const local = createLocalEntries();
  local.replace("canvas", "digit", 1);
  local.switchMode("number");
  local.replace("canvas", "number", 2);
  local.clear(true);
  local.replace("canvas", "number", 3);
  assert.equal(local.restore(), false);
  local.switchMode("digit");
  assert.equal(local.drawing, null); // the digit entry went with the clear
});
