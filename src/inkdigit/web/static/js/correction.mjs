// correction: the main page's "That's wrong?" offer, shown under a signed-in user's answer (one
// whose response carried a history `id`): for one digit, ten buttons, one tap on the right digit;
// for a number, a field holding the text read, to fix and save. Either sends PUT
// /api/v1/history/{id}/correction and says what was saved. `createCorrection({root, save,
// onSaved})` finds its elements in `root` when called (nothing at import); `offer({id, kind,
// answer})` shows it for an answer, `hide()` takes it away; `save(id, label)` (accountapi's
// `correct` by default) does the request; `onSaved(id, label)` is told which entries were corrected, and to what.
// `savedText(answer, label)` is the pure part: the confirmation's words.

import { correct } from "./accountapi.mjs";

const said = (label) => (label === "" ? "no digit" : label);

/** What the page says once a label is saved. */
export function savedText(answer, label) {
  return answer === label ? `Thanks: saved as right (${said(label)}).` : `Thanks: saved. It is ${said(label)}.`;
}

/** What the number field takes, and what the page says when it holds anything else. */
export const NUMBER_FIELD = /^[0-9][0-9 .,]*$|^$/;
export const NUMBER_FIELD_MESSAGE = "Only digits, please (leave it empty if there is no number).";

export function createCorrection({ root, save = correct, onSaved = () => {} }) {
  const q = (sel) => root.querySelector(sel);
  const digitGroup = q("[data-part=digit]");
  const numberForm = q("[data-part=number]");
  const field = q("[data-part=number] input");
  const status = q("[data-part=status]");
  const keys = [...root.querySelectorAll("button[data-digit]")];
  let current = null; // {id, kind, answer}

  async function send(label) {
    if (!current) return;
    const shown = current;
    status.dataset.kind = "info";
    status.textContent = "Saving…";
    const r = await save(shown.id, label);
    if (current !== shown) return; // another answer came meanwhile
    if (!r.ok) {
      status.dataset.kind = "error";
      status.textContent = r.message;
      return;
    }
    onSaved(shown.id, label);
    status.dataset.kind = "ok";
    status.textContent = savedText(shown.answer, label);
    for (const k of keys) k.setAttribute("aria-pressed", String(shown.kind === "digit" && k.dataset.digit === label));
  }

  for (const key of keys) key.addEventListener("click", () => send(key.dataset.digit));
  numberForm.addEventListener("submit", (e) => {
    e.preventDefault();
    // the page's own check (the form is novalidate): digits, perhaps grouped with spaces, dots or commas
    if (!NUMBER_FIELD.test(field.value.trim())) {
      status.dataset.kind = "error";
      status.textContent = NUMBER_FIELD_MESSAGE;
      field.setAttribute("aria-invalid", "true");
      field.focus();
      return;
    }
    field.removeAttribute("aria-invalid");
    send(field.value.replace(/[^0-9]/g, ""));
  });

  return {
    offer({ id, kind, answer }) {
      const same = current && current.id === id;
      current = { id, kind, answer: String(answer ?? "") };
      if (same) return;
      digitGroup.hidden = kind !== "digit";
      numberForm.hidden = kind !== "number";
      if (kind === "number") field.value = current.answer.replace(/[^0-9]/g, "");
      for (const k of keys) k.setAttribute("aria-pressed", "false");
      status.textContent = "";
      field.removeAttribute("aria-invalid");
      root.hidden = false;
    },
    hide() {
      current = null;
      root.hidden = true;
      status.textContent = "";
    },
    get id() { return current ? current.id : null; },
  };
}
