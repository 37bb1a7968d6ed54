// The main page's smaller parts, split out of main.mjs: modes, uploads, the "Clear history"
// question, the connection state, the upload preview, the correction offer and the account header.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createAccountHeader } from "../../../src/inkdigit/web/static/js/accountheader.mjs";
import { OFFLINE_PING_MS, PING_MS, createConnection } from "../../../src/inkdigit/web/static/js/connection.mjs";
import { createCorrectionOffer, offerFor, saidView } from "../../../src/inkdigit/web/static/js/correctionoffer.mjs";
import { confirmText, initHistoryConfirm } from "../../../src/inkdigit/web/static/js/historyconfirm.mjs";
import {
  CANVAS_SIZE, MODE_KEY, PHONE_NUMBER_SIZE, canvasLabel, canvasSize, normalMode, storedMode,
} from "../../../src/inkdigit/web/static/js/modes.mjs";
import { createPreview } from "../../../src/inkdigit/web/static/js/preview.mjs";
import { hasFiles, initUploads, opensPicker, pastedFile } from "../../../src/inkdigit/web/static/js/uploads.mjs";
import { fakeTimers, memoryStorage, settle } from "./fakes.mjs";

/** Just enough of an element: events, hidden, classes, focus, click, attributes. */
class FakeElement extends EventTarget {
  constructor(parts = {}) {
    super();
    Object.assign(this, { hidden: false, textContent: "", dataset: {}, attributes: new Map(), focused: 0, clicked: 0 });
    this.parts = parts;
    const classes = new Set();
    this.classList = { add: (c) => classes.add(c), remove: (c) => classes.delete(c), contains: (c) => classes.has(c) };
  }
  focus() { this.focused++; }
  click() { this.clicked++; }
  setAttribute(k, v) { this.attributes.set(k, String(v)); }
  removeAttribute(k) { this.attributes.delete(k); }
  querySelector(sel) { return this.parts[sel] ?? null; }
  querySelectorAll() { return []; }
}
const fire = (target, type, props = {}) => {
  const e = Object.assign(new Event(type, { cancelable: true }), props);
  target.dispatchEvent(e);
  return e;
};

describe("modes", () => {
  test("the stored mode is a number only when it says so", () => {
    assert.equal(storedMode(memoryStorage()), "digit");
    assert.equal(storedMode(memoryStorage({ [MODE_KEY]: "number" })), "number");
    assert.equal(storedMode(memoryStorage({ [MODE_KEY]: "nonsense" })), "digit");
    assert.equal(normalMode("number"), "number");
    assert.equal(normalMode(undefined), "digit");
  });
  test("a square for one digit, a wide strip for a number, less wide on a phone", () => {
    assert.deepEqual(canvasSize("digit", false), CANVAS_SIZE.digit);
    assert.deepEqual(canvasSize("digit", true), CANVAS_SIZE.digit);
    assert.deepEqual(canvasSize("number", false), [1400, 480]);
    assert.deepEqual(canvasSize("number", true), PHONE_NUMBER_SIZE);
    assert.match(canvasLabel("number"), /write a number/);
    assert.match(canvasLabel("digit"), /draw one digit/);
  });
});

