// main: wires the page together; the one module that touches the DOM as it loads. It finds the
// page's elements, creates the drawing, the view, the history and the API client, and runs the
// prediction flow: a drawing is read 120 ms after each change (debounced), an upload (file
// picker, drag and drop, paste) at once, and the current input again when the model or the
// stages panel changes; the latest request always wins. Each non-empty answer is added to the
// history (a drawing keeps one entry, updated after every stroke, until it is cleared); clicking
// an entry shows that reading again. It also keeps the connection state fresh (every 10 s, every
// 2 s while the server is away, and on online/offline events), reads the kept input again when
// the server comes back, keeps the model list fresh, and sets up the theme and the model picker.
// The page reads one digit (`/predict`) or, in number mode, a whole number (`/recognize`) on a
// wide canvas, with a box over each digit found; the mode is kept in storage.
// One input is current at a time, and all that is shown belongs to it: an upload replaces the
// drawing (and a stroke, the upload's preview); Clear and Escape clear either, and a cleared
// drawing comes back with Undo (the offer shown over the canvas, the Undo button or Ctrl+Z).
// "Clear history" asks first. A file dropped anywhere on the page is read; Enter or Space on the
// canvas or the drop zone opens the file picker.
// Signed in (GET /users/me answers), the header shows the account's links, every read sends the
// CSRF header and its source (canvas or upload), the server keeps it in the account's history (one
// entry per input and mode: a re-read of the same input replaces the entry it made before, unless
// that one was corrected) and each answer is followed by the "That's wrong?" offer.

import { deleteEntry } from "./accountapi.mjs";
import { createClient, debounce, isNumberReading, ping, predictUrl, recognizeUrl } from "./api.mjs";
import { createDrawing } from "./drawing.mjs";
import { NO_INK_MESSAGE, OFFLINE_MESSAGE, landingNotice, TIMEOUT_MESSAGE, describe, describeNumber, recallView } from "./format.mjs";
import { createHistory, entryFor, entryForNumber, flatThumb, renderHistory } from "./history.mjs";
import { initModelPicker } from "./models.mjs";
import { createCorrection } from "./correction.mjs";
import { renderNav } from "./nav.mjs";
import { createView } from "./render.mjs";
import { SESSION_ENDED, csrfHeaders, currentUser, signInLink } from "./session.mjs";
import { safeStorage } from "./storage.mjs";
import { initTheme } from "./theme.mjs";

const DEBOUNCE_MS = 120;
const TIMEOUT_MS = 5000;
const PING_MS = 10000;
const OFFLINE_PING_MS = 2000; // while the server is away, look for it more often
const MODELS_MS = 30000; // the model list is read again this often while the page is visible
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
let signedIn = false; // GET /users/me answered: every read the server answers is kept in the account's history
// signed in, a superseded read is not aborted (the server would keep it all the same, out of reach):
// it completes, and the entry it made is deleted
const client = createClient({ timeoutMs: TIMEOUT_MS, keep: () => signedIn, discarded: (body) => discard(body) });

let lastInput = null; // {kind: "canvas"} or {kind: "file", file}: what the model change re-reads
let drawingEntry = null; // `at` of the history entry the current drawing updates in place
// the entries of the current input read in the other mode, by mode, so switching modes back and
// forth updates them instead of adding one per switch; `uploadEntries` likewise for an upload
const otherModeEntries = new Map();
const uploadEntries = new Map();
let previewUrl = null;
const recalled = $("history-shown"); // an entry's thumbnail, when one is opened again
// signed in: the server's history entries of the current input, by mode (a re-read replaces its
// mode's entry), and the entries corrected here (never replaced)
const serverEntries = new Map();
const correctedIds = new Set();
// the server entries of a cleared drawing, which an undo brings back with it
let clearedServer = null;
const correction = createCorrection({ root: $("correction"), onSaved: (id, label) => corrected(id, label) });

/** A signed-in reading that is not shown (superseded, blank, or of an input gone meanwhile): the
 * history entry the server made for it goes, unless it is one the page keeps or a corrected one. */
function discard(body) {
  const id = body && typeof body === "object" ? body.id : undefined;
  if (!Number.isInteger(id) || correctedIds.has(id) || [...serverEntries.values()].includes(id)) return;
  deleteEntry(id);
}

/** A signed-in reading's history entry: offer "That's wrong?" for it, and drop the entry it replaces. */
function kept(body, reading) {
  if (!Number.isInteger(body.id)) {
    correction.hide();
    if (signedIn) showAccount(); // not kept: the session has ended meanwhile, and the header follows
    return;
  }
  const before = serverEntries.get(reading);
  if (before !== undefined && before !== body.id && !correctedIds.has(before)) deleteEntry(before);
  serverEntries.set(reading, body.id);
  const answer = reading === "number" ? body.text : (body.is_digit ? String(body.digit) : "");
  correction.offer({ id: body.id, kind: reading, answer });
}

