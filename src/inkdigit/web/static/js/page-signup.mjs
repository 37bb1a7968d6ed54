// page-signup: the sign-up page. The form registers the address (POST /auth/register); the server
// then mails a confirmation link, so the page says where to look and offers to send it again.

import { register, requestVerifyToken } from "./accountapi.mjs";
import { busy, say, signedInAlready, startPage } from "./pagekit.mjs";

const $ = (id) => document.getElementById(id);
const form = $("form");
const status = $("status");
let email = "";

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  email = $("email").value.trim();
  const password = $("password").value;
  if (!email || !$("email").checkValidity()) { say(status, "Give a valid e-mail address."); $("email").focus(); return; }
  if (password.length < 8) { say(status, "The password needs at least 8 characters."); $("password").focus(); return; }
  busy(form, true);
  say(status, "Creating your account…", "info");
  const r = await register(email, password);
  busy(form, false);
  if (!r.ok) { say(status, r.message); return; }
  say(status, "");
  form.hidden = true;
  $("sent-text").textContent = `We sent a link to ${email}. Open it to confirm your address, then sign in.`;
  $("sent").hidden = false;
});

$("resend").addEventListener("click", async () => {
  const r = await requestVerifyToken(email);
  say($("resend-status"), r.ok ? "A new link is on its way." : r.message, r.ok ? "ok" : "error");
});

const user = await startPage({ here: "/signup" });
if (user) signedInAlready(user, $("already"), [form, $("aside")]);
