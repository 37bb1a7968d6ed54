// main: wires the page together; the one module that touches the DOM as it loads. It finds the
// page's elements, creates the drawing, the view, the history and the API client, and runs the
// prediction flow: a drawing is read 120 ms after each change (debounced), an upload (file
// picker, drag and drop, paste) at once, and the current input again when the model or the
// stages panel changes; the latest request always wins. Each non-empty answer is added to the
// history (a drawing keeps one entry, updated after every stroke, until it is cleared). It also
// keeps the connection state fresh (every 10 s and on online/offline events) and sets up the
// theme and the model picker.

import { createClient, debounce, ping, predictUrl } from "./api.mjs";
import { createDrawing, thumbnail } from "./drawing.mjs";
import { NO_INK_MESSAGE, OFFLINE_MESSAGE, TIMEOUT_MESSAGE, describe } from "./format.mjs";
import { createHistory, entryFor } from "./history.mjs";
import { initModelPicker } from "./models.mjs";
import { createView } from "./render.mjs";
import { safeStorage } from "./storage.mjs";
import { initTheme } from "./theme.mjs";

const DEBOUNCE_MS = 120;
const TIMEOUT_MS = 5000;
const PING_MS = 10000;

const $ = (id) => document.getElementById(id);
const ui = {
  canvas: $("canvas"), digit: $("digit"), confidence: $("confidence"), message: $("message"), bars: $("bars"),
  error: $("error"), announce: $("announce"), stages: $("stages"), stagesPanel: $("stages-panel"),
  history: $("history"), historyClear: $("history-clear"), undo: $("undo"), redo: $("redo"), clear: $("clear"),
  width: $("stroke-width"), file: $("file"), drop: $("drop"), preview: $("preview"), connection: $("connection"),
  model: $("model"), themeToggle: $("theme-toggle"),
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

async function predict(input) {
  lastInput = input;
  if (input.kind === "canvas" && drawing.isEmpty) {
    client.cancel();
    view.neutral();
    return;
  }
  const url = predictUrl({ debug: ui.stagesPanel.open, model: ui.model.value });
  const outcome = await client.send(url, () => requestInit(input));
  if (outcome.reached) view.connection(true);
  const upload = input.kind === "file";
  switch (outcome.kind) {
    case "ok":
      show(outcome.body, input);
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

/** The uploaded image under the drop zone; its thumbnail joins the history entry once decoded. */
function showPreview(file, at) {
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(file);
  ui.preview.onload = () => view.history(historyStore.update(at, { thumb: thumbnail(ui.preview) }));
  ui.preview.src = previewUrl;
  ui.preview.hidden = false;
}

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
view.neutral();
view.history(historyStore.load());
checkConnection();