/** A correction saved for the answer shown: the big answer says what the user said. */
function corrected(id, label) {
  correctedIds.add(id);
  if (correction.id !== id) return;
  ui.digit.textContent = label === "" ? "–" : label;
  ui.confidence.textContent = `You said: ${label === "" ? "no digit" : label}`;
  ui.announce.textContent = `Saved. You said: ${label === "" ? "no digit" : label}`;
}

/** History entries, each a button that shows that reading again. */
function showHistory(items) {
  renderHistory(ui.history, items, { onOpen: recall });
  ui.historyClear.disabled = items.length === 0; // nothing to clear
}

/** The drawing's thumbnail on the canvas colour it was drawn on, so it stays visible in either theme. */
function canvasThumb() {
  return flatThumb(ui.canvas, getComputedStyle(document.documentElement).getPropertyValue("--canvas").trim() || "#fff");
}

/** Show a history entry again in the answer panel: its answer, percentage and thumbnail. */
function recall(entry) {
  correction.hide();
  const answer = recallView(entry);
  if (answer.kind === "number") view.number(answer, null);
  else view.result(answer);
  recalled.hidden = !entry.thumb;
  if (entry.thumb) recalled.src = entry.thumb;
  ui.resultTitle.scrollIntoView({ block: "nearest" }); // on a phone the answer is above the history
}

const schedulePredict = debounce(() => predict({ kind: "canvas" }), DEBOUNCE_MS);
// one current input at a time: the drawing, or the upload whose preview is shown (the canvas is
// then empty); `clearedEntry` is the history entry of a drawing that was cleared, which an undo
// brings back
let uploadShown = false;
let clearedEntry = null;
const undoToast = $("undo-toast");
const drawing = createDrawing({
  canvas: ui.canvas, widthInput: ui.width, undo: ui.undo, redo: ui.redo, clear: ui.clear,
  canClear: () => uploadShown,
  onChange(action) {
    undoToast.hidden = !(action === "clear" && drawing.justCleared);
    if (action === "clear") {
      // a second clear (of nothing, or of an upload) keeps the entry an undo brings back
      if (drawing.justCleared && drawingEntry !== null) {
        clearedEntry = drawingEntry;
        clearedServer = new Map(serverEntries);
      }
      drawingEntry = null;
      otherModeEntries.clear();
      serverEntries.clear();
      dropUpload();
      schedulePredict.cancel();
      predict({ kind: "canvas" }); // blank at once, not after the debounce (an upload may follow)
      return;
    }
    if (action === "stroke") { clearedEntry = null; clearedServer = null; }
    if (action === "undo" && drawingEntry === null && clearedEntry !== null && !drawing.isEmpty) {
      drawingEntry = clearedEntry; // the cleared drawing is back: its history entry is updated again
      clearedEntry = null;
      if (clearedServer) { // and so are its server entries (a re-read replaces them, adds none)
        for (const [reading, id] of clearedServer) if (!serverEntries.has(reading)) serverEntries.set(reading, id);
        clearedServer = null;
      }
    }
    if (!drawing.isEmpty) { // the drawing is the current input again
      dropUpload();
      lastInput = { kind: "canvas" };
    }
    schedulePredict();
  },
});
$("undo-clear").addEventListener("click", () => drawing.undo());

/** The upload is no longer the current input: its preview goes. */
function dropUpload() {
  if (!uploadShown) return;
  uploadShown = false;
  ui.preview.hidden = true;
  ui.preview.onload = null;
  ui.preview.removeAttribute("src");
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
  if (lastInput && lastInput.kind === "file") lastInput = null;
  drawing.redraw(); // the clear button follows
}
// a stroke begun makes the drawing the current input at once
ui.canvas.addEventListener("pointerdown", () => { if (uploadShown) { dropUpload(); correction.hide(); view.neutral(); } });

// a signed-in user's reads are cookie-authenticated writes: they echo the CSRF cookie (none: no header)
async function requestInit(input) {
  if (input.kind === "canvas") {
    return { method: "POST", headers: { "content-type": "image/png", ...csrfHeaders() }, body: await drawing.toBlob() };
  }
  const form = new FormData();
  form.append("file", input.file, input.file.name || "upload");
  return { method: "POST", headers: csrfHeaders(), body: form };
}

let mode = storage.getItem(MODE_KEY) === "number" ? "number" : "digit";

