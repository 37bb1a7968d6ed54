// render: copies answers into the page. `createView(ui)` takes the page's elements (digit,
// confidence, message, bars, error, announce, stages, connection) and fills the bar list
// with one row per digit; its methods show the neutral state (`neutral`), an error (`error`), a
// prediction described by format.mjs's `describe` (`result`), a number described by its
// `describeNumber` (`number`: the text, and the input redrawn with a box, digit and percentage over
// each digit found), which of the two modes the page is in (`mode`), the preprocessing stages
// (`stages`) and the connection state (`connection`; history.mjs draws the history). Every node
// is built with createElement/textContent/attributes, never from HTML strings, so text from the
// server or from storage can never become markup. Touches the DOM only when called.

import { NEUTRAL_MESSAGE, NUMBER_NEUTRAL_MESSAGE, barView, connectionView, stageName } from "./format.mjs";

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

  let numberMode = false;

  function clearAnswer() {
    ui.digit.textContent = "";
    ui.digit.classList.remove("long");
    ui.confidence.textContent = "";
    setBars(null, -1);
    ui.numberDigits.replaceChildren();
    ui.numberView.hidden = true;
  }

  /** The input (a canvas or a decoded image) redrawn with each digit's box and label over it. */
  function drawBoxes(answer, source) {
    const w = source.naturalWidth || source.width;
    const h = source.naturalHeight || source.height;
    if (!w || !h) return;
    const css = getComputedStyle(document.documentElement);
    const scale = Math.min(1, 900 / w, 400 / h);
    const view = ui.numberView;
    view.width = Math.max(1, Math.round(w * scale));
    view.height = Math.max(1, Math.round(h * scale));
    const ctx = view.getContext("2d");
    ctx.fillStyle = css.getPropertyValue("--canvas").trim() || "#fff";
    ctx.fillRect(0, 0, view.width, view.height);
    ctx.drawImage(source, 0, 0, view.width, view.height);
    const accent = css.getPropertyValue("--accent").trim() || "#2457d6";
    const error = css.getPropertyValue("--error").trim() || "#b3261e";
    const font = Math.max(12, Math.round(16 * Math.max(1, view.width / 600)));
    ctx.font = `600 ${font}px system-ui, sans-serif`;
    ctx.lineWidth = 2;
    for (const d of answer.digits) {
      const [x, y, bw, bh] = d.box.map((v) => v * scale);
      const colour = d.label === "?" ? error : accent;
      ctx.strokeStyle = colour;
      ctx.strokeRect(x, y, bw, bh);
      const tag = `${d.label} ${d.confidenceText}`;
      const tw = ctx.measureText(tag).width + 6;
      const ty = y >= font + 4 ? y - font - 4 : Math.min(view.height - font - 4, y + bh + 2);
      ctx.fillStyle = colour;
      ctx.fillRect(x, ty, tw, font + 4);
      ctx.fillStyle = "#fff";
      ctx.fillText(tag, x + 3, ty + font);
    }
    view.hidden = false;
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
      ui.message.textContent = numberMode ? NUMBER_NEUTRAL_MESSAGE : NEUTRAL_MESSAGE;
      ui.error.hidden = true;
      stages(null);
    },
    /** A message under the answer. */
    message(text) {
      ui.message.textContent = text;
    },
    /** An error, announced; `clear` also empties the answer and its message (nothing of an
     * earlier answer stays above the error). */
    error(message, { clear = false } = {}) {
      ui.error.textContent = message;
      ui.error.hidden = false;
      if (clear) {
        clearAnswer();
        ui.message.textContent = "";
      }
      ui.announce.textContent = message;
    },
    /** A prediction, as `describe` gives it (not an empty one). */
    result(answer) {
      clearAnswer(); // nothing of a number reading stays beside a digit
      ui.error.hidden = true;
      ui.digit.textContent = answer.digitText;
      ui.confidence.textContent = answer.confidenceText;
      ui.message.textContent = answer.message;
      setBars(answer.probabilities, answer.best);
      ui.announce.textContent = answer.announcement;
      stages(answer.stages);
    },
    /** A number, as `describeNumber` gives it (not an empty one), over `source`: the canvas
     * drawn on, or the uploaded image once decoded. */
    number(answer, source) {
      clearAnswer();
      ui.error.hidden = true;
      ui.digit.textContent = answer.text || "?";
      ui.digit.classList.toggle("long", (answer.text || "?").length > 2);
      ui.confidence.textContent = answer.confidenceText;
      ui.message.textContent = answer.message;
      ui.announce.textContent = answer.announcement;
      ui.numberDigits.replaceChildren(...answer.digits.map((d) => {
        const li = el("li", {}, el("strong", {}, d.label), ` ${d.confidenceText}`);
        if (d.alternatives) li.title = `Alternatives: ${d.alternatives}`;
        li.setAttribute("aria-label", d.spoken);
        return li;
      }));
      stages(null);
      if (source) drawBoxes(answer, source);
    },
    /** Switch between reading one digit ("digit") and a whole number ("number"). */
    mode(mode) {
      numberMode = mode === "number";
      clearAnswer(); // the answer shown belonged to the other mode
      ui.bars.hidden = numberMode;
      ui.stagesPanel.hidden = numberMode;
      ui.drawTitle.textContent = numberMode ? "Write a number" : "Draw a digit";
      ui.resultTitle.textContent = numberMode ? "Number" : "Prediction";
      ui.digit.setAttribute("aria-label", numberMode ? "Number read" : "Predicted digit");
    },
    stages,
    /** Whether the server answers, and whether the page reads drawings itself (`here`). */
    connection(online, here = false) {
      const { state, text, title } = connectionView(online, here);
      ui.connection.dataset.state = state;
      ui.connection.title = title;
      ui.connection.dataset.reader = here ? "page" : "server";
      ui.connection.textContent = text;
    },
  };
}
