// main: wires the page together; the one module that touches the DOM as it loads. It finds the
// page's elements, creates the drawing, the view, the history and the API client, and runs the
// prediction flow: a drawing is read 120 ms after each change (debounced), an upload (uploads.mjs:
// picker, drag and drop, paste) at once, and the current input again when the model, the mode
// (modes.mjs) or the stages panel changes; the latest request always wins. Each non-empty answer
// is added to the history (a drawing keeps one entry, updated after every stroke, until it is
// cleared); clicking an entry shows that reading again; "Clear history" asks first
// (historyconfirm.mjs). It keeps the connection state fresh (connection.mjs), reads the kept input
// again when the server comes back, keeps the model list fresh, and sets up the theme.
// Drawings of one digit are read in the page itself when the model allows (localreader.mjs): at
// once after each stroke and while a stroke is drawn, with the server or without it; the server
// still reads uploads, numbers, the stages panel's drawings and a signed-in user's drawings (for the
// account's history, its answer following the page's own). A signed-in user's drawings read while
// the server is unreachable are kept (offlinekeeper.mjs) and sent when it is back.
// One input is current at a time, and all that is shown belongs to it: an upload replaces the
// drawing (and a stroke, the upload's preview); Clear and Escape clear either, and a cleared
// drawing comes back with Undo (the offer shown over the canvas, the Undo button or Ctrl+Z).
// Signed in (GET /users/me answers), the header shows the account's links, every read sends the
// CSRF header and its source (canvas or upload), the server keeps it in the account's history (one
// entry per input and mode: serverentries.mjs) and each answer is followed by the "That's wrong?" offer.

import { createAccountHeader } from "./accountheader.mjs";
import { createClient, debounce, isNumberReading, predictUrl, recognizeUrl } from "./api.mjs";
import { createConnection } from "./connection.mjs";
import { blobFromDataUrl, createDrawing } from "./drawing.mjs";
import { NO_INK_MESSAGE, OFFLINE_MESSAGE, landingNotice, TIMEOUT_MESSAGE, describe, describeNumber, recallView } from "./format.mjs";
import { createHistory, entryFor, entryForNumber, flatThumb, renderHistory } from "./history.mjs";
import { initHistoryConfirm } from "./historyconfirm.mjs";
import { createLocalEntries } from "./localentries.mjs";
import { createLocalReader } from "./localreader.mjs";
import { initModelPicker } from "./models.mjs";
import { MODE_KEY, canvasLabel, canvasSize, normalMode, storedMode } from "./modes.mjs";
import { createCorrectionOffer } from "./correctionoffer.mjs";
import { createOfflineKeeper, settled } from "./offlinekeeper.mjs";
import { createPreview } from "./preview.mjs";
import { createView } from "./render.mjs";
import { createServerEntries } from "./serverentries.mjs";
import { SESSION_ENDED, csrfHeaders, signInLink } from "./session.mjs";
import { safeStorage } from "./storage.mjs";
import { initTheme } from "./theme.mjs";
import { initUploads } from "./uploads.mjs";

const DEBOUNCE_MS = 120;
const TIMEOUT_MS = 5000;
const MODELS_MS = 30000; // the model list is read again this often while the page is visible
const phone = matchMedia("(max-width: 600px)");

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
// signed in, every read the server answers is kept in the account's history: a superseded read is not
// aborted (the server would keep it all the same, out of reach): it completes, and its entry is deleted
const account = createAccountHeader({ nav: $("nav"), body: document.body });
const client = createClient({ timeoutMs: TIMEOUT_MS, keep: () => account.signedIn, discarded: (body) => server.discard(body) });