async function predict(input) {
  lastInput = input;
  recalled.hidden = true;
  if (input.kind === "canvas" && drawing.isEmpty) {
    client.cancel();
    correction.hide();
    view.neutral();
    return;
  }
  const reading = mode; // the answer is shown as what was asked, even if the mode changes meanwhile
  const source = input.kind === "canvas" ? "canvas" : "upload";
  const outcome = reading === "number"
    ? await client.send(recognizeUrl({ model: ui.model.value, source }), () => requestInit(input), isNumberReading)
    : await client.send(predictUrl({ debug: ui.stagesPanel.open, model: ui.model.value, source }), () => requestInit(input));
  if (input !== lastInput) { // another input has taken over meanwhile: this answer is not shown
    if (outcome.kind === "ok") discard(outcome.body);
    return;
  }
  if (outcome.reached) setOnline(true, false);
  const upload = input.kind === "file";
  switch (outcome.kind) {
    case "ok":
      if (reading === "number") showNumber(outcome.body, input);
      else show(outcome.body, input);
      break;
    case "offline":
      setOnline(false);
      failed(OFFLINE_MESSAGE, upload);
      break;
    case "timeout":
      failed(TIMEOUT_MESSAGE, upload);
      break;
    case "error":
      if (outcome.code === "not_authenticated") { // the session ended: the page and the header say so
        failed(SESSION_ENDED, upload);
        ui.error.append(" ", signInLink("/"));
        showAccount();
      } else {
        failed(outcome.message, upload);
      }
      break;
    default: // stale: a newer request has taken over
  }
}

function failed(message, upload) {
  correction.hide();
  if (upload) dropUpload();
  view.error(message, { clear: true }); // nothing of an earlier answer stays above the error
}

function show(body, input) {
  const answer = describe(body);
  if (answer.empty) {
    discard(body);
    correction.hide();
    view.neutral();
    if (input.kind === "file") view.message(NO_INK_MESSAGE);
    return;
  }
  view.result(answer);
  kept(body, "digit");
  const entry = entryFor(body, input.kind === "canvas" ? canvasThumb() : null, Date.now());
  if (input.kind === "canvas") {
    showHistory(historyStore.add(entry, drawingEntry));
    drawingEntry = entry.at;
  } else {
    showHistory(historyStore.add(entry, uploadEntries.get(mode) ?? null));
    uploadEntries.set(mode, entry.at);
    showPreview(input.file, entry.at);
  }
}

function showNumber(body, input) {
  const answer = describeNumber(body);
  if (answer.empty) {
    discard(body);
    correction.hide();
    view.neutral();
    if (input.kind === "file") view.message(NO_INK_MESSAGE);
    return;
  }
  kept(body, "number");
  if (input.kind === "canvas") {
    view.number(answer, ui.canvas);
    const entry = entryForNumber(body, canvasThumb(), Date.now());
    showHistory(historyStore.add(entry, drawingEntry));
    drawingEntry = entry.at;
  } else {
    view.number(answer, null); // the boxes are drawn once the upload is decoded
    const entry = entryForNumber(body, null, Date.now());
    showHistory(historyStore.add(entry, uploadEntries.get(mode) ?? null));
    uploadEntries.set(mode, entry.at);
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
    showHistory(historyStore.update(at, { thumb: flatThumb(ui.preview, "#ffffff") }));
    decoded();
  };
  ui.preview.src = previewUrl;
  ui.preview.hidden = false;
  uploadShown = true;
  drawing.redraw(); // Clear now clears the upload
}

/** Read one digit or a whole number: the canvas takes the mode's shape, the current input is read again. */
function setMode(next) {
  mode = next === "number" ? "number" : "digit";
  storage.setItem(MODE_KEY, mode);
  for (const radio of ui.modes) radio.checked = radio.value === mode;
  document.body.dataset.mode = mode;
  drawing.resize(...canvasSize(mode));
  ui.canvas.setAttribute("aria-label", mode === "number"
    ? "Drawing area: write a number, digits side by side, with mouse, finger or pen; or press Enter to upload an image"
    : "Drawing area: draw one digit with mouse, finger or pen; or press Enter to upload an image");
  view.mode(mode);
  // a reading in the other mode is its own history entry: the one made the last time this input
  // was read in that mode, if any (so switching back and forth adds no more entries)
  const previous = mode === "number" ? "digit" : "number";
  if (drawingEntry !== null) otherModeEntries.set(previous, drawingEntry);
  drawingEntry = otherModeEntries.get(mode) ?? null;
  otherModeEntries.delete(mode);
  recalled.hidden = true;
  if (lastInput) predict(lastInput);
  else { correction.hide(); view.neutral(); }
}
for (const radio of ui.modes) radio.addEventListener("change", () => { if (radio.checked) setMode(radio.value); });
phone.addEventListener("change", () => {
  drawing.resize(...canvasSize(mode));
  if (!drawing.isEmpty && lastInput && lastInput.kind === "canvas") schedulePredict(); // the drawing moved: read it again
});

