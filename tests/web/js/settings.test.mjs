// The remembered settings: storage that never throws, the theme choice and the model choice.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { HISTORY_KEY } from "../../../src/inkdigit/web/static/js/history.mjs";
import { MODEL_KEY, accuracy, chosenModel, modelLabel } from "../../../src/inkdigit/web/static/js/models.mjs";
import { safeStorage } from "../../../src/inkdigit/web/static/js/storage.mjs";
import { THEME_KEY, storedTheme, toggledTheme } from "../../../src/inkdigit/web/static/js/theme.mjs";
import { memoryStorage } from "./fakes.mjs";

test("the storage keys are the ones the page has always used, so earlier choices survive", () => {
  assert.deepEqual([HISTORY_KEY, THEME_KEY, MODEL_KEY], ["inkdigit.history", "inkdigit.theme", "inkdigit.model"]);
});

describe("safeStorage", () => {
  test("passes reads and writes through", () => {
    const backing = memoryStorage({ a: "1" });
    const s = safeStorage(() => backing);
    assert.equal(s.getItem("a"), "1");
    assert.equal(s.getItem("b"), null);
    assert.equal(s.setItem("b", "2"), true);
    assert.equal(backing.data.get("b"), "2");
    assert.equal(s.removeItem("a"), true);
    assert.equal(backing.data.has("a"), false);
  });
  test("turns every failure into null or false", () => {
    const denied = safeStorage(() => { throw new DOMException("denied", "SecurityError"); });
    assert.equal(denied.getItem("a"), null);
    assert.equal(denied.setItem("a", "1"), false);
    assert.equal(denied.removeItem("a"), false);
    const full = safeStorage(() => memoryStorage({}, { failWrites: true }));
    assert.equal(full.setItem("a", "1"), false);
    assert.equal(safeStorage(() => undefined).getItem("a"), null);
  });
  test("looks the storage up on each call, not when created", () => {
    let backing = null;
    const s = safeStorage(() => backing);
    backing = memoryStorage({ k: "v" });
    assert.equal(s.getItem("k"), "v");
  });
});

describe("theme", () => {
  test("only 'light' and 'dark' are taken from storage; anything else follows the system", () => {
    assert.equal(storedTheme(memoryStorage({ [THEME_KEY]: "dark" })), "dark");
    assert.equal(storedTheme(memoryStorage({ [THEME_KEY]: "light" })), "light");
    assert.equal(storedTheme(memoryStorage()), null);
    assert.equal(storedTheme(memoryStorage({ [THEME_KEY]: "\" onload=\"x" })), null);
    assert.equal(storedTheme(memoryStorage({ [THEME_KEY]: "Dark" })), null);
  });
  test("the toggle switches to the opposite of the scheme shown", () => {
    assert.equal(toggledTheme("dark"), "light");
    assert.equal(toggledTheme(" dark "), "light");
    assert.equal(toggledTheme("light"), "dark");
    assert.equal(toggledTheme(""), "dark");
  });
});

describe("model picker", () => {
  const cnn = { name: "cnn-v1", family: "cnn", default: true,
    metrics: { mnist_test: { accuracy: 0.99234 }, usps_test: { accuracy: 0.9731, n: 2007 } } };
  const knn = { name: "knn-small", family: "knn", default: false, metrics: { mnist_test: { accuracy: 0.9 } } };
  const bare = { name: "x", family: "svm", default: false, metrics: {} };

  test("labels show family and measured accuracies to two decimals", () => {
    assert.equal(modelLabel(bare), "x (svm)");
    assert.equal(modelLabel({ name: "y", family: "mlp" }), "y (mlp)");
    assert.equal(modelLabel({ ...knn, name: "small" }), "small (knn, MNIST 90.00%)");
  });
  test("a name that begins with its family does not repeat it", () => {
    assert.equal(modelLabel(cnn), "cnn-v1 (MNIST 99.23%, USPS 97.31%)");
    assert.equal(modelLabel(knn), "knn-small (MNIST 90.00%)");
    assert.equal(modelLabel({ name: "svm-v2", family: "svm" }), "svm-v2");
  });
  test("accuracy is null unless measured as a number", () => {
    assert.equal(accuracy(cnn, "usps_test"), "97.31%");
    assert.equal(accuracy(knn, "usps_test"), null);
    assert.equal(accuracy({ metrics: { mnist_test: { accuracy: "0.9" } } }, "mnist_test"), null);
  });
  test("the remembered model is chosen while the server offers it, else the default", () => {
    assert.equal(chosenModel([cnn, knn], "knn-small"), "knn-small");
    assert.equal(chosenModel([cnn, knn], "gone"), "cnn-v1");
    assert.equal(chosenModel([cnn, knn], null), "cnn-v1");
    assert.equal(chosenModel([knn, bare], null), null);
    assert.equal(chosenModel([], "knn-small"), null);
  });
});
