import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  NOT_A_DIGIT_MESSAGE, NO_DIGITS_MESSAGE, barView, bestIndex, describe as describeAnswer, describeNumber, historyView,
  percent, percentNumber, stageName,
} from "../../../src/inkdigit/web/static/js/format.mjs";
import { numberReading, prediction } from "./fakes.mjs";

describe("percentages", () => {
  test("one decimal by default, rounded", () => {
    assert.equal(percent(0.98765), "98.8%");
    assert.equal(percent(1), "100.0%");
    assert.equal(percent(0), "0.0%");
    assert.equal(percent(0.0004), "0.0%");
  });
  test("any number of decimals, without the sign when asked", () => {
    assert.equal(percent(0.991234, 2), "99.12%");
    assert.equal(percentNumber(0.987, 0), "99");
    assert.equal(percentNumber(0.5), "50.0");
  });
});

test("bestIndex picks the largest value, the first one on ties", () => {
  assert.equal(bestIndex([0.1, 0.7, 0.2]), 1);
  assert.equal(bestIndex([0.5, 0.5]), 0);
  assert.equal(bestIndex([0, 0, 0, 0.01]), 3);
  assert.equal(bestIndex([]), -1);
});

describe("describe", () => {
  test("a digit: its text, confidence, model and time, the spoken summary and the best bar", () => {
    const a = describeAnswer(prediction());
    assert.equal(a.empty, false);
    assert.equal(a.isDigit, true);
    assert.equal(a.digit, 7);
    assert.equal(a.digitText, "7");
    assert.equal(a.confidenceText, "95.0% sure");
    assert.equal(a.message, "Read by cnn-v1 in 0.7 ms.");
    assert.equal(a.announcement, "Predicted 7, 95 percent sure");
    assert.equal(a.best, 7);
    assert.equal(a.stages, null);
  });
  test("not a digit: a question mark and a plain message", () => {
    const a = describeAnswer(prediction({ is_digit: false, digit: null, confidence: 0.31 }));
    assert.equal(a.digitText, "?");
    assert.equal(a.digit, null);
    assert.equal(a.confidenceText, "31.0% sure");
    assert.equal(a.message, NOT_A_DIGIT_MESSAGE);
    assert.equal(a.announcement, "Not recognised as a digit");
  });
  test("a blank image is empty", () => {
    assert.deepEqual(describeAnswer({ is_empty: true, is_digit: false, digit: null }), { empty: true });
  });
  test("stages pass through when the server sent them", () => {
    const stages = { input: "data:image/png;base64,AAAA", final: "data:image/png;base64,BBBB" };
    assert.deepEqual(describeAnswer(prediction({ stages })).stages, stages);
  });
});

describe("barView", () => {
  test("a probability becomes a width, a text and a spoken label", () => {
    const probabilities = [0.001, 0, 0, 0, 0, 0, 0, 0.9876, 0, 0];
    assert.deepEqual(barView(probabilities, 7),
      { value: 0.9876, width: "98.8%", text: "98.8%", label: "7: 98.8 percent" });
    assert.deepEqual(barView(probabilities, 0), { value: 0.001, width: "0.1%", text: "0.1%", label: "0: 0.1 percent" });
  });
  test("no probabilities: an empty bar and a dash", () => {
    assert.deepEqual(barView(null, 3), { value: 0, width: "0.0%", text: "–", label: "3: no value" });
  });
});

test("stageName names the known stages and passes others through", () => {
  assert.equal(stageName("fitted"), "20×20");
  assert.equal(stageName("final"), "28×28 (model input)");
  assert.equal(stageName("ink"), "ink");
  assert.equal(stageName("native"), "native size");
  assert.equal(stageName("something-new"), "something-new");
  assert.equal(stageName("toString"), "toString"); // not an inherited property
});

test("historyView rounds as the answer panel does and names non-digits", () => {
  assert.deepEqual(historyView({ digit: 4, confidence: 0.876 }),
    { digitText: "4", percentText: " 87.6%", time: null, label: "4, 87.6 percent" });
  assert.deepEqual(historyView({ digit: 0, confidence: 0.5 }).digitText, "0");
  assert.deepEqual(historyView({ digit: null, confidence: 0.2 }),
    { digitText: "?", percentText: " 20.0%", time: null, label: "not a digit, 20.0 percent" });
});

describe("describeNumber", () => {
  test("the number with its separators, and one label per digit with its box and alternatives", () => {
    const a = describeNumber(numberReading());
    assert.equal(a.empty, false);
    assert.equal(a.text, "4 17");
    assert.equal(a.confidenceText, "90.0% sure of every digit");
    assert.equal(a.message, "3 of 3 marks read as digits by cnn-v4 in 12.3 ms.");
    assert.equal(a.announcement, "Read 4 17, 90 percent sure");
    assert.deepEqual(a.digits.map((d) => d.label), ["4", "1", "7"]);
    assert.deepEqual(a.digits[0].box, [10, 5, 40, 60]);
    assert.equal(a.digits[0].confidenceText, "98%");
    assert.equal(a.digits[0].alternatives, "4 98%, 9 2%");
    assert.equal(a.digits[2].spoken, "digit 3: 7, 93 percent");
  });
  test("a piece that is no digit shows a question mark, and is said so", () => {
    const body = numberReading({ text: "4?7", formatted: "4 ?7" });
    body.digits[1] = { ...body.digits[1], digit: null, is_digit: false };
    const a = describeNumber(body);
    assert.deepEqual(a.digits.map((d) => d.label), ["4", "?", "7"]);
    assert.equal(a.digits[1].spoken, "digit 2: not a digit, 99 percent");
    assert.equal(a.message, "2 of 3 marks read as digits by cnn-v4 in 12.3 ms.");
    assert.equal(a.announcement, "Read 4  unknown 7, 90 percent sure");
  });
  test("nothing read as a digit says so; a blank image is empty", () => {
    const body = numberReading({ text: "?", formatted: "?", confidence: 0 });
    body.digits = [{ ...body.digits[0], digit: null, is_digit: false }];
    assert.equal(describeNumber(body).message, NO_DIGITS_MESSAGE);
    assert.deepEqual(describeNumber(numberReading({ is_empty: true, text: "", formatted: "", digits: [] })),
      { empty: true });
  });
});

describe("historyView of a number", () => {
  test("shows the number's text", () => {
    const view = historyView({ digit: null, text: "12 345", confidence: 0.876, at: 1, thumb: null });
    assert.equal(view.digitText, "12 345");
    assert.equal(view.percentText, " 87.6%");
    assert.match(view.label, /^number 12 345, 87\.6 percent, read at .+/);
  });
});
