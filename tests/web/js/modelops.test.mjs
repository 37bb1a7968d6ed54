// modelops.mjs: the Models section's and the account switch's wording, from the API's bodies.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  EVENTS_SHOWN, candidateView, gateView, liveStack, personalView, pointsChange, rollbackView, statusView,
} from "../../../src/inkdigit/web/static/js/modelops.mjs";

const GATE = {
  passed: true, tolerance_points: 0.1, reasons: [],
  rows: [{ measure: "held-out corrections", before: 0.6, after: 0.8, n: 40, ok: true, rule: "must rise" },
    { measure: "MNIST test", before: 0.9912, after: 0.9905, n: 10000, ok: true, rule: "may fall 0.1 points at most" }],
};
const status = (events, extra = {}) => ({
  live: "cnn-v2", default: "cnn-v2", events, candidates: [], corrections: { total: 3, confirmed: 5, users: 2 }, ...extra,
});
const ev = (action, model) => ({ at: "2025-05-01T10:00:00Z", action, model, actor: "ada@example.com" });

describe("modelops", () => {
  test("changes are signed percentage points", () => {
    assert.equal(pointsChange(0.6, 0.8), "+20.00");
    assert.equal(pointsChange(0.9912, 0.9902), "−0.10");
    assert.equal(pointsChange(0.5, 0.5), "0.00");
    assert.equal(pointsChange(null, 0.5), "–");
  });

  test("a gate's rows and verdict", () => {
    const v = gateView(GATE);
    assert.equal(v.passed, true);
    assert.deepEqual(v.rows[1], { measure: "MNIST test", n: "10000", before: "99.12%", after: "99.05%", change: "−0.07",
      ok: true, result: "ok", rule: "may fall 0.1 points at most" });
    assert.match(v.verdict, /^Passed its gate \(tolerance 0.1 points\)/);
    const failed = gateView({ ...GATE, passed: false, reasons: ["MNIST test: 99.12 % → 90.00 %"] });
    assert.match(failed.verdict, /^Failed its gate.*: MNIST test: 99.12 % → 90.00 %\.$/);
    assert.equal(gateView(null).passed, false);
  });

  test("only a passed candidate that is not live is offered", () => {
    const c = { name: "ft", parent: "cnn-v1", created: "2025-05-01T10:00:00Z", gate: GATE, live: false };
    assert.equal(candidateView(c).canPromote, true);
    assert.equal(candidateView({ ...c, live: true }).canPromote, false);
    assert.equal(candidateView({ ...c, gate: { ...GATE, passed: false } }).canPromote, false);
    assert.match(candidateView(c).about, /^Tuned from cnn-v1, made /);
  });

  test("a rollback is offered when the replayed stack has something under the live model", () => {
    assert.deepEqual(rollbackView(status([])), { possible: false, to: null });
    const promoted = status([ev("promote", "ft")], { live: "ft" });
    assert.deepEqual(liveStack(promoted), ["cnn-v2", "ft"]);
    assert.deepEqual(rollbackView(promoted), { possible: true, to: "cnn-v2" });
    assert.deepEqual(rollbackView(status([ev("rollback", "cnn-v2"), ev("promote", "ft")])).possible, false);
    // the default promoted again after another: live is the default, yet there is something to undo
    assert.deepEqual(rollbackView(status([ev("promote", "cnn-v2"), ev("promote", "ft")])), { possible: true, to: "ft" });
    const many = Array.from({ length: EVENTS_SHOWN }, () => ev("rollback", "cnn-v2"));
    assert.deepEqual(rollbackView(status(many)), { possible: true, to: null }); // cut short: the server decides
  });

  test("the status as the section shows it", () => {
    const v = statusView(status([ev("promote", "ft")], { live: "ft" }));
    assert.deepEqual(v.facts.map((f) => f.value), ["ft", "cnn-v2"]);
    assert.deepEqual(v.corrections.map((f) => f.value), ["3", "5", "2"]);
    assert.equal(v.events[0].what, "Made live");
    assert.equal(v.rollbackHint, "Serves cnn-v2 again.");
    assert.match(statusView(status([])).rollbackHint, /^Nothing to undo/);
  });

  test("the account page's words about the user's own model", () => {
    const none = personalView({ enabled: false, model: null, gate: null }, "a@b.c");
    assert.match(none.text, /^Not trained yet: .* an operator runs $/);
    assert.equal(none.command, "inkdigit finetune --user a@b.c --install");
    const mine = personalView({ enabled: true, model: "cnn-ada", gate: GATE });
    assert.equal(mine.text, "Your model: cnn-ada. It reads 80.00% of your held-out corrections "
      + "(the model it was tuned from: 60.00%, 40 drawings).");
    assert.match(personalView({ enabled: false, model: "cnn-ada", gate: null }).text, /not used while this is off/);
  });
});
