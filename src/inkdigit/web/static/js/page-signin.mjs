// page-signin: the sign-in page. The form signs in with the session cookie (POST /auth/login), then
// goes to the page named by `?next=` (a path of this site) or to the main page. An address not yet
// confirmed is offered a new confirmation link. The OpenID Connect providers configured on the
// server (GET /auth/oidc: none by default) are offered as links; one that failed comes back here
// with `?error=CODE`, which is said.

import { call, login, requestVerifyToken } from "./accountapi.mjs";
import { busy, param, safeNext, say, signedInAlready, startPage } from "./pagekit.mjs";

const $ = (id) => document.getElementById(id);
const form = $("form");
const status = $("status");

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const email = $("email").value.trim();
  const password = $("password").value;
  $("unverified").hidden = true;
  if (!email || !password) { say(status, "Give your e-mail address and your password."); return; }
  busy(form, true);
  say(status, "Signing in…", "info");
  const r = await login(email, password);
  busy(form, false);
  if (!r.ok) {
    say(status, r.message);
    $("unverified").hidden = r.code !== "not_verified";
    return;
  }
  say(status, "Signed in.", "ok");
  location.assign(safeNext(param("next")));
});

$("resend").addEventListener("click", async () => {
  const r = await requestVerifyToken($("email").value.trim());
  say(status, r.ok ? "A new confirmation link is on its way: open it, then sign in." : r.message, r.ok ? "ok" : "error");
});

async function providers() {
  const r = await call("GET", "/api/v1/auth/oidc");
  if (!r.ok || !Array.isArray(r.body) || r.body.length === 0) return;
  const items = r.body.filter((p) => p && typeof p.label === "string" && typeof p.authorize_url === "string"
    && p.authorize_url.startsWith("/api/")).map((p) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.className = "button-link";
    link.href = p.authorize_url;
    link.textContent = p.label;
    item.append(link);
    return item;
  });
  $("provider-list").replaceChildren(...items);
  $("providers").hidden = items.length === 0;
}

if (param("error")) say(status, `Signing in with that provider did not work (${param("error")}). Try again, or use your e-mail address.`);
const user = await startPage({ here: "/signin" });
if (user) signedInAlready(user, $("already"), [form, $("providers"), $("aside")]);
else providers();
