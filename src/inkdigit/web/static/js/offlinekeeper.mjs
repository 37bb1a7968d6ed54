// offlinekeeper: the main page's drawings read while the server is unreachable, for the account's
// history. Whose they are: the account signed in, or, on a page reloaded offline (which cannot ask),
// the one last seen signed in in this browser while its session cookie is still there. It keeps them
// (pendingreads.mjs) and, once the server answers again, asks who is signed in and sends only that
// account's drawings. `createOfflineKeeper({account, storage, online, hasSession, send})` returns
// `{owner(), keep(drawing, png), confirm(current)}`: `keep` stores drawing `drawing` (an id) with
// `png()` (called only when there is an owner); `confirm(current)` refreshes `account` (the header's
// `{show, user}`), remembers or forgets the account, and sends the kept drawings with `send(entry)`
// except the `current` one, which the page has the server read again itself. `settled(status)` says
// whether an answer ends a kept drawing's life (kept, or refused for good). No DOM.

import { OWNER_KEY, createPendingReads } from "./pendingreads.mjs";

/** True when a send's HTTP status ends the drawing's life: kept (2xx) or refused for good (a 4xx that
 * no retry would change); false for what may pass (a session to renew, a timeout, too many, 5xx). */
export const settled = (status) => status < 500 && ![401, 403, 408, 429].includes(status);

export function createOfflineKeeper({ account, storage, online, hasSession, send,
  pending = createPendingReads({ storage }) }) {
  function owner() {
    if (account.user) return account.user.id;
    return online() !== true && hasSession() ? storage.getItem(OWNER_KEY) : null;
  }

  return {
    owner,
    keep(drawing, png) {
      const user = owner();
      if (user) pending.put({ user, drawing, png: png(), at: Date.now() });
    },
    /** Ask who is signed in, remember it (or forget it, signed out), and send what was kept for it. */
    async confirm(current = null) {
      await account.show();
      const user = account.user;
      if (user) storage.setItem(OWNER_KEY, user.id);
      else if (online()) storage.removeItem(OWNER_KEY); // signed out: nothing to keep for anyone
      if (!user || pending.count(user.id) === 0) return 0;
      // the drawing on the canvas is read by the server again as the connection returns (or just
      // was), and kept in the history then: its copy here would be a second entry
      if (current !== null) pending.drop(user.id, current);
      return pending.flush(user.id, send);
    },
  };
}
