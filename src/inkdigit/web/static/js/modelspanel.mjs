// modelspanel: the dashboard's "Models" section, for operators: which model is live, the corrections
// collected, each candidate with its gate's table and a "Make live" button when it passed, "Roll
// back", and the recent events. `createModelsPanel(section, api)` wires it to the API (`api`:
// getLive, promoteModel, rollBack and sessionEnded, injected by the page); its `load()` fetches and
// draws. The wording is modelops.mjs's; results and the API's errors go to the section's status
// line (aria-live). Nothing runs at import.

import { statusView } from "./modelops.mjs";

function el(doc, tag, text, props = {}) {
  const e = doc.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  for (const [k, v] of Object.entries(props)) {
    if (k === "className") e.className = v;
    else if (k.startsWith("data-")) e.dataset[k.slice(5)] = v;
    else e.setAttribute(k, v);
  }
  return e;
}

/** A description list of {term, value} items; `boxed` puts each pair in a <div> (the tiles of .totals). */
function fillList(dl, items, boxed) {
  const doc = dl.ownerDocument;
  dl.replaceChildren(...items.flatMap(({ term, value }) => {
    const pair = [el(doc, "dt", term), el(doc, "dd", value)];
    if (!boxed) return pair;
    const box = el(doc, "div");
    box.append(...pair);
    return [box];
  }));
}

/** A table of `rows` (arrays of cells: texts or nodes; the first one heads its row) under `headers`,
 * in a region that scrolls sideways if it must and can be scrolled from the keyboard. On a phone the
 * CSS lays each row out as a block, every cell under its column's name (`data-label`): the roles are
 * set explicitly, so that the table stays a table to assistive technology whatever its display. */
function table(doc, label, headers, rows, { rowProps = () => ({}), className = "" } = {}) {
  const t = el(doc, "table", null, { className: `data ${className}`.trim(), role: "table" });
  const head = el(doc, "thead", null, { role: "rowgroup" });
  const top = el(doc, "tr", null, { role: "row" });
  for (const h of headers) top.append(el(doc, "th", h, { scope: "col", role: "columnheader" }));
  head.append(top);
  const body = el(doc, "tbody", null, { role: "rowgroup" });
  rows.forEach((cells, i) => {
    const tr = el(doc, "tr", null, { role: "row", ...rowProps(i) });
    cells.forEach((c, j) => {
      const cell = j === 0 ? el(doc, "th", null, { scope: "row", role: "rowheader" })
        : el(doc, "td", null, { role: "cell", "data-label": headers[j] });
      cell.append(c);
      tr.append(cell);
    });
    body.append(tr);
  });
  t.append(head, body);
  const scroll = el(doc, "div", null, { className: "table-scroll", tabindex: "0", role: "region", "aria-label": label });
  scroll.append(t);
  return scroll;
}

function candidateItem(doc, c, onPromote) {
  const li = el(doc, "li", null, { className: "candidate", "data-testid": "candidate", "data-name": c.name });
  const head = el(doc, "div", null, { className: "candidate-head" });
  head.append(el(doc, "h4", c.name));
  if (c.live) head.append(el(doc, "span", "Live now", { className: "badge", "data-kind": "ok" }));
  li.append(head, el(doc, "p", c.about, { className: "hint" }));
  if (c.gate.rows.length) {
    const rows = c.gate.rows.map((r) => {
      const result = el(doc, "span", r.result, { className: "result", "data-kind": r.ok ? "ok" : "error" });
      if (r.rule) result.title = r.rule;
      const cell = el(doc, "span");
      cell.append(result);
      if (r.rule) cell.append(el(doc, "span", ` (${r.rule})`, { className: "rule" }));
      return [r.measure, r.n, r.before, r.after, r.change, cell];
    });
    li.append(table(doc, `Gate of ${c.name}`, ["Measure", "n", "Before", "After", "Change (points)", "Result"], rows,
      { rowProps: (i) => ({ "data-testid": "gate-row", "data-ok": String(c.gate.rows[i].ok) }), className: "gate" }));
  }
  const foot = el(doc, "div", null, { className: "row" });
  foot.append(el(doc, "p", c.gate.verdict, { className: "verdict", "data-kind": c.gate.passed ? "ok" : "error",
    "data-testid": "verdict" }));
  if (c.canPromote) {
    const button = el(doc, "button", "Make live", { type: "button", className: "primary", "data-testid": "promote" });
    button.append(el(doc, "span", ` ${c.name}`, { className: "sr-only" }));
    button.addEventListener("click", () => onPromote(c.name, button));
    foot.append(button);
  }
  li.append(foot);
  return li;
}

export function createModelsPanel(section, api, { locale } = {}) {
  const doc = section.ownerDocument;
  const $ = (name) => section.querySelector(`[data-part="${name}"]`);
  const status = $("status");
  const rollback = $("rollback");
  let working = false;

  const say = (text, kind = "error") => {
    status.textContent = text || "";
    status.dataset.kind = kind;
    status.hidden = !text;
  };

  function draw(body) {
    const v = statusView(body, locale);
    fillList($("facts"), v.facts, false);
    fillList($("corrections"), v.corrections, true);
    rollback.disabled = working || !v.rollback.possible;
    $("rollback-hint").textContent = v.rollbackHint;
    $("candidates").replaceChildren(...v.candidates.map((c) => candidateItem(doc, c, promote)));
    $("no-candidates").hidden = v.candidates.length > 0;
    const events = v.events.map((e) => {
      const time = el(doc, "time", e.when ? e.when.text : "", e.when ? { datetime: e.when.datetime } : {});
      return [time, e.what, e.model, e.actor];
    });
    $("events").replaceChildren(...(events.length ? [table(doc, "Recent changes", ["When", "What", "Model", "Who"],
      events, { rowProps: () => ({ "data-testid": "event" }), className: "events" })] : []));
    $("no-events").hidden = events.length > 0;
    section.dataset.live = body.live;
  }

  /** One write (promote or roll back): the buttons disabled meanwhile, the answer drawn, the result said. */
  async function act(request, done) {
    if (working) return;
    working = true;
    for (const b of section.querySelectorAll("button")) b.disabled = true;
    section.setAttribute("aria-busy", "true");
    say("Working…", "info");
    const r = await request();
    working = false;
    section.setAttribute("aria-busy", "false");
    if (api.sessionEnded(r)) return;
    if (!r.ok) {
      say(r.message);
      await load(false); // the buttons as the server's state allows
      return;
    }
    draw(r.body);
    say(done(r.body), "ok");
    // the clicked button may be gone: keep the keyboard in the section
    (rollback.disabled ? $("title") : rollback).focus();
  }

  function promote(name) {
    return act(() => api.promoteModel(name), (b) => `${b.live} is live: readings that name no model get it now.`);
  }

  rollback.addEventListener("click", () =>
    act(() => api.rollBack(), (b) => `Rolled back: ${b.live} is live again.`));

  /** Fetch the status and draw it; false when the section is not for this user (not an operator). */
  async function load(clear = true) {
    const r = await api.getLive();
    if (api.sessionEnded(r)) return false;
    if (r.status === 403) { section.hidden = true; return false; }
    section.hidden = false;
    if (!r.ok) { say(r.message); return true; }
    if (clear) say("");
    draw(r.body);
    return true;
  }

  return { load, draw };
}
