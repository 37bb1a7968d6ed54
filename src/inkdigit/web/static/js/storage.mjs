// storage: a key-value store that never throws. Local storage can be missing, full, or refuse
// access altogether (private modes, blocked cookies); the page must keep working without it, only
// forgetting more. `safeStorage(get)` wraps whatever `get()` returns (by default the browser's
// localStorage, looked up lazily on every call, never at import) in getItem/setItem/removeItem
// that answer null or false instead of throwing. Pure: Node tests pass a plain object instead.

/**
 * @param {() => Storage | undefined} [get] returns the underlying storage (may throw)
 * @returns {{getItem(key: string): string | null, setItem(key: string, value: string): boolean,
 *            removeItem(key: string): boolean}}
 */
export function safeStorage(get = () => globalThis.localStorage) {
  return {
    getItem(key) {
      try {
        const value = get().getItem(key);
        return typeof value === "string" ? value : null;
      } catch {
        return null;
      }
    },
    setItem(key, value) {
      try {
        get().setItem(key, value);
        return true;
      } catch {
        return false; // full, private mode or no storage at all: this change is not kept
      }
    },
    removeItem(key) {
      try {
        get().removeItem(key);
        return true;
      } catch {
        return false;
      }
    },
  };
}
