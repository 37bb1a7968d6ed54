// page-history: the readings kept for the signed-in user (GET /api/v1/history), newest first, a
// page at a time, filtered by answer, source, kind and correction state: each with its thumbnail
// (GET .../{id}/image), answer, confidence, time, source and whether it was corrected; each can be
// corrected (PUT .../correction), its correction withdrawn, or be deleted (asked twice).

import { correct, deleteEntry, imageUrl, listHistory, uncorrect } from "./accountapi.mjs";
import { entryText, pageText } from "./entries.mjs";
import { gate, say, sessionEnded, startPage } from "./pagekit.mjs";

const PAGE = 20;
const $ = (id) => document.getElementById(id);
const list = $("entries");
const status = $("status");
const filters = { digit: $("f-digit"), source: $("f-source"), kind: $("f-kind"), corrected: $("f-corrected") };
let offset = 0;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k in node && k !== "ariaLabel") node[k] = v;
    else node.setAttribute(k === "ariaLabel" ? "aria-label" : k, v);
  }
  node.append(...children);
  return node;
}

function entryItem(entry) {
  const t = entryText(entry);
  // on a light ground, the ink outlined (app.css): a drawing's own ink is dark or light, as its theme was
  const img = el("span", { className: "thumb" },
    el("img", { src: imageUrl(entry.id), alt: t.alt, loading: "lazy", width: 72, height: 72 }));
  const head = el("p", { className: "entry-answer" }, el("strong", {}, t.answer), " ", el("span", {}, t.confidence));
  const meta = el("p", { className: "entry-meta" }, el("time", { dateTime: t.iso }, t.time), ` · ${t.source} · ${t.kind}`);
  const state = el("p", { className: "entry-state", dataset: { state: t.state, testid: "entry-state" } }, t.stateText);
  const input = el("input", {
    type: "text", inputMode: "numeric", pattern: "[0-9]*", autocomplete: "off", size: 6,
    value: entry.label ?? entry.answer, id: `fix-${entry.id}`,
  });
  const fix = el("form", { className: "entry-fix", noValidate: true },
    el("label", { htmlFor: `fix-${entry.id}` }, "Right answer"), input,
    el("button", { type: "submit" }, "Save"));
  const msg = el("p", { className: "status", role: "status", hidden: true });
  fix.addEventListener("submit", async (e) => {
    e.preventDefault();
    const label = input.value.trim();
    if (!/^[0-9]*$/.test(label)) { say(msg, "Only digits, please (empty: there is no digit)."); return; }
    const r = await correct(entry.id, label);
    if (sessionEnded(r)) return;
    if (!r.ok) { say(msg, r.message); return; }
    item.replaceWith(entryItem(r.body));
  });
  const actions = el("div", { className: "row" });
  if (entry.label !== null && entry.label !== undefined) {
    const undo = el("button", { type: "button" }, "Withdraw correction");
    undo.addEventListener("click", async () => {
      const r = await uncorrect(entry.id);
      if (sessionEnded(r)) return;
      if (!r.ok) { say(msg, r.message); return; }
      item.replaceWith(entryItem(r.body));
    });
    actions.append(undo);
  }
  const del = el("button", { type: "button", className: "danger", ariaLabel: `Delete this reading (${t.answer})` }, "Delete");
  del.addEventListener("click", async () => {
    if (del.dataset.armed !== "yes") {
      del.dataset.armed = "yes";
      del.textContent = "Really delete?";
      del.setAttribute("aria-label", "Really delete this reading?");
      return;
    }
    const r = await deleteEntry(entry.id);
    if (sessionEnded(r)) return;
    if (!r.ok) { say(msg, r.message); return; }
    load();
  });
  del.addEventListener("blur", () => {
    del.dataset.armed = "";
    del.textContent = "Delete";
    del.setAttribute("aria-label", `Delete this reading (${t.answer})`);
  });
  actions.append(del);
  const item = el("li", { className: "entry", dataset: { testid: "server-entry", id: String(entry.id), state: t.state } },
    img, el("div", { className: "entry-main" }, head, meta, state), fix, actions, msg);
  return item;
}

const filtered = () => Object.values(filters).some((select) => select.value !== "");

/** The page of readings at `offset`; `top`: then scroll back to the top of the list. */
async function load({ top = false } = {}) {
  const query = { offset, limit: PAGE };
  for (const [name, select] of Object.entries(filters)) query[name] = select.value;
  const r = await listHistory(query);
  if (sessionEnded(r)) return;
  if (!r.ok) { say(status, r.message); return; }
  say(status, "");
  const { items, total } = r.body;
  if (items.length === 0 && offset > 0) { offset = Math.max(0, offset - PAGE); load(); return; }
  list.replaceChildren(...items.map(entryItem));
  const matching = filtered();
  $("summary").textContent = total ? `${total} reading${total === 1 ? "" : "s"}${matching ? " match these filters" : ""}`
    : matching ? "No readings match these filters." : "No readings here yet: read a digit on the main page while signed in.";
  $("show-all").hidden = !matching;
  $("page-info").textContent = pageText(offset, items.length, total);
  $("prev").disabled = offset === 0;
  $("next").disabled = offset + items.length >= total;
  if (top) $("main").scrollIntoView({ block: "start" }); // the new page is read from its top
}

for (const select of Object.values(filters)) select.addEventListener("change", () => { offset = 0; load(); });
$("filters").addEventListener("submit", (e) => e.preventDefault());
$("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load({ top: true }); });
$("next").addEventListener("click", () => { offset += PAGE; load({ top: true }); });
$("show-all").addEventListener("click", () => {
  for (const select of Object.values(filters)) select.value = "";
  offset = 0;
  load();
  filters.digit.focus();
});

const user = await startPage({ here: "/history" });
if (gate(user)) load();
