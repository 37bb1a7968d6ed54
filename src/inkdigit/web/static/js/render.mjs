// render: copies answers into the page. `createView(ui)` takes the page's elements (digit,
// confidence, message, bars, error, announce, stages, history, connection) and fills the bar list
// with one row per digit; its methods show the neutral state (`neutral`), an error (`error`), a
// prediction described by format.mjs's `describe` (`result`), the preprocessing stages
// (`stages`), the history entries (`history`) and the connection state (`connection`). Every node
// is built with createElement/textContent/attributes, never from HTML strings, so text from the
// server or from storage can never become markup. Touches the DOM only when called.

import { NEUTRAL_MESSAGE, barView, historyView, stageName } from "./format.mjs";

const DATA_IMAGE = /^data:image\//;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

export function createView(ui) {
  const bars = [];
  for (let d = 0; d < 10; d++) {
    const fill = el("span", { className: "fill" });
    const pct = el("span", { className: "pct" }, "–");
    const li = el("li", {}, el("span", {}, String(d)), el("span", { className: "track" }, fill), pct);
    li.dataset.testid = `confidence-${d}`;
    ui.bars.append(li);
    bars.push({ li, fill, pct });
  }

  function setBars(probabilities, best) {
    bars.forEach(({ li, fill, pct }, d) => {
      const bar = barView(probabilities, d);
      fill.style.width = bar.width;
      pct.textContent = bar.text;
      li.dataset.confidence = String(bar.value);
      li.classList.toggle("best", d === best);
      li.setAttribute("aria-label", bar.label);
    });
  }

  function clearAnswer() {
    ui.digit.textContent = "";
    ui.confidence.textContent = "";
    setBars(null, -1);
  }

  function stages(map) {
    ui.stages.replaceChildren(...Object.entries(map || {})
      .filter(([, src]) => typeof src === "string" && DATA_IMAGE.test(src))
      .map(([name, src]) => el("figure", {},
        el("img", { src, alt: `Preprocessing stage: ${stageName(name)}` }),
        el("figcaption", {}, stageName(name)))));
  }

  return {
    /** Nothing to show: a blank canvas. */
    neutral() {
      clearAnswer();
      ui.message.textContent = NEUTRAL_MESSAGE;
      ui.error.hidden = true;
      stages(null);
    },
    /** A message under the answer. */
    message(text) {
      ui.message.textContent = text;
    },
    /** An error, announced; `clear` also empties the answer (an upload that failed). */
    error(message, { clear = false } = {}) {
      ui.error.textContent = message;
      ui.error.hidden = false;
      if (clear) clearAnswer();
      ui.announce.textContent = message;
    },
    /** A prediction, as `describe` gives it (not an empty one). */
    result(answer) {
      ui.error.hidden = true;
      ui.digit.textContent = answer.digitText;
      ui.confidence.textContent = answer.confidenceText;
      ui.message.textContent = answer.message;
      setBars(answer.probabilities, answer.best);
      ui.announce.textContent = answer.announcement;
      stages(answer.stages);
    },
    stages,
    /** History entries, newest first, each a thumbnail (if any) and its digit and percentage. */
    history(items) {
      ui.history.replaceChildren(...items.map((entry) => {
        const view = historyView(entry);
        const li = el("li");
        if (entry.thumb && DATA_IMAGE.test(entry.thumb)) li.append(el("img", { src: entry.thumb, alt: "" }));
        li.append(el("div", {}, el("strong", {}, view.digitText), view.percentText));
        li.setAttribute("aria-label", view.label);
        return li;
      }));
    },
    connection(online) {
      ui.connection.dataset.state = online ? "online" : "offline";
      ui.connection.textContent = online ? "connected" : "server unreachable";
    },
  };
}
