// main: wires the page together; the one module that touches the DOM as it loads. It finds the
// page's elements, creates the drawing, the view, the history and the API client, and runs the
// prediction flow: a drawing is read 120 ms after each change (debounced), an upload (file
// picker, drag and drop, paste) at once, and the current input again when the model or the
// stages panel changes; the latest request always wins. Each non-empty answer is added to the
// history (a drawing keeps one entry, updated after every stroke, until it is cleared). It also
// keeps the connection state fresh (every 10 s and on online/offline events) and sets up the
// theme and the model picker. The page reads one digit (`/predict`) or, in number mode, a whole
// number (`/recognize`) on a wide canvas, with a box over each digit found; the mode is kept in
// storage.

import { createClient, debounce, isNumberReading, ping, predictUrl, recognizeUrl } from "./api.mjs";
import { createDrawing, thumbnail } from "./drawing.mjs";
import { NO_INK_MESSAGE, OFFLINE_MESSAGE, TIMEOUT_MESSAGE, describe, describeNumber } from "./format.mjs";
import { createHistory, entryFor, entryForNumber } from "./history.mjs";
import { initModelPicker } from "./models.mjs";
import { createView } from "./render.mjs";
import { safeStorage } from "./storage.mjs";
import { initTheme } from "./theme.mjs";

const DEBOUNCE_MS = 120;
const TIMEOUT_MS = 5000;
const PING_MS = 10000;
const MODE_KEY = "inkdigit.mode";
// the canvas's pixel size in each mode: a square for one digit, a wide strip for a number (less
// wide on a phone, so that digits written with a finger are not flattened)
const CANVAS_SIZE = { digit: [560, 560], number: [1400, 480] };
const PHONE_NUMBER_SIZE = [960, 480];
const phone = matchMedia("(max-width: 600px)");
const canvasSize = (m) => (m === "number" && phone.matches ? PHONE_NUMBER_SIZE : CANVAS_SIZE[m]);

const $ = (id) => document.getElementById(id);
const ui = {
  canvas: $("canvas"), digit: $("digit"), confidence: $("confidence"), message: $("message"), bars: $("bars"),
  error: $("error"), announce: $("announce"), stages: $("stages"), stagesPanel: $("stages-panel"),
  history: $("history"), historyClear: $("history-clear"), undo: $("undo"), redo: $("redo"), clear: $("clear"),
  width: $("stroke-width"), file: $("file"), drop: $("drop"), preview: $("preview"), connection: $("connection"),
  model: $("model"), themeToggle: $("theme-toggle"), numberView: $("number-view"), numberDigits: $("number-digits"),
  drawTitle: $("draw-title"), resultTitle: $("result-title"), modes: [...document.querySelectorAll("input[name=mode]")],
};

const storage = safeStorage();
const historyStore = createHistory(storage);
const view = createView(ui);
const client = createClient({ timeoutMs: TIMEOUT_MS });

let lastInput = null; // {kind: "canvas"} or {kind: "file", file}: what the model change re-reads
let drawingEntry = null; // `at` of the history entry the current drawing updates in place
let previewUrl = null;

const schedulePredict = debounce(() => predict({ kind: "canvas" }), DEBOUNCE_MS);
const drawing = createDrawing({
  canvas: ui.canvas, widthInput: ui.width, undo: ui.undo, redo: ui.redo, clear: ui.clear,
  onChange(action) {
    if (action === "clear") drawingEntry = null;
    schedulePredict();
  },
});

async function requestInit(input) {
  if (input.kind === "canvas") {
    return { method: "POST", headers: { "content-type": "image/png" }, body: await drawing.toBlob() };
  }
  const form = new FormData();
  form.append("file", input.file, input.file.name || "upload");
  return { method: "POST", body: form };
}

let mode = storage.getItem(MODE_KEY) === "number" ? "number" : "digit";

async function predict(input) {
  lastInput = input;
  if (input.kind === "canvas" && drawing.isEmpty) {
    client.cancel();
    view.neutral();
    return;
  }
  const reading = mode; // the answer is shown as what was asked, even if the mode changes meanwhile
  const outcome = reading === "number"
    ? await client.send(recognizeUrl({ model: ui.model.value }), () => requestInit(input), isNumberReading)
    : await client.send(predictUrl({ debug: ui.stagesPanel.open, model: ui.model.value }), () => requestInit(input));
  if (outcome.reached) view.connection(true);
  const upload = input.kind === "file";
  switch (outcome.kind) {
    case "ok":
      if (reading === "number") showNumber(outcome.body, input);
      else show(outcome.body, input);
      break;
    case "offline":
      view.connection(false);
      failed(OFFLINE_MESSAGE, upload);
      break;
    case "timeout":
      failed(TIMEOUT_MESSAGE, upload);
      break;
    case "error":
      failed(outcome.message, upload);
      break;
    default: // stale: a newer request has taken over
  }
}

