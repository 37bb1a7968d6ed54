// strokes: the drawing as data, with undo and redo. Pure logic, no DOM. A stroke is
// {width, points: [{x, y}, ...]} in canvas pixels. `createStrokes()` keeps the drawn strokes and
// the undone ones, so undo, redo and clear can be replayed exactly (and the canvas redrawn after a
// theme change); starting a new stroke forgets what was undone. A clear is one more step that undo
// takes back (the whole drawing returns), so nothing is lost to a slip of the finger. `trace(ctx, stroke, colour)` draws
// one stroke on anything with the CanvasRenderingContext2D path methods: a round dot for a tap,
// otherwise quadratic curves through the midpoints between points (smooth, no corners).
// `inkBounds` and `fitInto` say how to move and shrink a drawing so that it fits a canvas of
// another size (the number mode's strip), which `transform` applies to every stroke, undone ones too.
// `toCanvasPoint` maps a pointer position on the displayed canvas to canvas pixels, and
// `shortcut(event)` maps a keydown event to "undo", "redo", "clear" or null.

export function createStrokes() {
  let done = []; // the visible strokes
  let past = []; // what undo takes back, last first: {stroke} (a stroke drawn) or {cleared} (the strokes a clear wiped)
  let future = []; // what redo brings back, last first
  let current = null; // the stroke being drawn, also the last of `done`

  const apply = (op) => { done = op.cleared ? [] : [...done, op.stroke]; };
  const revert = (op) => { done = op.cleared ? op.cleared : done.slice(0, -1); };

  return {
    /** The visible strokes, oldest first (read them, do not change them). */
    get strokes() { return done; },
    get isEmpty() { return done.length === 0; },
    get canUndo() { return past.length > 0; },
    get canRedo() { return future.length > 0; },
    get drawing() { return current !== null; },
    /** True when the last thing done was a clear (an undo brings the drawing back). */
    get justCleared() { return past.length > 0 && Boolean(past[past.length - 1].cleared); },

    /** Start a stroke at `point`; what was undone can no longer be redone. */
    begin(width, point) {
      current = { width, points: [point] };
      done = [...done, current];
      past.push({ stroke: current });
      future = [];
    },
    /** Add points to the stroke being drawn; false when none is. */
    extend(points) {
      if (!current) return false;
      current.points.push(...points);
      return true;
    },
    /** Finish the stroke being drawn; false when none was (a stray pointerup). */
    end() {
      if (!current) return false;
      current = null;
      return true;
    },
    /** Take back the last stroke, or the last clear (the whole drawing comes back). */
    undo() {
      if (!past.length) return false;
      const op = past.pop();
      if (op.stroke && op.stroke === current) current = null; // undone mid-stroke: the rest of it goes nowhere
      revert(op);
      future.push(op);
      return true;
    },
    redo() {
      if (!future.length) return false;
      const op = future.pop();
      apply(op);
      past.push(op);
      return true;
    },
    /** Wipe the drawing, as one step that undo takes back; false (and nothing to undo) when empty. */
    clear() {
      current = null;
      if (!done.length) return false;
      const op = { cleared: done };
      apply(op);
      past.push(op);
      future = [];
      return true;
    },
    /** Every stroke, drawn, undone or cleared (what an undo or redo could bring back), each once. */
    get all() {
      const seen = new Set(done);
      for (const op of [...past, ...future]) for (const s of op.cleared || [op.stroke]) seen.add(s);
      return [...seen];
    },
    /** Scale every stroke by `scale` and move it by (dx, dy): points and widths alike. */
    transform({ scale, dx, dy }) {
      if (scale === 1 && dx === 0 && dy === 0) return;
      for (const s of this.all) {
        s.width *= scale;
        s.points = s.points.map((p) => ({ x: p.x * scale + dx, y: p.y * scale + dy }));
      }
    },
  };
}

/** The box {x0, y0, x1, y1} the strokes' ink covers (points widened by half the pen), or null. */
export function inkBounds(strokes) {
  let b = null;
  for (const s of strokes) {
    for (const p of s.points) {
      const r = s.width / 2;
      b = b === null ? { x0: p.x - r, y0: p.y - r, x1: p.x + r, y1: p.y + r }
        : { x0: Math.min(b.x0, p.x - r), y0: Math.min(b.y0, p.y - r), x1: Math.max(b.x1, p.x + r),
          y1: Math.max(b.y1, p.y + r) };
    }
  }
  return b;
}

/** How to move ink covering `bounds` into a `width` × `height` canvas: {scale, dx, dy}, the identity
 * when it already fits; otherwise shrunk only as much as needed (4 % margins) and centred. */
export function fitInto(bounds, width, height) {
  if (!bounds || (bounds.x0 >= 0 && bounds.y0 >= 0 && bounds.x1 <= width && bounds.y1 <= height)) {
    return { scale: 1, dx: 0, dy: 0 };
  }
  const m = 0.04 * Math.min(width, height);
  const bw = Math.max(1e-6, bounds.x1 - bounds.x0);
  const bh = Math.max(1e-6, bounds.y1 - bounds.y0);
  const scale = Math.min(1, (width - 2 * m) / bw, (height - 2 * m) / bh);
  return { scale, dx: (width - bw * scale) / 2 - bounds.x0 * scale, dy: (height - bh * scale) / 2 - bounds.y0 * scale };
}

/** Draw one stroke with round caps and joins. */
export function trace(ctx, stroke, colour) {
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  ctx.lineWidth = stroke.width;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  const p = stroke.points;
  ctx.beginPath();
  if (p.length === 1) {
    ctx.arc(p[0].x, p[0].y, stroke.width / 2, 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.moveTo(p[0].x, p[0].y);
  for (let i = 1; i < p.length - 1; i++) {
    ctx.quadraticCurveTo(p[i].x, p[i].y, (p[i].x + p[i + 1].x) / 2, (p[i].y + p[i + 1].y) / 2);
  }
  ctx.lineTo(p[p.length - 1].x, p[p.length - 1].y);
  ctx.stroke();
}

/**
 * A pointer position (client coordinates) as canvas pixels, for a canvas of `width` x `height`
 * pixels displayed in `rect` (its getBoundingClientRect()).
 */
export function toCanvasPoint(clientX, clientY, rect, width, height) {
  return { x: (clientX - rect.left) * (width / rect.width), y: (clientY - rect.top) * (height / rect.height) };
}

/** Ctrl/Cmd+Z undoes, Ctrl/Cmd+Shift+Z or Ctrl/Cmd+Y redoes, Escape clears; anything else is null.
 * `inField`: the key went to a form control (a slider, a list, a text field), whose own keys win. */
export function shortcut({ key, ctrlKey = false, metaKey = false, shiftKey = false, inField = false }) {
  if (typeof key !== "string" || inField) return null;
  const mod = ctrlKey || metaKey;
  const k = key.toLowerCase();
  if (mod && k === "z" && !shiftKey) return "undo";
  if (mod && ((k === "z" && shiftKey) || k === "y")) return "redo";
  if (key === "Escape") return "clear";
  return null;
}
