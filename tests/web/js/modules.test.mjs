// The modules as files: every one but the pages' entry modules (main, page-*) imports without a DOM,
// each page loads one entry module (the dashboard the vendored Chart.js first), every module is
// reached from an entry, and none builds HTML from strings.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { test } from "node:test";

import { MODULES, STATIC } from "./fakes.mjs";

const files = (await readdir(MODULES)).filter((f) => f.endsWith(".mjs")).sort();
const pages = (await readdir(STATIC)).filter((f) => f.endsWith(".html")).sort();
const isEntry = (name) => name === "main.mjs" || name.startsWith("page-");

const scriptsOf = async (page) => [...(await readFile(new URL(page, STATIC), "utf8")).matchAll(/<script\b[^>]*>/g)]
  .map((m) => m[0]);

test("the page loads main.mjs as a module, and every module is reached from an entry module", async () => {
  assert.deepEqual(await scriptsOf("index.html"), ['<script type="module" src="/static/js/main.mjs">']);
  const reached = new Set();
  const visit = async (f) => {
    if (reached.has(f)) return;
    reached.add(f);
    const source = await readFile(new URL(f, MODULES), "utf8");
    for (const m of source.matchAll(/^import [^;]* from "\.\/([\w-]+\.mjs)";$/gm)) await visit(m[1]);
  };
  for (const entry of files.filter(isEntry)) await visit(entry);
  assert.deepEqual([...reached].sort(), files);
});

test("every other page loads one entry module of its own, and nothing else but the vendored Chart.js", async () => {
  const entries = new Set();
  for (const page of pages.filter((p) => p !== "index.html")) {
    const scripts = await scriptsOf(page);
    const module = scripts.at(-1).match(/^<script type="module" src="\/static\/js\/(page-[\w-]+\.mjs)">$/);
    assert.ok(module, `${page}: ${scripts.at(-1)}`);
    assert.ok(files.includes(module[1]), `${page} loads a missing ${module[1]}`);
    entries.add(module[1]);
    for (const other of scripts.slice(0, -1)) {
      assert.equal(other, '<script src="/static/vendor/chartjs/chart.umd.min.js">', page);
    }
  }
  assert.deepEqual([...entries].sort(), files.filter((f) => f.startsWith("page-")));
});

test("no page has inline script or a style attribute (the pages' policy refuses both)", async () => {
  for (const page of pages) {
    const html = await readFile(new URL(page, STATIC), "utf8");
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, `${page} has an inline script`);
    assert.doesNotMatch(html, /\sstyle=/, `${page} has a style attribute`);
    assert.doesNotMatch(html, /<style\b/, `${page} has a style element`);
    assert.doesNotMatch(html, /\son[a-z]+=/, `${page} has an inline event handler`);
  }
});

for (const f of files.filter((name) => !isEntry(name))) {
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
