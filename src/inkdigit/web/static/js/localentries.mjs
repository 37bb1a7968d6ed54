// localentries: which entry of the browser's history each reading of the current input updates,
// so that an input keeps one entry per mode instead of adding one per reading. A drawing keeps one
// entry, updated after every stroke, until it is cleared; a cleared drawing's entry is set aside,
// and an undo that brings the drawing back updates it again (a new stroke forgets it). The entries
// of the drawing read in the other mode are kept by mode, so switching modes back and forth
// updates them; an upload likewise keeps one per mode until the next upload. `createLocalEntries()`
// holds the state; entries are named by their `at`. Pure: no DOM, no storage.

export function createLocalEntries() {
  let drawingEntry = null; // the entry the current drawing updates in place
  const otherMode = new Map(); // the drawing's entries in the other mode, by mode
  const uploads = new Map(); // the current upload's entries, by mode
  let clearedEntry = null; // the entry of a cleared drawing, which an undo brings back

  return {
    /** A reading of a `kind` ("canvas" or "file") input in `mode` made entry `at`: the entry it
     * replaces (null: none), and `at` is the one the next such reading replaces. */
    replace(kind, mode, at) {
      if (kind === "canvas") {
        const before = drawingEntry;
        drawingEntry = at;
        return before;
      }
      const before = uploads.get(mode) ?? null;
      uploads.set(mode, at);
      return before;
    },
    /** The drawing is cleared (`justCleared`: the drawing itself, not a clear of nothing or of an
     * upload, which keeps the entry set aside before): true when its entry is set aside for an undo. */
    clear(justCleared) {
      const aside = justCleared && drawingEntry !== null;
      if (aside) clearedEntry = drawingEntry;
      drawingEntry = null;
      otherMode.clear();
      return aside;
    },
    /** A new stroke: the cleared drawing can no longer come back. */
    stroke() {
      clearedEntry = null;
    },
    /** An undo brought a drawing back: true when it is the cleared one, whose entry is updated again. */
    restore() {
      if (drawingEntry !== null || clearedEntry === null) return false;
      drawingEntry = clearedEntry;
      clearedEntry = null;
      return true;
    },
    /** The mode is now `mode`: the drawing's entry is the one made the last time it was read in
     * that mode, if any, and the one of the other mode is kept for a switch back. */
    switchMode(mode) {
      const previous = mode === "number" ? "digit" : "number";
      if (drawingEntry !== null) otherMode.set(previous, drawingEntry);
      drawingEntry = otherMode.get(mode) ?? null;
      otherMode.delete(mode);
    },
    /** A new upload: its readings are new entries. */
    newUpload() {
      uploads.clear();
    },
    get drawing() { return drawingEntry; },
  };
}
