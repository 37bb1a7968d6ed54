// page-forgot: "forgot your password?": the address is sent to POST /auth/forgot-password, which
// mails a reset link (the answer is the same for any address, so the page says so).

import { forgotPassword } from "./accountapi.mjs";
import { busy, say, startPage } from "./pagekit.mjs";

const $ = (id) => document.getElementById(id);
const form = $("form");

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const email = $("email").value.trim();
  if (!email || !$("email").checkValidity()) { say($("status"), "Give a valid e-mail address."); return; }
  busy(form, true);
  const r = await forgotPassword(email);
  busy(form, false);
  say($("status"), r.ok ? `If ${email} has an account, a link to choose a new password is on its way.` : r.message,
    r.ok ? "ok" : "error");
});

startPage({ here: "/forgot-password" });
