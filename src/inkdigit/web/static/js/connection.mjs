// connection: whether the server answers, kept fresh for the main page. `createConnection({ping,
// shown, back, timers})` returns `{set(now, reread), check()}`: `set` records the state (true:
// reached, false: away) and shows it (`shown(now)`); when the server is back after being away it
// calls `back(reread)` (the page then reads its model list again and, when `reread`, the input it
// keeps). `check()` asks `ping()` and checks again in 10 s, or in 2 s while the server is away;
// one timer at a time, even when a check started by an online event overlaps one. No DOM.

import { ping as serverPing } from "./api.mjs";

export const PING_MS = 10000;
export const OFFLINE_PING_MS = 2000; // while the server is away, look for it more often

export function createConnection({ ping = serverPing, shown, back, timers = globalThis }) {
  let online = null; // null: not known yet
  let timer = null;

  function set(now, reread = true) {
    const returned = now && online === false;
    online = now;
    shown(now);
    if (returned) back(reread);
  }

  async function check() {
    set(await ping());
    timers.clearTimeout(timer); // one timer, even when an online event overlaps a check
    timer = timers.setTimeout(check, online ? PING_MS : OFFLINE_PING_MS);
  }

  return { set, check, get online() { return online; } };
}
