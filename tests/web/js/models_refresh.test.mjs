import assert from "node:assert/strict";
import { test } from "node:test";

import { MODEL_KEY, initModelPicker } from "../../../src/inkdigit/web/static/js/models.mjs";
import { memoryStorage } from "./fakes.mjs";

// just enough of <select> and Option for the picker
globalThis.Option ??= class Option {
  constructor(text, value) { this.text = text; this.value = value; this.selected = false; }
};
function fakeSelect() {
  return {
    options: [], disabled: true, listeners: {},
    get value() { return (this.options.find((o) => o.selected) || this.options[0] || { value: "" }).value; },
    replaceChildren(...options) { this.options = options; },
    addEventListener(type, fn) { this.listeners[type] = fn; },
  };
}
const model = (name, extra = {}) => ({ name, family: "cnn", default: false, metrics: {}, ...extra });
function server(lists) {
  let call = 0;
  return async () => {
    const models = lists[Math.min(call++, lists.length - 1)];
    if (models === null) throw new TypeError("Failed to fetch");
    return { ok: true, status: 200, json: async () => ({ models }) };
  };
}

test("refresh lists a model installed since, keeping the choice", async () => {
  const select = fakeSelect();
  const storage = memoryStorage();
  storage.setItem(MODEL_KEY, "cnn-v2");
  const first = [model("cnn-v1", { default: true }), model("cnn-v2")];
  const picker = await initModelPicker({
    select, storage, fetch: server([first, null, [...first, model("cnn-late")]]), onChange: () => assert.fail("no change"),
  });
  assert.deepEqual(select.options.map((o) => o.value), ["cnn-v1", "cnn-v2"]);
  assert.equal(select.value, "cnn-v2");
  await picker.refresh(); // the server is away: the list shown stays
  assert.deepEqual(select.options.map((o) => o.value), ["cnn-v1", "cnn-v2"]);
  await picker.refresh();
  assert.deepEqual(select.options.map((o) => o.value), ["cnn-v1", "cnn-v2", "cnn-late"]);
  assert.equal(select.value, "cnn-v2");
  assert.equal(select.disabled, false);
});

test("a first load that fails offers the server's default", async () => {
  const select = fakeSelect();
  const picker = await initModelPicker({ select, storage: memoryStorage(), fetch: server([null, [model("cnn-v1")]]),
    onChange() {} });
  assert.deepEqual(select.options.map((o) => o.value), [""]);
  await picker.refresh();
  assert.deepEqual(select.options.map((o) => o.value), ["cnn-v1"]);
});
