// history: this browser's last predictions, kept in storage. `createHistory(storage, {key, max})`
// stores up to `max` (50) entries {digit, confidence, at, thumb} (a number read in number mode
// also has `text`, e.g. "12 345", and `digit` null), newest first, as JSON under
// `key`; `at` (a timestamp) identifies an entry. `load()` returns them, dropping anything stored
// that is not a well-formed entry (storage is editable by anyone at this origin, and thumbnails
// must be PNG/JPEG data URLs); `add(entry, replaces)` puts an entry first, removing the one whose
// `at` is `replaces` (a drawing updated after each stroke keeps one entry); `update(at, patch)`
// changes one entry in place; `clear()` empties it. Each returns the entries now stored. Pure: the
// storage object (getItem/setItem, e.g. storage.mjs's safeStorage) is injected. Two helpers touch
// the DOM, only when called: `renderHistory(list, items, {onOpen})` shows the entries as buttons
// (thumbnail, answer, percentage, `<time>`) that open an entry again, and `flatThumb(source,
// background)` makes a thumbnail on an opaque background, so ink drawn in one theme stays visible
// in the other.

export const HISTORY_KEY = "inkdigit.history";
export const HISTORY_MAX = 50;

import { historyView } from "./format.mjs";

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

/** A thumbnail of `source` (a canvas or decoded image) drawn over `background` (a CSS colour), so
 * it keeps its own contrast whatever the page's theme later is. */
export function flatThumb(source, background = "#ffffff", size = 64) {
  const w = source.naturalWidth || source.width;
  const h = source.naturalHeight || source.height;
  const t = document.createElement("canvas");
  t.width = t.height = size;
  const ctx = t.getContext("2d");
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, size, size);
  if (w && h) {
    const s = Math.min(size / w, size / h);
    ctx.drawImage(source, (size - w * s) / 2, (size - h * s) / 2, w * s, h * s);
  }
  return t.toDataURL("image/png");
}

/** Fill `list` (an <ol>) with one <li> per entry: a button showing the thumbnail (if any), the
 * answer, its percentage and a <time>; clicking it calls `onOpen(entry)`. Text only via textContent. */
export function renderHistory(list, items, { onOpen = () => {}, now = Date.now() } = {}) {
  list.replaceChildren(...items.map((entry) => {
    const view = historyView(entry, now);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "history-entry";
    button.dataset.at = String(entry.at);
    button.title = `Show again: ${view.label}`;
    const hint = document.createElement("span");
    hint.className = "sr-only";
    hint.textContent = "Show again: ";
    button.append(hint); // the name is what is seen, after this hint (no aria-label that differs from it)
    if (entry.thumb && THUMB.test(entry.thumb)) {
      const img = document.createElement("img");
      img.src = entry.thumb;
      img.alt = "";
      button.append(img);
    }
    const answer = document.createElement("span");
    answer.className = "history-answer";
    const strong = document.createElement("strong");
    strong.textContent = view.digitText;
    answer.append(strong, view.percentText);
    button.append(answer);
    if (view.time) {
      const time = document.createElement("time");
      time.dateTime = view.time.datetime;
      time.textContent = view.time.text;
      button.append(time);
    }
    button.addEventListener("click", () => onOpen(entry));
    const li = document.createElement("li");
    li.append(button);
    return li;
  }));
}
