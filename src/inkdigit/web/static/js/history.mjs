// history: this browser's last predictions, kept in storage. `createHistory(storage, {key, max})`
// stores up to `max` (50) entries {digit, confidence, at, thumb} (a number read in number mode
// also has `text`, e.g. "12 345", and `digit` null), newest first, as JSON under
// `key`; `at` (a timestamp) identifies an entry. `load()` returns them, dropping anything stored
// that is not a well-formed entry (storage is editable by anyone at this origin, and thumbnails
// must be PNG/JPEG data URLs); `add(entry, replaces)` puts an entry first, removing the one whose
// `at` is `replaces` (a drawing updated after each stroke keeps one entry); `update(at, patch)`
// changes one entry in place; `clear()` empties it. Each returns the entries now stored. Pure: the
// storage object (getItem/setItem, e.g. storage.mjs's safeStorage) is injected.

export const HISTORY_KEY = "inkdigit.history";
export const HISTORY_MAX = 50;

const THUMB = /^data:image\/(png|jpeg);base64,[A-Za-z0-9+/=]*$/;
const NUMBER_TEXT = /^[0-9?., -]{1,80}$/;

/** True for an entry the page can show safely. */
export function isEntry(x) {
  return Boolean(x) && typeof x === "object"
    && (x.digit === null || (Number.isInteger(x.digit) && x.digit >= 0 && x.digit <= 9))
    && typeof x.confidence === "number" && x.confidence >= 0 && x.confidence <= 1
    && typeof x.at === "number" && Number.isFinite(x.at)
    && (x.thumb === null || (typeof x.thumb === "string" && THUMB.test(x.thumb)))
    && (x.text === undefined || (typeof x.text === "string" && NUMBER_TEXT.test(x.text) && x.digit === null));
}

/** A history entry for a prediction body read at time `at`. */
export function entryFor(result, thumb, at) {
  return { digit: result.is_digit ? result.digit : null, confidence: result.confidence, at, thumb: thumb ?? null };
}

/** A history entry for a /recognize body (a whole number) read at time `at`. */
export function entryForNumber(result, thumb, at) {
  return { digit: null, text: (result.formatted || result.text).slice(0, 80), confidence: result.confidence, at,
    thumb: thumb ?? null };
}

export function createHistory(storage, { key = HISTORY_KEY, max = HISTORY_MAX } = {}) {
  function load() {
    let items;
    try {
      items = JSON.parse(storage.getItem(key) ?? "[]");
    } catch {
      return [];
    }
    return Array.isArray(items) ? items.filter(isEntry).slice(0, max) : [];
  }

  function save(items) {
    try {
      storage.setItem(key, JSON.stringify(items.slice(0, max)));
    } catch { /* full or private mode: not kept */ }
    return load(); // what is really kept, so the page never shows entries it has lost
  }

  return {
    load,
    add(entry, replaces = null) {
      const items = replaces === null ? load() : load().filter((x) => x.at !== replaces);
      return save([entry, ...items]);
    },
    update(at, patch) {
      return save(load().map((x) => (x.at === at ? { ...x, ...patch } : x)));
    },
    clear() {
      return save([]);
    },
  };
}
