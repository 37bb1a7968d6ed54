// The modules as files: every one but main imports without a DOM, and none builds HTML from strings.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { test } from "node:test";

import { MODULES, STATIC } from "./fakes.mjs";

const files = (await readdir(MODULES)).filter((f) => f.endsWith(".mjs")).sort();

test("the page loads main.mjs as a module, and every module is reached from it", async () => {
  const html = await readFile(new URL("index.html", STATIC), "utf8");
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.deepEqual(scripts, ['<script type="module" src="/static/js/main.mjs">']);
  const reached = new Set();
  const visit = async (f) => {
    if (reached.has(f)) return;
    reached.add(f);
    const source = await readFile(new URL(f, MODULES), "utf8");
    for (const m of source.matchAll(/^import [^;]* from "\.\/([\w-]+\.mjs)";$/gm)) await visit(m[1]);
  };
  await visit("main.mjs");
  assert.deepEqual([...reached].sort(), files);
});

for (const f of files.filter((name) => name !== "main.mjs")) {
  test(`${f} imports without a DOM`, async () => {
    assert.equal(typeof globalThis.document, "undefined");
    const mod = await import(new URL(f, MODULES));
    assert.ok(Object.keys(mod).length > 0, `${f} exports nothing`);
  });
}

test("no HTML is built from strings", async () => {
  const sink = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment)\b/;
  for (const f of files) {
    const source = await readFile(new URL(f, MODULES), "utf8");
    const line = source.split("\n").findIndex((l) => sink.test(l));
    assert.equal(line, -1, `${f}:${line + 1} uses an HTML sink`);
  }
});

test("every module starts with a header comment saying its job", async () => {
  for (const f of files) {
    const source = await readFile(new URL(f, MODULES), "utf8");
    const name = f.replace(/\.mjs$/, "");
    assert.match(source, new RegExp(`^// ${name}: `), `${f} has no header comment`);
  }
});
