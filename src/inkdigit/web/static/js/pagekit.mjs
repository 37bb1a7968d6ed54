// pagekit: what every account page does: the theme (theme.mjs, with its toggle), the header's
// account links (nav.mjs) for whoever is signed in, the "sign in first" notice of the pages that
// need an account, status lines for forms, and the query's parameters. Nothing runs at import;
// `startPage` resolves to the signed-in account or null.

import { renderNav } from "./nav.mjs";
import { currentUser } from "./session.mjs";
import { safeStorage } from "./storage.mjs";
import { initTheme } from "./theme.mjs";

/** Theme and header; resolves to the signed-in user (or null). `onTheme()` runs when colours change. */
export async function startPage({ here = "", onTheme = () => {} } = {}) {
  const doc = globalThis.document;
  initTheme({
    root: doc.documentElement, button: doc.getElementById("theme-toggle"), storage: safeStorage(),
    media: globalThis.matchMedia("(prefers-color-scheme: dark)"), onChange: onTheme,
  });
  const user = await currentUser();
  renderNav(doc.getElementById("nav"), user, { here });
  return user;
}

/** On a page for signed-in users: its content, or the notice that sends a visitor to sign in. */
export function gate(user) {
  const doc = globalThis.document;
  doc.getElementById("content").hidden = !user;
  doc.getElementById("signed-out").hidden = Boolean(user);
  return Boolean(user);
}

/** Show `text` in a status element (`kind` "error", "ok" or "info"); empty text hides it. */
export function say(element, text, kind = "error") {
  element.textContent = text || "";
  element.dataset.kind = kind;
  element.hidden = !text;
}

/** A parameter of the page's query string ("" when absent). */
export function param(name, search = globalThis.location ? globalThis.location.search : "") {
  return new URLSearchParams(search).get(name) || "";
}

/** Where to go after signing in: `next` when it is a path of this site, else the main page. */
export function safeNext(next) {
  return typeof next === "string" && /^\/(?![/\\])[^\s]*$/.test(next) ? next : "/";
}

/** Disable a form's buttons while its request runs. */
export function busy(form, on) {
  for (const b of form.querySelectorAll("button")) b.disabled = on;
  form.setAttribute("aria-busy", on ? "true" : "false");
}
