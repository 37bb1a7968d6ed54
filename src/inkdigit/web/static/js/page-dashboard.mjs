// page-dashboard: the signed-in user's statistics (GET /api/v1/stats) as headline figures, five
// charts (Chart.js, vendored, loaded by the page before this module as `window.Chart`) and the
// confusion matrix of corrections as a table; operators can switch between their own readings and
// everyone's (scope=all), and see and change the model everyone is served (the "Models" section:
// modelspanel.mjs). Charts are drawn again in the new colours when the theme changes.

import { getLive, getStats, promoteModel, rollBack } from "./accountapi.mjs";
import { chartConfigs, chartSummary, isEmpty, scopeWords, totals } from "./charts.mjs";
import { renderConfusion } from "./confusion.mjs";
import { createModelsPanel } from "./modelspanel.mjs";
import { gate, say, sessionEnded, startPage } from "./pagekit.mjs";

const $ = (id) => document.getElementById(id);
const charts = new Map();
let stats = null;

function colors() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return { text: v("--text"), muted: v("--muted"), line: v("--line"), accent: v("--accent"), bar: v("--bar"),
    ok: v("--ok"), warn: v("--warn") };
}

function draw() {
  if (!stats) return;
  const words = scopeWords(stats.scope);
  $("c-accuracy-t").textContent = words.accuracy;
  $("confusion-hint").textContent = words.confusion;
  const list = $("totals");
  list.replaceChildren();
  for (const { term, value } of totals(stats)) {
    const box = document.createElement("div");
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = term;
    dd.textContent = value;
    box.append(dt, dd);
    list.append(box);
  }
  // nothing read in the period: say so, instead of empty axes
  const empty = isEmpty(stats);
  $("empty").hidden = !empty;
  $("figures").hidden = empty;
  if (empty) {
    for (const chart of charts.values()) chart.destroy();
    charts.clear();
    return;
  }
  const Chart = globalThis.Chart;
  const c = colors();
  for (const [id, config] of Object.entries(chartConfigs(stats, c))) {
    const canvas = $(id);
    const caption = $(`${id}-t`).textContent;
    canvas.setAttribute("aria-label", `${caption}. ${chartSummary(id, stats)}`);
    if (charts.has(id)) charts.get(id).destroy();
    if (Chart) charts.set(id, new Chart(canvas, config));
  }
  if (!Chart) say($("status"), "The charts could not be loaded; the figures and the table below still show the numbers.");
  renderConfusion($("confusion"), stats.confusion, c.accent);
}

async function load() {
  const scope = document.querySelector("input[name=scope]:checked").value;
  const r = await getStats({ days: Number($("days").value), scope });
  if (sessionEnded(r)) return;
  if (!r.ok) { say($("status"), r.message); return; }
  say($("status"), "");
  stats = r.body;
  document.body.dataset.scope = stats.scope;
  draw();
}

$("controls").addEventListener("change", load);
$("controls").addEventListener("submit", (e) => e.preventDefault());

const user = await startPage({ here: "/dashboard", onTheme: () => draw() });
if (gate(user)) {
  $("scope").hidden = !user.is_admin;
  load();
  if (user.is_admin) createModelsPanel($("models"), { getLive, promoteModel, rollBack, sessionEnded }).load();
}
