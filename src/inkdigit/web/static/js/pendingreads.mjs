// pendingreads: a signed-in user's drawings read in the page while the server could not be reached,
// kept until it can, then sent to be read again and kept in the account's history (issue 17). One
// entry per drawing (a drawing read again after another stroke replaces its entry, as the server's
// history keeps one entry per drawing), each with the account it belongs to: only that account's
// entries are sent, so a drawing made by one user is never kept in another's history. Entries live in
// `storage` (localStorage: they outlast a reload), at most `limit` of them (the oldest go first), as
// PNG data URLs. `createPendingReads({storage, key, limit, lock})` returns `{put, flush, drop, count}`;
// `flush` sends the account's entries oldest first with `send(entry)` (resolving true once the
// server kept it, or refused it for good) and stops at the first that fails, keeping it and the rest
// for the next time. Flushes hold `lock` (the Web Locks API where there is one), so two tabs of
// the page never send the same entry twice. No DOM.

export const PENDING_KEY = "inkdigit.pending";
export const PENDING_LIMIT = 50;
export const OWNER_KEY = "inkdigit.user"; // the account last seen signed in (known offline, after a reload)

/** Forget every kept drawing and the account last seen (signing out, deleting the account). */
export function forgetPending(storage) {
  storage.removeItem(PENDING_KEY);
  storage.removeItem(OWNER_KEY);
}

const webLock = (name, fn) => (globalThis.navigator && globalThis.navigator.locks
  ? globalThis.navigator.locks.request(name, fn) : fn());

export function createPendingReads({ storage, key = PENDING_KEY, limit = PENDING_LIMIT, lock = webLock }) {
  function load() {
    try {
      const items = JSON.parse(storage.getItem(key) || "[]");
      return Array.isArray(items) ? items.filter((e) => e && typeof e.png === "string" && typeof e.user === "string") : [];
    } catch {
      return [];
    }
  }
  const save = (items) => storage.setItem(key, JSON.stringify(items.slice(-limit)));
  let flushing = null;

  return {
    /** Keep drawing `drawing` (the page's number for the current drawing) of account `user`, read at `at`. */
    put({ user, drawing, png, at }) {
      save([...load().filter((e) => !(e.user === user && e.drawing === drawing)), { user, drawing, png, at }]);
    },
    /** Send `user`'s entries; resolves to how many the server kept. One flush at a time. */
    flush(user, send) {
      if (flushing) return flushing;
      flushing = lock(key, async () => { // the entries are read under the lock: another tab's sends are gone
        let sent = 0;
        for (const entry of load().filter((e) => e.user === user)) {
          let ok = false;
          try {
            ok = await send(entry);
          } catch {
            ok = false;
          }
          if (!ok) break;
          save(load().filter((e) => !(e.user === entry.user && e.drawing === entry.drawing && e.at === entry.at)));
          sent += 1;
        }
        return sent;
      }).finally(() => { flushing = null; });
      return flushing;
    },
    /** Forget `user`'s entry for `drawing` (the page has it read by the server itself). */
    drop(user, drawing) { save(load().filter((e) => !(e.user === user && e.drawing === drawing))); },
    count(user) { return load().filter((e) => e.user === user).length; },
  };
}
