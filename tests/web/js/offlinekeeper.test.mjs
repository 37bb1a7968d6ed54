import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createOfflineKeeper, settled } from "../../../src/inkdigit/web/static/js/offlinekeeper.mjs";
import { OWNER_KEY } from "../../../src/inkdigit/web/static/js/pendingreads.mjs";

const memory = () => {
  const m = new Map();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v), removeItem: (k) => m.delete(k) };
};

function setup({ user = null, online = true, session = true } = {}) {
  const state = { user, online, session, sent: [] };
  const account = { user: null, async show() { this.user = state.user; } };
  const storage = memory();
  const keeper = createOfflineKeeper({
    account, storage, online: () => state.online, hasSession: () => state.session,
    send: async (entry) => { state.sent.push(entry.drawing); return true; },
  });
  return { state, account, storage, keeper };
}

describe("drawings kept while the server is away", () => {
  test("belong to the account signed in, and are sent when it confirms, the current drawing left out", async () => {
    const { state, account, keeper } = setup({ user: { id: "ada" } });
    await keeper.confirm();
    state.online = false;
    keeper.keep("d1", () => "data:,1");
    keeper.keep("d2", () => "data:,2");
    keeper.keep("d1", () => "data:,1b"); // the same drawing again: one entry
    state.online = true;
    assert.equal(await keeper.confirm("d2"), 1); // d2 is on the canvas: the server reads it itself
    assert.deepEqual(state.sent, ["d1"]);
    assert.equal(account.user.id, "ada");
  });

  test("on a page reloaded offline, belong to the account last seen while its session is there", async () => {
    const { state, storage, keeper } = setup({ user: { id: "ada" } });
    await keeper.confirm(); // remembered
    assert.equal(storage.getItem(OWNER_KEY), "ada");
    const reloaded = createOfflineKeeper({
      account: { user: null, async show() { this.user = null; } }, storage,
      online: () => false, hasSession: () => state.session, send: async () => true,
    });
    assert.equal(reloaded.owner(), "ada");
    state.session = false; // signed out elsewhere: the cookie is gone
    assert.equal(reloaded.owner(), null);
    let asked = false;
    reloaded.keep("d", () => { asked = true; return "data:,"; });
    assert.equal(asked, false); // nobody's: not even encoded
  });

  test("are never sent to another account, and a sign-out seen online forgets the account", async () => {
    const { state, storage, keeper } = setup({ user: { id: "ada" } });
    await keeper.confirm();
    state.online = false;
    keeper.keep("d1", () => "data:,1");
    state.online = true;
    state.user = { id: "bob" }; // someone else signed in meanwhile
    assert.equal(await keeper.confirm(), 0);
    assert.deepEqual(state.sent, []);
    state.user = null;
    await keeper.confirm();
    assert.equal(storage.getItem(OWNER_KEY), null);
  });

  test("a refusal for good ends a drawing's life; what may pass does not", () => {
    for (const s of [200, 201, 413, 415, 422]) assert.equal(settled(s), true, s);
    for (const s of [401, 403, 408, 429, 500, 503]) assert.equal(settled(s), false, s);
  });
});
