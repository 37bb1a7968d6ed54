// drawing: the canvas a digit is drawn on. `createDrawing({canvas, widthInput, undo, redo, clear,
// onChange})` listens to pointer events on the canvas (mouse, finger or pen, with coalesced
// events for smooth lines), to the undo/redo/clear buttons and to their keys on `keyTarget`
// (the document by default), and calls `onDraw()` as a stroke grows; it keeps the strokes in a `createStrokes()` store, redraws them in the
// theme's ink colour (CSS `--ink`) and enables the buttons to match. After each finished stroke,
// undo, redo or clear it calls `onChange(action)` with "stroke", "undo", "redo" or "clear". A clear
// can be undone; the keys do nothing while a form control (the width slider...) has the focus, and
// `canClear()` keeps the clear button enabled for something other than strokes (an upload).
// It returns {isEmpty, justCleared, undo, clear, redraw, resize, toBlob, toDataURL, pixels}; `resize(width, height)` changes the canvas's
// pixel size (the number mode's wide canvas) and redraws the strokes where they were, moved and
// shrunk into the new canvas when they would not fit (nothing drawn is cut off). `thumbnail(source)` scales a canvas or a decoded image
// into a 64 px square PNG data URL; `blobFromDataUrl(url)` turns a data URL into its Blob. Touches the DOM
// only when called, never at import.

import { createStrokes, fitInto, inkBounds, shortcut, toCanvasPoint, trace } from "./strokes.mjs";

/** The height (CSS px) of a writing area below which the pen gets thinner in proportion. */
export const PEN_HEIGHT = 360;

export function createDrawing({ canvas, widthInput, undo, redo, clear, onChange, keyTarget = document,
  canClear = () => false, onDraw = () => {} }) {
  // read back after every stroke (the page reads drawings itself): kept in memory for quick reads
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const strokes = createStrokes();

  const inkColour = () =>
    getComputedStyle(document.documentElement).getPropertyValue("--ink").trim() || "#111";

  const pointOf = (e) =>
    toCanvasPoint(e.clientX, e.clientY, canvas.getBoundingClientRect(), canvas.width, canvas.height);

  function redraw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const colour = inkColour();
    for (const s of strokes.strokes) trace(ctx, s, colour);
    undo.disabled = !strokes.canUndo;
    redo.disabled = !strokes.canRedo;
    clear.disabled = strokes.isEmpty && !canClear();
  }

  const actions = {
    undo: () => strokes.undo(),
    redo: () => strokes.redo(),
    clear: () => { strokes.clear(); return true; }, // also when empty: it clears an upload too
  };
  function run(action) {
    if (!actions[action]()) return;
    redraw();
    onChange(action);
  }

  canvas.addEventListener("pointerdown", (e) => {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault(); // no page scroll or text selection while drawing
    canvas.setPointerCapture(e.pointerId);
    const rect = canvas.getBoundingClientRect();
    const scale = canvas.width / rect.width; // the width slider is in CSS pixels
    // on a writing area lower than PEN_HEIGHT (the number strip on a phone) the pen is as much
    // thinner, so a digit written across it keeps the stroke it would have on the square canvas
    const fit = Math.min(1, rect.height / PEN_HEIGHT);
    strokes.begin(Number(widthInput.value) * scale * fit, pointOf(e));
    redraw();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!strokes.drawing) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    strokes.extend((events.length ? events : [e]).map(pointOf));
    redraw();
    onDraw();
  });
  const end = () => { if (strokes.end()) onChange("stroke"); };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);

  undo.addEventListener("click", () => run("undo"));
  redo.addEventListener("click", () => run("redo"));
  clear.addEventListener("click", () => run("clear"));
  keyTarget.addEventListener("keydown", (e) => {
    const t = e.target;
    // a control with keys of its own (a slider, a list, a text field; not a radio or a button)
    const inField = Boolean(t && (t.isContentEditable || ["SELECT", "TEXTAREA"].includes(t.tagName)
      || (t.tagName === "INPUT" && !["radio", "checkbox", "button"].includes(t.type))));
    const action = shortcut({ key: e.key, ctrlKey: e.ctrlKey, metaKey: e.metaKey, shiftKey: e.shiftKey, inField });
    if (!action) return;
    if (action !== "clear") e.preventDefault(); // the browser's own undo would do nothing useful here
    run(action);
  });

  redraw();
  return {
    get isEmpty() { return strokes.isEmpty; },
    /** True when the last step was a clear, which `undo()` takes back. */
    get justCleared() { return strokes.justCleared; },
    undo: () => run("undo"),
    clear: () => run("clear"),
    redraw,
    resize(width, height) {
      if (canvas.width === width && canvas.height === height) return;
      canvas.width = width;
      canvas.height = height;
      canvas.style.aspectRatio = `${width} / ${height}`;
      strokes.transform(fitInto(inkBounds(strokes.all), width, height));
      redraw();
    },
    /** The drawing as a PNG blob, as the server reads it. Encoded at once: `canvas.toBlob` encodes in
     * an idle task, which a busy page (a WebAssembly module compiling) put off for seconds, and
     * which made every reading wait about a second before its request even left. */
    toBlob: async () => blobFromDataUrl(canvas.toDataURL("image/png")),
    /** The same PNG as a data URL, at once (kept while the server cannot be reached). */
    toDataURL: () => canvas.toDataURL("image/png"),
    /** The canvas's pixels (RGBA, unpremultiplied): what the page reads a drawing from, no PNG needed. */
    pixels: () => ctx.getImageData(0, 0, canvas.width, canvas.height),
  };
}

/** A 64 px square PNG data URL of a canvas or a decoded image, letterboxed. */
export function thumbnail(source, size = 64) {
  const t = document.createElement("canvas");
  t.width = t.height = size;
  const w = source.naturalWidth || source.width;
  const h = source.naturalHeight || source.height;
  const s = Math.min(size / w, size / h);
  t.getContext("2d").drawImage(source, (size - w * s) / 2, (size - h * s) / 2, w * s, h * s);
  return t.toDataURL("image/png");
}

/** The bytes of a `data:` URL as a Blob (fetching it is a connection the page's policy forbids). */
export function blobFromDataUrl(url) {
  const [head, data] = url.split(",", 2);
  const type = (head.match(/^data:([^;,]+)/) || [])[1] || "application/octet-stream";
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type });
}