function failed(message, upload) {
  if (upload) ui.preview.hidden = true;
  view.error(message, { clear: upload });
}

function show(body, input) {
  const answer = describe(body);
  if (answer.empty) {
    view.neutral();
    if (input.kind === "file") view.message(NO_INK_MESSAGE);
    return;
  }
  view.result(answer);
  const entry = entryFor(body, input.kind === "canvas" ? thumbnail(ui.canvas) : null, Date.now());
  if (input.kind === "canvas") {
    view.history(historyStore.add(entry, drawingEntry));
    drawingEntry = entry.at;
  } else {
    view.history(historyStore.add(entry));
    showPreview(input.file, entry.at);
  }
}

function showNumber(body, input) {
  const answer = describeNumber(body);
  if (answer.empty) {
    view.neutral();
    if (input.kind === "file") view.message(NO_INK_MESSAGE);
    return;
  }
  if (input.kind === "canvas") {
    view.number(answer, ui.canvas);
    const entry = entryForNumber(body, thumbnail(ui.canvas), Date.now());
    view.history(historyStore.add(entry, drawingEntry));
    drawingEntry = entry.at;
  } else {
    view.number(answer, null); // the boxes are drawn once the upload is decoded
    const entry = entryForNumber(body, null, Date.now());
    view.history(historyStore.add(entry));
    // drawn once decoded, unless another input or the other mode has taken over by then
    showPreview(input.file, entry.at, () => { if (lastInput === input && mode === "number") view.number(answer, ui.preview); });
  }
}

/** The uploaded image under the drop zone; its thumbnail joins the history entry once decoded
 * (and `decoded()` runs then). */
function showPreview(file, at, decoded = () => {}) {
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(file);
  ui.preview.onload = () => {
    view.history(historyStore.update(at, { thumb: thumbnail(ui.preview) }));
    decoded();
  };
  ui.preview.src = previewUrl;
  ui.preview.hidden = false;
}

/** Read one digit or a whole number: the canvas takes the mode's shape, the current input is read again. */
function setMode(next) {
  mode = next === "number" ? "number" : "digit";
  storage.setItem(MODE_KEY, mode);
  for (const radio of ui.modes) radio.checked = radio.value === mode;
  document.body.dataset.mode = mode;
  drawing.resize(...canvasSize(mode));
  ui.canvas.setAttribute("aria-label", mode === "number"
    ? "Drawing area: write a number, digits side by side, with mouse, finger or pen"
    : "Drawing area: draw one digit with mouse, finger or pen");
  view.mode(mode);
  drawingEntry = null; // a reading in the other mode is a new history entry
  if (lastInput) predict(lastInput);
  else view.neutral();
}
for (const radio of ui.modes) radio.addEventListener("change", () => { if (radio.checked) setMode(radio.value); });
phone.addEventListener("change", () => {
  drawing.resize(...canvasSize(mode));
  if (!drawing.isEmpty && lastInput && lastInput.kind === "canvas") schedulePredict(); // the drawing moved: read it again
});

// uploads: picker, drag and drop, paste
function upload(file) {
  if (file) predict({ kind: "file", file });
}
ui.file.addEventListener("change", () => upload(ui.file.files[0]));
ui.drop.addEventListener("dragover", (e) => { e.preventDefault(); ui.drop.classList.add("over"); });
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
ui.drop.addEventListener("drop", (e) => {
  e.preventDefault();
  ui.drop.classList.remove("over");
  upload(e.dataTransfer.files[0]);
});
document.addEventListener("paste", (e) => {
  const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((i) => i.kind === "file");
  if (item) upload(item.getAsFile());
});

ui.stagesPanel.addEventListener("toggle", () => { if (ui.stagesPanel.open && lastInput) predict(lastInput); });
ui.historyClear.addEventListener("click", () => view.history(historyStore.clear()));

// connection state
async function checkConnection() {
  view.connection(await ping());
}
window.addEventListener("online", checkConnection);
window.addEventListener("offline", () => view.connection(false));
setInterval(checkConnection, PING_MS);

initModelPicker({ select: ui.model, storage, onChange: () => { if (lastInput) predict(lastInput); } });
initTheme({
  root: document.documentElement, button: ui.themeToggle, storage,
  media: matchMedia("(prefers-color-scheme: dark)"), onChange: () => drawing.redraw(),
});
setMode(mode);
view.history(historyStore.load());
checkConnection();
