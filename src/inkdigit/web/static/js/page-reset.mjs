// page-reset: where the reset e-mail's link lands (/reset-password?token=...): a new password is
// sent with the token (POST /auth/reset-password); every session ends, so the page links to sign in.

import { resetPassword } from "./accountapi.mjs";
import { busy, param, say, startPage } from "./pagekit.mjs";

const $ = (id) => document.getElementById(id);
const form = $("form");
const token = param("token");
if (!token) say($("status"), "This link has no reset token. Open the link from the e-mail again, or ask for a new one on “Forgot your password?”.");

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const password = $("password").value;
  if (password.length < 8) { say($("status"), "The password needs at least 8 characters."); $("password").focus(); return; }
  busy(form, true);
  const r = await resetPassword(token, password);
  busy(form, false);
  if (!r.ok) { say($("status"), r.message); return; }
  say($("status"), "Your password is changed. Sign in with it.", "ok");
  form.hidden = true; // done: nothing more to fill in
  $("done").hidden = false;
  $("done").querySelector("a").focus();
});

startPage({ here: "/reset-password" });
