// inkdigit web app: draw or upload a digit, see live predictions and what the model sees.
// Plain JavaScript, no build step, nothing fetched from outside this server.
"use strict";

const API = "/api/v1/predict";
const HISTORY_KEY = "inkdigit.history";
const THEME_KEY = "inkdigit.theme";
const MODEL_KEY = "inkdigit.model";
const HISTORY_MAX = 50;
const DEBOUNCE_MS = 120;
const TIMEOUT_MS = 5000;

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");
const ui = {
  digit: $("digit"), confidence: $("confidence"), message: $("message"), bars: $("bars"), error: $("error"),
  announce: $("announce"), stages: $("stages"), stagesPanel: $("stages-panel"), history: $("history"),
  undo: $("undo"), redo: $("redo"), clear: $("clear"), width: $("stroke-width"), file: $("file"),
  drop: $("drop"), preview: $("preview"), connection: $("connection"), model: $("model"),
};

// ---- drawing: strokes are kept as points so undo/redo and theme changes can redraw exactly ----
let strokes = [];
let undone = [];
let current = null;
let drawingEntry = null; // the history entry this drawing updates in place

function inkColour() {
  return getComputedStyle(document.documentElement).getPropertyValue("--ink").trim() || "#111";
}

function toCanvas(e) {
  const r = canvas.getBoundingClientRect();
  return { x: (e.clientX - r.left) * (canvas.width / r.width), y: (e.clientY - r.top) * (canvas.height / r.height) };
}

