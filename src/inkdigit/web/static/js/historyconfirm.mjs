// historyconfirm: "Clear history" asks first, inline: the button gives way to "Delete N readings?
// [Delete] [Keep]"; Delete calls `onDelete()`, Keep or Escape (which then goes no further: it does
// not clear the drawing) takes the question back, and the focus returns to the button either way.
// `initHistoryConfirm({button, box, text, del, keep, count, onDelete})` wires it when called
// (nothing at import); `count()` says how many readings there are. `confirmText(n)` is the pure part.

/** The question asked before deleting `n` saved readings. */
export const confirmText = (n) => `Delete ${n === 1 ? "the saved reading" : `all ${n} saved readings`}?`;

export function initHistoryConfirm({ button, box, text, del, keep, count, onDelete }) {
  function ask(open) {
    box.hidden = !open;
    button.hidden = open;
  }
  button.addEventListener("click", () => {
    text.textContent = confirmText(count());
    ask(true);
    keep.focus();
  });
  del.addEventListener("click", () => {
    onDelete();
    ask(false);
    button.focus();
  });
  keep.addEventListener("click", () => { ask(false); button.focus(); });
  box.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    e.stopPropagation(); // Escape here answers "keep", it does not clear the drawing
    ask(false);
    button.focus();
  });
}
