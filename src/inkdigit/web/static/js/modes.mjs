// modes: the main page's two modes, one digit (`/predict`, a square canvas) or a whole number
// (`/recognize`, a wide strip, less wide on a phone so that digits written with a finger are not
// flattened). `storedMode(storage)` is the mode kept in storage (under `MODE_KEY`), "digit" unless
// "number"; `canvasSize(mode, phone)` the canvas's pixel size; `canvasLabel(mode)` the canvas's
// accessible name. All pure.

export const MODE_KEY = "inkdigit.mode";
export const CANVAS_SIZE = { digit: [560, 560], number: [1400, 480] };
export const PHONE_NUMBER_SIZE = [960, 480];

/** "number" or "digit", whatever else is given. */
export const normalMode = (m) => (m === "number" ? "number" : "digit");

/** The mode kept in storage. */
export const storedMode = (storage) => normalMode(storage.getItem(MODE_KEY));

/** [width, height] of the canvas in mode `m`, on a phone (a narrow screen) or not. */
export const canvasSize = (m, phone) => (m === "number" && phone ? PHONE_NUMBER_SIZE : CANVAS_SIZE[m]);

/** The canvas's accessible name in mode `m`. */
export const canvasLabel = (m) => (m === "number"
  ? "Drawing area: write a number, digits side by side, with mouse, finger or pen; or press Enter to upload an image"
  : "Drawing area: draw one digit with mouse, finger or pen; or press Enter to upload an image");