function drawStroke(s) {
  ctx.strokeStyle = ctx.fillStyle = inkColour();
  ctx.lineWidth = s.width;
  ctx.lineCap = ctx.lineJoin = "round";
  const p = s.points;
  if (p.length === 1) {
    ctx.beginPath();
    ctx.arc(p[0].x, p[0].y, s.width / 2, 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(p[0].x, p[0].y);
  for (let i = 1; i < p.length - 1; i++) { // curves through midpoints: smooth, no corners
    const mx = (p[i].x + p[i + 1].x) / 2, my = (p[i].y + p[i + 1].y) / 2;
    ctx.quadraticCurveTo(p[i].x, p[i].y, mx, my);
  }
  ctx.lineTo(p[p.length - 1].x, p[p.length - 1].y);
  ctx.stroke();
}

function redraw() {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  strokes.forEach(drawStroke);
  ui.undo.disabled = strokes.length === 0;
  ui.redo.disabled = undone.length === 0;
  ui.clear.disabled = strokes.length === 0;
}

canvas.addEventListener("pointerdown", (e) => {
  if (e.pointerType === "mouse" && e.button !== 0) return;
  e.preventDefault();
  canvas.setPointerCapture(e.pointerId);
  const scale = canvas.width / canvas.getBoundingClientRect().width;
  current = { width: Number(ui.width.value) * scale, points: [toCanvas(e)] };
  strokes.push(current);
  undone = [];
  redraw();
});
canvas.addEventListener("pointermove", (e) => {
  if (!current) return;
  e.preventDefault();
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  for (const ev of (events.length ? events : [e])) current.points.push(toCanvas(ev));
  redraw();
});
function endStroke() {
  if (!current) return;
  current = null;
  schedulePredict();
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);
canvas.addEventListener("lostpointercapture", endStroke);

function undo() { if (strokes.length) { undone.push(strokes.pop()); redraw(); schedulePredict(); } }
function redo() { if (undone.length) { strokes.push(undone.pop()); redraw(); schedulePredict(); } }
function clearCanvas() {
  strokes = []; undone = []; drawingEntry = null;
  redraw();
  schedulePredict();
}
ui.undo.addEventListener("click", undo);
ui.redo.addEventListener("click", redo);
ui.clear.addEventListener("click", clearCanvas);
document.addEventListener("keydown", (e) => {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.toLowerCase();
  if (mod && key === "z" && !e.shiftKey) { e.preventDefault(); undo(); }
  else if (mod && ((key === "z" && e.shiftKey) || key === "y")) { e.preventDefault(); redo(); }
  else if (e.key === "Escape") { clearCanvas(); }
});

// ---- predictions: debounced, one in flight, stale answers ignored ----
let timer = null;
let sequence = 0;
let inflight = null;
let lastInput = null; // {kind: "canvas"} or {kind: "file", file}

function schedulePredict() {
  clearTimeout(timer);
  timer = setTimeout(() => predict({ kind: "canvas" }), DEBOUNCE_MS);
}

function canvasBlob() {
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

async function predict(input) {
  lastInput = input;
  const seq = ++sequence;
  if (inflight) inflight.abort();
  if (input.kind === "canvas" && strokes.length === 0) { inflight = null; showNeutral(); return; }
  const controller = new AbortController();
  inflight = controller;
  const timeout = setTimeout(() => controller.abort(), TIMEOUT_MS);
  const debug = ui.stagesPanel.open;
  const model = ui.model.value ? `&model=${encodeURIComponent(ui.model.value)}` : "";
  const url = `${API}?top_k=10${debug ? "&debug=true" : ""}${model}`;
  let init;
  if (input.kind === "canvas") {
    init = { method: "POST", headers: { "content-type": "image/png" }, body: await canvasBlob() };
  } else {
    const form = new FormData();
    form.append("file", input.file, input.file.name || "upload");
    init = { method: "POST", body: form };
  }
  try {
    const response = await fetch(url, { ...init, signal: controller.signal });
    const body = await response.json().catch(() => ({ error: { message: `The server answered ${response.status}.` } }));
    setConnection(true);
    if (seq !== sequence) return; // a newer request superseded this one
    if (!response.ok) { showError(body.error ? body.error.message : `Request failed (${response.status}).`, input); return; }
    showResult(body, input);
  } catch (err) {
    if (seq !== sequence) return;
    if (err.name === "AbortError" && !controller.signal.aborted) return;
    const offline = !(err.name === "AbortError");
    if (offline) setConnection(false);
    showError(offline ? "The server cannot be reached. Check your connection; your drawing is kept."
                      : "The server took too long to answer. Try again.", input);
  } finally {
    clearTimeout(timeout);
    if (inflight === controller) inflight = null;
  }
}

// ---- showing results ----
function buildBars() {
  for (let d = 0; d < 10; d++) {
    const li = document.createElement("li");
    li.dataset.testid = `confidence-${d}`;
    const label = document.createElement("span");
    label.textContent = String(d);
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    track.appendChild(fill);
    const pct = document.createElement("span");
    pct.className = "pct";
    pct.textContent = "–";
    li.append(label, track, pct);
    ui.bars.appendChild(li);
  }
}

function setBars(probabilities, best) {
  [...ui.bars.children].forEach((li, d) => {
    const p = probabilities ? probabilities[d] : 0;
    li.querySelector(".fill").style.width = `${(p * 100).toFixed(1)}%`;
    li.querySelector(".pct").textContent = probabilities ? `${(p * 100).toFixed(1)}%` : "–";
    li.dataset.confidence = String(p);
    li.classList.toggle("best", d === best);
    li.setAttribute("aria-label", probabilities ? `${d}: ${(p * 100).toFixed(1)} percent` : `${d}: no value`);
  });
}

function showNeutral() {
  ui.digit.textContent = "";
  ui.confidence.textContent = "";
  ui.message.textContent = "Draw a digit anywhere on the canvas, at any size.";
  ui.error.hidden = true;
  ui.stages.replaceChildren();
  setBars(null, -1);
}

function showError(message, input) {
  ui.error.textContent = message;
  ui.error.hidden = false;
  if (input.kind === "file") { ui.preview.hidden = true; ui.digit.textContent = ""; ui.confidence.textContent = ""; setBars(null, -1); }
  ui.announce.textContent = message;
}

function showResult(r, input) {
  ui.error.hidden = true;
  if (r.is_empty) {
    showNeutral();
    if (input.kind === "file") ui.message.textContent = "No ink found in that image.";
    return;
  }
  const best = r.probabilities.indexOf(Math.max(...r.probabilities));
  ui.digit.textContent = r.is_digit ? String(r.digit) : "?";
  ui.confidence.textContent = `${(r.confidence * 100).toFixed(1)}% sure`;
  ui.message.textContent = r.is_digit ? `Read by ${r.model} in ${r.elapsed_ms.toFixed(1)} ms.`
    : "This does not look like a digit to the model.";
  setBars(r.probabilities, best);
  ui.announce.textContent = r.is_digit ? `Predicted ${r.digit}, ${(r.confidence * 100).toFixed(0)} percent sure`
    : "Not recognised as a digit";
  showStages(r.stages);
  if (input.kind === "file") { ui.preview.src = URL.createObjectURL(input.file); ui.preview.hidden = false; }
  remember(r, input);
}

const STAGE_NAMES = { input: "input", ink: "ink", cleaned: "cleaned", cropped: "cropped", stroke: "stroke",
  deskewed: "deskewed", fitted: "20×20", final: "28×28 (model input)" };
function showStages(stages) {
  ui.stages.replaceChildren();
  if (!stages) return;
  for (const [name, src] of Object.entries(stages)) {
    const fig = document.createElement("figure");
    const img = document.createElement("img");
    img.src = src;
    img.alt = `Preprocessing stage: ${STAGE_NAMES[name] || name}`;
    const cap = document.createElement("figcaption");
    cap.textContent = STAGE_NAMES[name] || name;
    fig.append(img, cap);
    ui.stages.appendChild(fig);
  }
}
ui.stagesPanel.addEventListener("toggle", () => { if (ui.stagesPanel.open && lastInput) predict(lastInput); });

// ---- history: the last 50 answers of this browser, with thumbnails ----
function loadHistory() {
  try { return JSON.parse(localStorage.getItem(HISTORY_KEY)) || []; } catch { return []; }
}
function saveHistory(items) {
  try { localStorage.setItem(HISTORY_KEY, JSON.stringify(items.slice(0, HISTORY_MAX))); } catch { /* full or private mode */ }
}
function thumbnail(source) {
  const t = document.createElement("canvas");
  t.width = t.height = 64;
  const c = t.getContext("2d");
  const w = source.naturalWidth || source.width, h = source.naturalHeight || source.height;
  const s = Math.min(64 / w, 64 / h);
  c.drawImage(source, (64 - w * s) / 2, (64 - h * s) / 2, w * s, h * s);
  return t.toDataURL("image/png");
}
function remember(r, input) {
  const items = loadHistory();
  const entry = { digit: r.is_digit ? r.digit : null, confidence: r.confidence, at: Date.now(),
    thumb: input.kind === "canvas" ? thumbnail(canvas) : null };
  if (input.kind === "canvas" && drawingEntry !== null) {
    const i = items.findIndex((x) => x.at === drawingEntry);
    if (i >= 0) items.splice(i, 1);
  }
  if (input.kind === "canvas") drawingEntry = entry.at;
  items.unshift(entry);
  saveHistory(items);
  renderHistory();
  if (input.kind === "file") { // thumbnail once the preview has decoded
    ui.preview.onload = () => { entry.thumb = thumbnail(ui.preview); saveHistory(items); renderHistory(); };
  }
}
function renderHistory() {
  const items = loadHistory();
  ui.history.replaceChildren(...items.map((x) => {
    const li = document.createElement("li");
    if (x.thumb) { const img = document.createElement("img"); img.src = x.thumb; img.alt = ""; li.appendChild(img); }
    const label = document.createElement("div");
    const digit = document.createElement("strong");
    digit.textContent = x.digit === null ? "?" : String(x.digit);
    label.append(digit, ` ${(x.confidence * 100).toFixed(0)}%`);
    li.appendChild(label);
    li.setAttribute("aria-label", `${x.digit === null ? "not a digit" : x.digit}, ${(x.confidence * 100).toFixed(0)} percent`);
    return li;
  }));
}
$("history-clear").addEventListener("click", () => { saveHistory([]); renderHistory(); });

// ---- uploads: picker, drag and drop, paste ----
function upload(file) { if (file) predict({ kind: "file", file }); }
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

// ---- model choice: every model the server offers, the last choice remembered ----
function percent(m, set) {
  const a = m.metrics && m.metrics[set] && m.metrics[set].accuracy;
  return typeof a === "number" ? `${(a * 100).toFixed(2)}%` : null;
}
async function loadModels() {
  try {
    const response = await fetch("/api/v1/models", { cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    const body = await response.json();
    const remembered = localStorage.getItem(MODEL_KEY);
    const saved = body.models.some((m) => m.name === remembered) ? remembered : null;
    ui.model.replaceChildren(...body.models.map((m) => {
      const opt = document.createElement("option");
      const mnist = percent(m, "mnist_test"), usps = percent(m, "usps_test");
      opt.value = m.name;
      opt.textContent = `${m.name} (${m.family}${mnist ? `, MNIST ${mnist}` : ""}${usps ? `, USPS ${usps}` : ""})`;
      opt.selected = saved ? m.name === saved : m.default;
      return opt;
    }));
    ui.model.disabled = body.models.length < 2;
  } catch {
    ui.model.replaceChildren(new Option("server default", ""));
  }
}
ui.model.addEventListener("change", () => {
  try { localStorage.setItem(MODEL_KEY, ui.model.value); } catch { /* private mode */ }
  if (lastInput) predict(lastInput);
});
loadModels();

// ---- connection state and theme ----
function setConnection(online) {
  ui.connection.dataset.state = online ? "online" : "offline";
  ui.connection.textContent = online ? "connected" : "server unreachable";
}
async function ping() {
  try { setConnection((await fetch("/healthz", { cache: "no-store" })).ok); } catch { setConnection(false); }
}
window.addEventListener("online", ping);
window.addEventListener("offline", () => setConnection(false));
setInterval(ping, 10000);

function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  redraw();
}
$("theme-toggle").addEventListener("click", () => {
  const dark = getComputedStyle(document.documentElement).getPropertyValue("color-scheme").trim() === "dark";
  const next = dark ? "light" : "dark";
  localStorage.setItem(THEME_KEY, next);
  applyTheme(next);
});
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => redraw());

buildBars();
applyTheme(localStorage.getItem(THEME_KEY));
showNeutral();
renderHistory();
ping();