// uploads: picker, drag and drop, paste
function upload(file) {
  if (!file) return;
  schedulePredict.cancel(); // a drawing's pending read must not overtake the upload
  if (!drawing.isEmpty) drawing.clear(); // the upload replaces the drawing (Undo brings it back)
  uploadEntries.clear(); // a new upload: its readings are new history entries
  serverEntries.clear();
  predict({ kind: "file", file });
}
ui.file.addEventListener("change", () => upload(ui.file.files[0]));
ui.drop.addEventListener("dragover", () => ui.drop.classList.add("over"));
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
// a file dropped anywhere on the page (the canvas too) is read, never opened in the tab
const hasFiles = (e) => Boolean(e.dataTransfer) && [...e.dataTransfer.types].includes("Files");
document.addEventListener("dragover", (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  e.dataTransfer.dropEffect = "copy";
});
document.addEventListener("drop", (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  ui.drop.classList.remove("over");
  upload(e.dataTransfer.files[0]);
});
// from the keyboard: Enter or Space on the drop zone, or on the canvas, opens the file picker
for (const target of [ui.drop, ui.canvas]) {
  target.addEventListener("keydown", (e) => {
    if (e.target !== target || (e.key !== "Enter" && e.key !== " ")) return;
    e.preventDefault();
    ui.file.click();
  });
}
document.addEventListener("paste", (e) => {
  const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((i) => i.kind === "file");
  if (item) upload(item.getAsFile());
});

ui.stagesPanel.addEventListener("toggle", () => { if (ui.stagesPanel.open && lastInput) predict(lastInput); });
// "Clear history" asks first, inline: the button gives way to "Delete N readings? [Delete] [Keep]"
const historyConfirm = $("history-confirm");
function askHistory(open) {
  historyConfirm.hidden = !open;
  ui.historyClear.hidden = open;
}
ui.historyClear.addEventListener("click", () => {
  const n = historyStore.load().length;
  $("history-confirm-text").textContent = `Delete ${n === 1 ? "the saved reading" : `all ${n} saved readings`}?`;
  askHistory(true);
  $("history-keep").focus();
});
$("history-delete").addEventListener("click", () => {
  showHistory(historyStore.clear());
  askHistory(false);
  ui.historyClear.focus();
});
$("history-keep").addEventListener("click", () => { askHistory(false); ui.historyClear.focus(); });
historyConfirm.addEventListener("keydown", (e) => {
  if (e.key !== "Escape") return;
  e.stopPropagation(); // Escape here answers "keep", it does not clear the drawing
  askHistory(false);
  ui.historyClear.focus();
});

// connection state: checked every 10 s (every 2 s while the server is away) and on online/offline
// events; when the server is back, the model list is read again and the input kept is read again
let online = null; // null: not known yet
let pingTimer = null;
function setOnline(now, reread = true) {
  const back = now && online === false;
  online = now;
  view.connection(now);
  if (back) {
    refreshModels();
    if (reread && lastInput) predict(lastInput);
  }
}
async function checkConnection() {
  setOnline(await ping());
  clearTimeout(pingTimer); // one timer, even when an online event overlaps a check
  pingTimer = setTimeout(checkConnection, online ? PING_MS : OFFLINE_PING_MS);
}
window.addEventListener("online", checkConnection);
window.addEventListener("offline", () => setOnline(false));

const picker = initModelPicker({ select: ui.model, storage, onChange: () => { if (lastInput) predict(lastInput); } });
// a model installed while the page is open appears: on focus, when visible again, and every 30 s
const refreshModels = () => picker.then((p) => p.refresh());
window.addEventListener("focus", refreshModels);
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refreshModels(); });
setInterval(() => { if (document.visibilityState === "visible") refreshModels(); }, MODELS_MS);
initTheme({
  root: document.documentElement, button: ui.themeToggle, storage,
  media: matchMedia("(prefers-color-scheme: dark)"), onChange: () => drawing.redraw(),
});
/** The header's account links: who is signed in (GET /users/me), or "Sign in" / "Sign up". */
async function showAccount() {
  const user = await currentUser();
  signedIn = Boolean(user);
  renderNav($("nav"), user, { here: "/" });
  document.body.dataset.account = user ? "signed-in" : "anonymous";
}
setMode(mode);
showHistory(historyStore.load());
// coming from the account page: what happened there is said (a flag in the query, never its text)
const farewell = landingNotice(location.search);
if (farewell) {
  view.message(farewell);
  ui.announce.textContent = farewell;
  window.history.replaceState(null, "", location.pathname); // said once, not again on a reload
}
showAccount();
checkConnection();