describe("uploads", () => {
  test("the pure parts: drags with files, pasted files, the picker's keys", () => {
    assert.equal(hasFiles({}), false);
    assert.equal(hasFiles({ dataTransfer: { types: ["text/plain"] } }), false);
    assert.equal(hasFiles({ dataTransfer: { types: ["Files"] } }), true);
    const file = { name: "a.png" };
    assert.equal(pastedFile({}), null);
    assert.equal(pastedFile({ clipboardData: { items: [{ kind: "string" }] } }), null);
    assert.equal(pastedFile({ clipboardData: { items: [{ kind: "string" }, { kind: "file", getAsFile: () => file }] } }), file);
    const t = {};
    assert.equal(opensPicker({ target: t, key: "Enter" }, t), true);
    assert.equal(opensPicker({ target: t, key: " " }, t), true);
    assert.equal(opensPicker({ target: t, key: "a" }, t), false);
    assert.equal(opensPicker({ target: {}, key: "Enter" }, t), false);
  });

  test("picker, drop anywhere, paste and keys reach onFile or the picker", () => {
    const [file, drop, canvas, doc] = [new FakeElement(), new FakeElement(), new FakeElement(), new FakeElement()];
    const got = [];
    initUploads({ file, drop, canvas, doc, onFile: (f) => got.push(f) });
    file.files = ["picked"];
    fire(file, "change");
    fire(drop, "dragover");
    assert.ok(drop.classList.contains("over"));
    fire(drop, "dragleave");
    assert.ok(!drop.classList.contains("over"));
    const over = fire(doc, "dragover", { dataTransfer: { types: ["Files"], dropEffect: "none" } });
    assert.ok(over.defaultPrevented);
    assert.equal(over.dataTransfer.dropEffect, "copy");
    assert.ok(!fire(doc, "dragover", { dataTransfer: { types: ["text/plain"] } }).defaultPrevented);
    drop.classList.add("over");
    assert.ok(fire(doc, "drop", { dataTransfer: { types: ["Files"], files: ["dropped"] } }).defaultPrevented);
    assert.ok(!drop.classList.contains("over"));
    fire(doc, "drop", { dataTransfer: { types: ["text/plain"], files: [] } }); // not a file: nothing
    fire(doc, "paste", { clipboardData: { items: [{ kind: "file", getAsFile: () => "pasted" }] } });
    fire(doc, "paste", { clipboardData: { items: [] } });
    assert.deepEqual(got, ["picked", "dropped", "pasted"]);
    for (const target of [drop, canvas]) {
      const e = new Event("keydown", { cancelable: true });
      e.key = "Enter";
      target.dispatchEvent(e); // e.target is the target itself
      assert.ok(e.defaultPrevented);
    }
    assert.equal(file.clicked, 2);
  });
});

describe("historyconfirm", () => {
  test("the question counts the readings", () => {
    assert.equal(confirmText(1), "Delete the saved reading?");
    assert.equal(confirmText(3), "Delete all 3 saved readings?");
  });

  test("asks, then deletes or keeps; Escape keeps and goes no further", () => {
    const [button, box, text, del, keep] = Array.from({ length: 5 }, () => new FakeElement());
    box.hidden = true;
    let deleted = 0;
    initHistoryConfirm({ button, box, text, del, keep, count: () => 2, onDelete: () => deleted++ });
    fire(button, "click");
    assert.deepEqual([box.hidden, button.hidden, text.textContent, keep.focused], [false, true, "Delete all 2 saved readings?", 1]);
    fire(keep, "click");
    assert.deepEqual([box.hidden, button.hidden, button.focused, deleted], [true, false, 1, 0]);
    fire(button, "click");
    fire(del, "click");
    assert.deepEqual([box.hidden, button.hidden, button.focused, deleted], [true, false, 2, 1]);
    fire(button, "click");
    const outer = [];
    const esc = new Event("keydown", { bubbles: true });
    esc.key = "Escape";
    esc.stopPropagation = () => outer.push("stopped");
    box.dispatchEvent(esc);
    assert.deepEqual([box.hidden, button.hidden, outer], [true, false, ["stopped"]]);
  });
});

describe("connection", () => {
  test("checks every 10 s while reached, every 2 s while away, and says when the server is back", async () => {
    const timers = fakeTimers();
    const answers = [true, false, false, true];
    const shown = [];
    const back = [];
    const c = createConnection({ ping: async () => answers.shift(), shown: (now) => shown.push(now), back: (r) => back.push(r), timers });
    await c.check();
    assert.equal(timers.pending, 1);
    timers.advance(PING_MS - 1);
    await settle();
    assert.deepEqual(shown, [true]);
    timers.advance(1);
    await settle();
    assert.deepEqual(shown, [true, false]);
    timers.advance(OFFLINE_PING_MS);
    await settle();
    timers.advance(OFFLINE_PING_MS);
    await settle();
    assert.deepEqual(shown, [true, false, false, true]);
    assert.deepEqual(back, [true]);
    assert.equal(timers.pending, 1);
    c.set(false);
    c.set(true, false); // a read reached the server: back, without reading again
    assert.deepEqual(back, [true, false]);
    c.set(true);
    assert.deepEqual(back, [true, false]); // not back: it was not away
  });

  test("the first state known is not a return", () => {
    const back = [];
    const c = createConnection({ ping: async () => true, shown: () => {}, back: (r) => back.push(r), timers: fakeTimers() });
    c.set(true);
    assert.deepEqual(back, []);
    assert.equal(c.online, true);
  });
});