let lastInput = null; // {kind: "canvas"} or {kind: "file", file}: what the model change re-reads
const local = createLocalEntries(); // the history entries of the current input, one per mode
const preview = createPreview(ui.preview);
const reader = createLocalReader(); // the model in the page, once loaded
let models = []; // the server's model list, as last read
// which drawing is current (a clear or an upload starts another; an undone clear brings the last one
// back): one kept entry per drawing, across reloads too, so an id that never repeats
const newDrawingId = () => (globalThis.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`);
let drawingId = newDrawingId();
let clearedId = null; // the drawing a clear set aside
let readNumber = 0; // the latest reading of a finished stroke: an older one's answer is not shown
const recalled = $("history-shown"); // an entry's thumbnail, when one is opened again
const server = createServerEntries(); // signed in: the server's history entries of the current input
const correction = createCorrectionOffer({ // "That's wrong?"; a reading not kept: the header follows
  root: $("correction"), server, shown: ui, lost: () => { if (account.signedIn) account.show(); },
});

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
// one current input at a time: the drawing, or the upload whose preview is shown (the canvas is then empty)
let uploadShown = false;
const undoToast = $("undo-toast");
const drawing = createDrawing({
  canvas: ui.canvas, widthInput: ui.width, undo: ui.undo, redo: ui.redo, clear: ui.clear,
  canClear: () => uploadShown,
  onDraw: readWhileDrawing,
  onChange(action) {
    cancelAnimationFrame(liveFrame); // the stroke is over: its finished reading follows
    liveFrame = 0;
    undoToast.hidden = !(action === "clear" && drawing.justCleared);
    if (action === "clear") {
      // a second clear (of nothing, or of an upload) keeps the entry an undo brings back
      if (drawing.justCleared) clearedId = drawingId;
      drawingId = newDrawingId();
      if (local.clear(drawing.justCleared)) server.setAside();
      server.clear();
      dropUpload();
      schedulePredict.cancel();
      predict({ kind: "canvas" }); // blank at once, not after the debounce (an upload may follow)
      return;
    }
    if (action === "stroke") { local.stroke(); server.forgetSetAside(); clearedId = null; }
    // the cleared drawing is back: its history entries, here and on the server, are updated again
    if (action === "undo" && !drawing.isEmpty && local.restore()) {
      server.restore();
      if (clearedId) drawingId = clearedId;
    }
    if (!drawing.isEmpty) { // the drawing is the current input again
      dropUpload();
      lastInput = { kind: "canvas" };
    }
    if (readsHere()) { // no wait: the answer is a few milliseconds away
      schedulePredict.cancel();
      predict({ kind: "canvas" });
    } else {
      schedulePredict();
    }
  },
});

/** Whether the page reads the drawing itself (one digit, with a model it can run). */
const readsHere = () => mode === "digit" && reader.ready;

/** While a stroke is drawn, its answer so far, at most once a frame (not kept in the history). */
let liveFrame = 0;
function readWhileDrawing() {
  if (liveFrame || !readsHere()) return;
  liveFrame = requestAnimationFrame(async () => {
    liveFrame = 0;
    const mine = readNumber; // shown only if no finished stroke was read meanwhile
    const body = await reader.read(drawing.pixels());
    if (body && !body.is_empty && mine === readNumber && mode === "digit") {
      correction.hide();
      recalled.hidden = true;
      view.result(describe(body));
    }
  });
}
$("undo-clear").addEventListener("click", () => drawing.undo());

/** The upload is no longer the current input: its preview goes. */
function dropUpload() {
  if (!uploadShown) return;
  uploadShown = false;
  preview.hide();
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

let mode = storedMode(storage);

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
  let readHere = false; // the page's own answer is shown: the server's, if asked for, follows it
  if (input.kind === "canvas" && readsHere()) {
    const mine = ++readNumber;
    const body = await reader.read(drawing.pixels());
    if (input !== lastInput || mine !== readNumber) return;
    if (body) {
      show(body, input);
      readHere = true;
      if (!account.signedIn && !ui.stagesPanel.open) { // nothing the server would add ...
        keepForLater(); // ... unless the page was loaded offline for someone signed in (keeper.owner)
        return;
      }
    }
  }
  const outcome = reading === "number"
    ? await client.send(recognizeUrl({ model: ui.model.value, source }), () => requestInit(input), isNumberReading)
    : await client.send(predictUrl({ debug: ui.stagesPanel.open, model: ui.model.value, source }), () => requestInit(input));
  if (input !== lastInput) { // another input has taken over meanwhile: this answer is not shown
    if (outcome.kind === "ok") server.discard(outcome.body);
    return;
  }
  if (outcome.reached) connection.set(true, false);
  if (readHere && outcome.kind !== "ok") { // the page's answer stays
    if (outcome.kind === "offline") {
      connection.set(false);
      keepForLater();
    } else if (outcome.code === "not_authenticated") {
      account.show();
    }
    return;
  }
  const upload = input.kind === "file";
  switch (outcome.kind) {
    case "ok":
      if (reading === "number") showNumber(outcome.body, input);
      else show(outcome.body, input);
      break;
    case "offline":
      connection.set(false);
      failed(OFFLINE_MESSAGE, upload);
      break;
    case "timeout":
      failed(TIMEOUT_MESSAGE, upload);
      break;
    case "error":
      if (outcome.code === "not_authenticated") { // the session ended: the page and the header say so
        failed(SESSION_ENDED, upload);
        ui.error.append(" ", signInLink("/"));
        account.show();
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

/** A reading that found nothing: neither shown nor kept (an upload says so). */
function blank(body, input) {
  server.discard(body);
  correction.hide();
  view.neutral();
  if (input.kind === "file") view.message(NO_INK_MESSAGE);
}

function show(body, input) {
  const answer = describe(body);
  if (answer.empty) return blank(body, input);
  view.result(answer);
  if (body.where === "browser") correction.hide(); // not kept anywhere yet: nothing to correct
  else correction.kept(body, "digit");
  const entry = entryFor(body, input.kind === "canvas" ? canvasThumb() : null, Date.now());
  showHistory(historyStore.add(entry, local.replace(input.kind, mode, entry.at)));
  if (input.kind === "file") showPreview(input.file, entry.at);
}

function showNumber(body, input) {
  const answer = describeNumber(body);
  if (answer.empty) return blank(body, input);
  correction.kept(body, "number");
  const canvas = input.kind === "canvas";
  view.number(answer, canvas ? ui.canvas : null); // an upload's boxes are drawn once it is decoded
  const entry = entryForNumber(body, canvas ? canvasThumb() : null, Date.now());
  showHistory(historyStore.add(entry, local.replace(input.kind, mode, entry.at)));
  // drawn once decoded, unless another input or the other mode has taken over by then
  if (!canvas) showPreview(input.file, entry.at, () => { if (lastInput === input && mode === "number") view.number(answer, ui.preview); });
}

/** The uploaded image under the drop zone; its thumbnail joins the history entry once decoded
 * (and `decoded()` runs then). */
function showPreview(file, at, decoded = () => {}) {
  preview.show(file, () => {
    showHistory(historyStore.update(at, { thumb: flatThumb(ui.preview, "#ffffff") }));
    decoded();
  });
  uploadShown = true;
  drawing.redraw(); // Clear now clears the upload
}

/** Read one digit or a whole number: the canvas takes the mode's shape, the current input is read again. */
function setMode(next) {
  mode = normalMode(next);
  storage.setItem(MODE_KEY, mode);
  for (const radio of ui.modes) radio.checked = radio.value === mode;
  document.body.dataset.mode = mode;
  drawing.resize(...canvasSize(mode, phone.matches));
  ui.canvas.setAttribute("aria-label", canvasLabel(mode));
  view.mode(mode);
  local.switchMode(mode); // a reading in the other mode is its own history entry
  recalled.hidden = true;
  if (lastInput) predict(lastInput);
  else { correction.hide(); view.neutral(); }
}
for (const radio of ui.modes) radio.addEventListener("change", () => { if (radio.checked) setMode(radio.value); });
phone.addEventListener("change", () => {
  drawing.resize(...canvasSize(mode, phone.matches));
  if (!drawing.isEmpty && lastInput && lastInput.kind === "canvas") schedulePredict(); // the drawing moved: read it again
});

// uploads: picker, drag and drop, paste
function upload(file) {
  if (!file) return;
  schedulePredict.cancel(); // a drawing's pending read must not overtake the upload
  if (!drawing.isEmpty) drawing.clear(); // the upload replaces the drawing (Undo brings it back)
  local.newUpload(); // a new upload: its readings are new history entries
  drawingId = newDrawingId();
  server.clear();
  predict({ kind: "file", file });
}
initUploads({ file: ui.file, drop: ui.drop, canvas: ui.canvas, onFile: upload });

ui.stagesPanel.addEventListener("toggle", () => { if (ui.stagesPanel.open && lastInput) predict(lastInput); });
initHistoryConfirm({
  button: ui.historyClear, box: $("history-confirm"), text: $("history-confirm-text"), del: $("history-delete"),
  keep: $("history-keep"), count: () => historyStore.load().length, onDelete: () => showHistory(historyStore.clear()),
});

// connection state: when the server is back, the model list is read again and the input kept is read again
// a signed-in user's drawings read while the server is away: kept, sent when it is back
const keeper = createOfflineKeeper({
  account, storage, online: () => connection.online, hasSession: () => Boolean(csrfHeaders()["X-CSRF-Token"]),
  send: async (entry) => settled((await fetch(predictUrl({ source: "canvas" }), {
    method: "POST", credentials: "same-origin", body: blobFromDataUrl(entry.png),
    headers: { "content-type": "image/png", ...csrfHeaders() }, signal: AbortSignal.timeout(TIMEOUT_MS),
  })).status),
});

function keepForLater() {
  if (lastInput && lastInput.kind === "canvas") keeper.keep(drawingId, () => drawing.toDataURL());
}

/** Who is signed in, asked again (the server is back, or the page loaded); what was kept is sent. */
const signedInAgain = () => keeper.confirm(lastInput && lastInput.kind === "canvas" ? drawingId : null);

/** Load the model the page reads with (or none), and say who is reading in the header. */
let keptFiles = ""; // what the service worker was last asked to keep
async function prepareReader() {
  await reader.prepare(models, ui.model.value);
  view.connection(connection.online, reader.ready);
  const files = reader.ready ? ["/api/v1/models", ...reader.files] : [];
  if (files.length && JSON.stringify(files) !== keptFiles) keepOffline(files);
}

/** Ask the service worker to keep the model files (sw.js); again whenever a new worker takes over. */
function keepOffline(files) {
  if (!("serviceWorker" in navigator)) return;
  keptFiles = JSON.stringify(files);
  navigator.serviceWorker.ready.then((reg) => reg.active && reg.active.postMessage({ keep: files }));
}

const connection = createConnection({
  shown: (now) => view.connection(now, reader.ready),
  back: async (reread) => {
    refreshModels();
    await signedInAgain(); // who is signed in decides whether readings are kept: asked first
    if (reread && lastInput) predict(lastInput);
  },
});
window.addEventListener("online", connection.check);
window.addEventListener("offline", () => connection.set(false));

const picker = initModelPicker({
  select: ui.model, storage,
  onModels: (list) => { models = list; prepareReader(); },
  onChange: async () => { await prepareReader(); if (lastInput) predict(lastInput); },
});
// a model installed while the page is open appears: on focus, when visible again, and every 30 s
const refreshModels = () => picker.then((p) => p.refresh());
window.addEventListener("focus", refreshModels);
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refreshModels(); });
setInterval(() => { if (document.visibilityState === "visible") refreshModels(); }, MODELS_MS);
initTheme({
  root: document.documentElement, button: ui.themeToggle, storage,
  media: matchMedia("(prefers-color-scheme: dark)"), onChange: () => drawing.redraw(),
});
setMode(mode);
showHistory(historyStore.load());
// coming from the account page: what happened there is said (a flag in the query, never its text)
const farewell = landingNotice(location.search);
if (farewell) {
  view.message(farewell);
  ui.announce.textContent = farewell;
  window.history.replaceState(null, "", location.pathname); // said once, not again on a reload
}
connection.check();
signedInAgain(); // the header's account links; drawings kept by an earlier visit are sent
// the page, its scripts, the runtime and the model kept for offline reading (sw.js); a browser
// without service workers (or a page not served over HTTPS or from localhost) reads with the server
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(() => {});
  // a new worker (after an upgrade) has its own cache: it is told again what to keep
  navigator.serviceWorker.addEventListener("controllerchange", () => { if (keptFiles) keepOffline(JSON.parse(keptFiles)); });
}
