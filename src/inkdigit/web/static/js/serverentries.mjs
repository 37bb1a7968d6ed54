// serverentries: the main page's bookkeeping of a signed-in user's history entries on the server.
// Signed in, the server keeps every reading it answers (its response carries the entry's `id`); the
// page keeps one entry per input and mode: a re-read of the same input replaces the entry it made
// before (which is deleted), unless that one was corrected here. A reading that is not shown
// (superseded, blank, or of an input gone meanwhile) has its entry deleted, unless it is one the
// page keeps or a corrected one. A cleared drawing's entries are set aside, and an undo that brings
// the drawing back brings them back with it. `createServerEntries({remove})` holds the state;
// `remove(id)` (accountapi's `deleteEntry` by default) deletes an entry. No DOM is touched.

import { deleteEntry } from "./accountapi.mjs";

export function createServerEntries({ remove = deleteEntry } = {}) {
  const entries = new Map(); // the current input's entries, by mode ("digit" or "number")
  const corrected = new Set(); // the entries corrected here: never deleted by the page
  let setAside = null; // the entries of a cleared drawing, which an undo brings back

  return {
    /** A reading not shown: the entry the server made for it goes, unless kept or corrected. */
    discard(body) {
      const id = body && typeof body === "object" ? body.id : undefined;
      if (!Number.isInteger(id) || corrected.has(id) || [...entries.values()].includes(id)) return;
      remove(id);
    },
    /** The current input read in mode `reading` made entry `id`: the entry it replaces goes. */
    keep(reading, id) {
      const before = entries.get(reading);
      if (before !== undefined && before !== id && !corrected.has(before)) remove(before);
      entries.set(reading, id);
    },
    /** Entry `id` was corrected here: it stays, whatever replaces it. */
    corrected(id) {
      corrected.add(id);
    },
    /** A new input: its readings make new entries. */
    clear() {
      entries.clear();
    },
    /** The drawing is cleared: its entries are set aside for an undo (call before `clear`). */
    setAside() {
      setAside = new Map(entries);
    },
    /** A new stroke: the cleared drawing can no longer come back. */
    forgetSetAside() {
      setAside = null;
    },
    /** The cleared drawing is back: so are its entries (a re-read replaces them, adds none). */
    restore() {
      if (!setAside) return;
      for (const [reading, id] of setAside) if (!entries.has(reading)) entries.set(reading, id);
      setAside = null;
    },
    /** The entry kept for mode `reading`, if any. */
    get(reading) {
      return entries.get(reading);
    },
  };
}