describe("preview", () => {
  test("shows a file by object URL, revoking the one it replaces and the last when hidden", () => {
    const made = [];
    const revoked = [];
    const urls = { createObjectURL: (f) => { made.push(f); return `blob:${f}`; }, revokeObjectURL: (u) => revoked.push(u) };
    const img = new FakeElement();
    img.hidden = true;
    const p = createPreview(img, urls);
    const onload = () => {};
    p.show("a", onload);
    assert.deepEqual([img.src, img.hidden, img.onload, revoked], ["blob:a", false, onload, []]);
    p.show("b", onload);
    assert.deepEqual(revoked, ["blob:a"]);
    img.setAttribute("src", img.src);
    p.hide();
    assert.deepEqual([img.hidden, img.onload, img.attributes.has("src"), revoked], [true, null, false, ["blob:a", "blob:b"]]);
    p.hide();
    assert.deepEqual(revoked, ["blob:a", "blob:b"]);
  });
});

describe("correctionoffer", () => {
  test("the pure parts: what is offered, and what the page says once saved", () => {
    assert.deepEqual(offerFor({ id: 4, is_digit: true, digit: 7 }, "digit"), { id: 4, kind: "digit", answer: "7" });
    assert.deepEqual(offerFor({ id: 4, is_digit: false, digit: 7 }, "digit"), { id: 4, kind: "digit", answer: "" });
    assert.deepEqual(offerFor({ id: 5, text: "42" }, "number"), { id: 5, kind: "number", answer: "42" });
    assert.deepEqual(saidView("3"), { digit: "3", confidence: "You said: 3", announce: "Saved. You said: 3" });
    assert.deepEqual(saidView(""), { digit: "–", confidence: "You said: no digit", announce: "Saved. You said: no digit" });
  });

  const setup = () => {
    const field = new FakeElement();
    const root = new FakeElement({
      "[data-part=digit]": new FakeElement(), "[data-part=number]": new FakeElement(),
      "[data-part=number] input": field, "[data-part=status]": new FakeElement(),
    });
    root.hidden = true;
    const calls = [];
    const server = { keep: (r, id) => calls.push(["keep", r, id]), corrected: (id) => calls.push(["corrected", id]) };
    const shown = { digit: new FakeElement(), confidence: new FakeElement(), announce: new FakeElement() };
    let lost = 0;
    const offer = createCorrectionOffer({
      root, server, shown, lost: () => lost++, save: async () => ({ ok: true }),
    });
    return { root, field, calls, shown, offer, lost: () => lost };
  };

  test("a kept reading is offered and recorded; one not kept hides the offer and says the session is lost", () => {
    const s = setup();
    s.offer.kept({ id: 9, text: "12" }, "number");
    assert.equal(s.root.hidden, false);
    assert.deepEqual(s.calls, [["keep", "number", 9]]);
    s.offer.kept({ digit: 1 }, "digit");
    assert.equal(s.root.hidden, true);
    assert.equal(s.lost(), 1);
    s.offer.kept({ id: 10, text: "1" }, "number");
    s.offer.hide();
    assert.equal(s.root.hidden, true);
  });

  test("a correction saved for the answer shown replaces the big answer", async () => {
    const s = setup();
    s.offer.kept({ id: 9, text: "12" }, "number");
    s.field.value = "13";
    fire(s.root.parts["[data-part=number]"], "submit");
    await settle();
    assert.deepEqual(s.calls, [["keep", "number", 9], ["corrected", 9]]);
    assert.deepEqual([s.shown.digit.textContent, s.shown.confidence.textContent, s.shown.announce.textContent],
      ["13", "You said: 13", "Saved. You said: 13"]);
  });
});

describe("accountheader", () => {
  test("renders who is signed in, and remembers it", async () => {
    const rendered = [];
    const body = { dataset: {} };
    let user = { email: "a@b.c" };
    const header = createAccountHeader({ nav: "NAV", body, current: async () => user, render: (...a) => rendered.push(a) });
    assert.equal(header.signedIn, false);
    await header.show();
    assert.equal(header.signedIn, true);
    assert.equal(body.dataset.account, "signed-in");
    assert.deepEqual(rendered, [["NAV", user, { here: "/" }]]);
    user = null;
    await header.show();
    assert.equal(header.signedIn, false);
    assert.equal(body.dataset.account, "anonymous");
  });
});
