// models: the model picker. `initModelPicker({select, storage, fetch, onChange})` asks the server
// for its models (GET /api/v1/models), lists each as "name (family, MNIST 99.12%, USPS 97.30%)",
// selects the one this browser chose last if the server still offers it (else the server's
// default), and enables the list only when there is a choice to make. On a change it remembers
// the choice in storage and calls `onChange(name)`. If the list cannot be loaded it offers just
// "server default" (the empty name), which lets the server choose. Each list read is also given
// to `onModels(models)` (the page's own reader picks its model from it). It returns `{refresh}`, which
// reads the list again, so that a model installed while the page is open appears. The pure parts, `modelLabel`,
// `accuracy` and `chosenModel`, need no DOM; the DOM is touched only when initModelPicker runs.

import { getModels } from "./api.mjs";
import { percent } from "./format.mjs";

export const MODEL_KEY = "inkdigit.model";

/** A model's measured accuracy on `set` (e.g. "mnist_test") as "99.12%", or null if not measured. */
export function accuracy(model, set) {
  const a = model.metrics && model.metrics[set] && model.metrics[set].accuracy;
  return typeof a === "number" && Number.isFinite(a) ? percent(a, 2) : null;
}

/** The text of a model's entry in the list: its name, then its family unless the name begins with
 * it ("cnn-v12" says "cnn" already, and on a phone the whole label must fit the list's box), then
 * its measured accuracies. */
export function modelLabel(model) {
  const parts = [];
  if (!model.name.startsWith(model.family)) parts.push(model.family);
  const mnist = accuracy(model, "mnist_test");
  const usps = accuracy(model, "usps_test");
  if (mnist) parts.push(`MNIST ${mnist}`);
  if (usps) parts.push(`USPS ${usps}`);
  return parts.length ? `${model.name} (${parts.join(", ")})` : model.name;
}

/** The name to select: the remembered one while offered, else the server's default, else null. */
export function chosenModel(models, remembered) {
  if (remembered && models.some((m) => m.name === remembered)) return remembered;
  const fallback = models.find((m) => m.default);
  return fallback ? fallback.name : null;
}

export async function initModelPicker({ select, storage, fetch, onChange, onModels = () => {} }) {
  select.addEventListener("change", () => {
    storage.setItem(MODEL_KEY, select.value);
    onChange(select.value);
  });
  let shown = null; // the labels listed, to rebuild the list only when the server's models change

  /** Read the list again (a model installed since may have appeared); the selection is kept while
   * offered. A failed refresh keeps the list shown; a failed first load offers "server default". */
  async function refresh() {
    let models;
    try {
      models = await getModels(fetch);
    } catch {
      models = [];
    }
    if (models.length === 0) { // failed, or a server still loading: keep what is shown
      if (shown === null) select.replaceChildren(new Option("server default", ""));
      return;
    }
    const labels = JSON.stringify(models.map((m) => [m.name, modelLabel(m)]));
    if (labels === shown) {
      onModels(models);
      return;
    }
    const current = shown === null ? storage.getItem(MODEL_KEY) : select.value || storage.getItem(MODEL_KEY);
    const chosen = chosenModel(models, current);
    select.replaceChildren(...models.map((m) => {
      const option = new Option(modelLabel(m), m.name);
      option.selected = m.name === chosen;
      return option;
    }));
    select.disabled = models.length < 2;
    shown = labels;
    onModels(models); // once the select shows the choice, which the page's reader follows
  }

  await refresh();
  return { refresh };
}
