// page-verify: where the confirmation e-mail's link lands (/verify?token=...). It sends the token
// (POST /auth/verify) and says whether the address is confirmed, with a link to sign in; a link
// that failed (used, expired, damaged) can ask for a new one; an address confirmed already (the
// server's `{"already": true}` answer, or its 400 `already_verified`) is told to sign in.

import { requestVerifyToken, verify } from "./accountapi.mjs";
import { busy, param, say, startPage } from "./pagekit.mjs";

const $ = (id) => document.getElementById(id);
const status = $("status");

async function confirm() {
  const token = param("token");
  if (!token) {
    say(status, "This link has no confirmation token. Open the link from the e-mail again, or ask for a new one.");
    $("again").hidden = false;
    return;
  }
  const r = await verify(token);
  if ((r.ok && r.body && r.body.already) || (!r.ok && r.code === "already_verified")) {
    status.dataset.state = "done";
    say(status, "Your address is already confirmed — sign in.", "ok");
    $("done").hidden = false;
  } else if (r.ok) {
    status.dataset.state = "done";
    say(status, "Done: your address is confirmed. You can sign in now.", "ok");
    $("done").hidden = false;
  } else {
    status.dataset.state = "failed";
    say(status, `Your address could not be confirmed: ${r.message}`);
    $("again").hidden = false;
  }
}

$("again").addEventListener("submit", async (e) => {
  e.preventDefault();
  busy(e.target, true);
  const r = await requestVerifyToken($("email").value.trim());
  busy(e.target, false);
  say($("again-status"), r.ok ? "If that address has an account waiting, a new link is on its way." : r.message,
    r.ok ? "ok" : "error");
});

startPage({ here: "/verify" });
confirm();
