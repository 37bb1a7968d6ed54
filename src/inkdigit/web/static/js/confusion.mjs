// confusion: the confusion matrix of corrections as an HTML table: a row for each digit read, a
// column for each digit it really was, each cell its count, shaded by it (a background colour set
// from script: the pages' policy forbids style attributes, not style properties). Built in the
// given <table> when `renderConfusion(table, matrix, color)` runs; nothing happens at import.

import { shade } from "./charts.mjs";

export function renderConfusion(table, matrix, color) {
  const doc = table.ownerDocument;
  const max = Math.max(0, ...matrix.flat());
  const cell = (tag, text, props = {}) => {
    const c = doc.createElement(tag);
    c.textContent = text;
    for (const [k, v] of Object.entries(props)) c.setAttribute(k, v);
    return c;
  };
  const caption = cell("caption", "Rows: the digit read. Columns: the digit it really was.");
  const head = doc.createElement("thead");
  const top = doc.createElement("tr");
  top.append(cell("td", ""));
  for (let d = 0; d < 10; d++) top.append(cell("th", String(d), { scope: "col", "aria-label": `really ${d}` }));
  head.append(top);
  const body = doc.createElement("tbody");
  matrix.forEach((row, read) => {
    const tr = doc.createElement("tr");
    tr.append(cell("th", String(read), { scope: "row", "aria-label": `read as ${read}` }));
    row.forEach((count, truth) => {
      const td = cell("td", String(count));
      const s = shade(count, max);
      if (count > 0) {
        td.style.backgroundColor = `color-mix(in srgb, ${color} ${Math.round(15 + 70 * s)}%, transparent)`;
        td.dataset.count = String(count);
      }
      if (read === truth) td.classList.add("diagonal");
      if (s > 0.55) td.classList.add("strong");
      tr.append(td);
    });
    body.append(tr);
  });
  table.replaceChildren(caption, head, body);
}
