import assert from "node:assert/strict";
import { test } from "node:test";

import { createServerEntries } from "../../../src/inkdigit/web/static/js/serverentries.mjs";

const setup = () => {
  const removed = [];
  return { removed, server: createServerEntries({ remove: (id) => removed.push(id) }) };
};

test("a re-read of the same input in the same mode replaces the entry it made before", () => {
  const { removed, server } = setup();
  server.keep("digit", 1);
  server.keep("digit", 2);
  server.keep("digit", 2); // the same entry again: nothing to delete
  assert.deepEqual(removed, [1]);
  assert.equal(server.get("digit"), 2);
});

test("each mode keeps its own entry", () => {
  const { removed, server } = setup();
  server.keep("digit", 1);
  server.keep("number", 2);
  assert.deepEqual(removed, []);
  assert.equal(server.get("digit"), 1);
  assert.equal(server.get("number"), 2);
});

test("a corrected entry is never deleted, neither replaced nor discarded", () => {
  const { removed, server } = setup();
  server.keep("digit", 1);
  server.corrected(1);
  server.keep("digit", 2);
  server.discard({ id: 1 });
  assert.deepEqual(removed, []);
});

test("a reading not shown has its entry deleted, unless the page keeps it", () => {
  const { removed, server } = setup();
  server.keep("digit", 1);
  server.discard({ id: 1 }); // kept: stays
  server.discard({ id: 5 });
  for (const body of [null, "text", {}, { id: "7" }, { id: 1.5 }]) server.discard(body); // no entry
  assert.deepEqual(removed, [5]);
});

test("a new input starts afresh: its first reading deletes nothing", () => {
  const { removed, server } = setup();
  server.keep("digit", 1);
  server.clear();
  assert.equal(server.get("digit"), undefined);
  server.keep("digit", 2);
  assert.deepEqual(removed, []);
  server.discard({ id: 1 }); // no longer kept
  assert.deepEqual(removed, [1]);
});

test("a cleared drawing's entries come back with an undo, without overriding newer ones", () => {
  const { removed, server } = setup();
  server.keep("digit", 1);
  server.keep("number", 2);
  server.setAside();
  server.clear();
  server.keep("number", 3);
  server.restore();
  assert.equal(server.get("digit"), 1);
  assert.equal(server.get("number"), 3);
  server.keep("digit", 4); // a re-read replaces the restored entry
  assert.deepEqual(removed, [1]);
  server.clear();
  server.restore(); // restored once only
  assert.equal(server.get("digit"), undefined);
});

test("a new stroke forgets the entries set aside", () => {
  const { server } = setup();
  server.keep("digit", 1);
  server.setAside();
  server.clear();
  server.forgetSetAside();
  server.restore();
  assert.equal(server.get("digit"), undefined);
});
