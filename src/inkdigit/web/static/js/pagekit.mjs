// pagekit: what every account page does: the theme (theme.mjs, with its toggle), the header's
// account links (nav.mjs) for whoever is signed in, the "sign in first" notice of the pages that
// need an account, status lines for forms, and the query's parameters. Nothing runs at import;
// `startPage` resolves to the signed-in account or null. `sessionEnded(r)` handles an API answer
// of 401 (the session ended, e.g. signed out in another tab): the page says so, with a link to sign
// in again, and the header shows the visitor's links. `signedInAlready(user)` is what the sign-in and
// sign-up pages show instead of their forms to someone already signed in.

import { renderNav } from "./nav.mjs";
import { SESSION_ENDED, currentUser, signInLink } from "./session.mjs";
import { safeStorage } from "./storage.mjs";
import { initTheme } from "./theme.mjs";

let page = "/"; // this page's path, for the links that come back to it

/** Theme and header; resolves to the signed-in user (or null). `onTheme()` runs when colours change. */
export async function startPage({ here = "", onTheme = () => {} } = {}) {
  const doc = globalThis.document;
  initTheme({
    root: doc.documentElement, button: doc.getElementById("theme-toggle"), storage: safeStorage(),
    media: globalThis.matchMedia("(prefers-color-scheme: dark)"), onChange: onTheme,
  });
  if (here) page = here;
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

/** When `r` (an accountapi answer) is a 401, the session has ended: the page's content gives way to
 * "Your session has ended — sign in again" (a link back here through /signin), the header shows
 * "Sign in" and "Sign up". True when it was. */
export function sessionEnded(r) {
  if (!r || r.status !== 401) return false;
  const doc = globalThis.document;
  renderNav(doc.getElementById("nav"), null, { here: page });
  const notice = doc.getElementById("signed-out");
  const text = doc.createElement("p");
  text.dataset.testid = "session-ended";
  text.append(`${SESSION_ENDED} `, signInLink(page));
  notice.replaceChildren(text);
  gate(null);
  notice.scrollIntoView({ block: "nearest" });
  return true;
}

/** On the sign-in and sign-up pages, for someone already signed in: their address and where to go,
 * in `box`, instead of the page's forms (`hide`). */
export function signedInAlready(user, box, hide = []) {
  const doc = globalThis.document;
  const text = doc.createElement("p");
  text.append("You are signed in as ");
  const who = doc.createElement("strong");
  who.textContent = user.email;
  text.append(who, ".");
  const links = doc.createElement("p");
  links.className = "row";
  for (const [href, label] of [["/", "Read a digit"], ["/history", "Your history"], ["/account", "Your account (sign out)"]]) {
    const link = doc.createElement("a");
    link.href = href;
    link.textContent = label;
    link.className = "button-link";
    links.append(link);
  }
  box.replaceChildren(text, links);
  box.hidden = false;
  for (const el of hide) if (el) el.hidden = true;
}
