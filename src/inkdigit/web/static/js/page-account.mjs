// page-account: the signed-in account: its address, whether it is confirmed, whether it is an
// operator; signing out (POST /auth/logout), the history's export, and deleting the account (DELETE
// /users/me) after an inline confirmation. Either way this browser's own history of readings (kept
// in local storage by the main page, and the drawings it kept to send) is forgotten too, so that the
// next person at it does not see it, and the main page says what happened (a flag in its query:
// `?signed-out` or `?deleted`).
// The "Learn my handwriting" switch opts in to (or out of) the user's own fine-tuned model (PUT
// /users/me/model); under it, that model's name and held-out figure, or how one gets made.

import { deleteAccount, getMyModel, logout, setMyModel } from "./accountapi.mjs";
import { createHistory } from "./history.mjs";
import { personalView } from "./modelops.mjs";
import { forgetPending } from "./pendingreads.mjs";
import { gate, say, sessionEnded, startPage } from "./pagekit.mjs";
import { safeStorage } from "./storage.mjs";

const $ = (id) => document.getElementById(id);
const status = $("status");
const yesNo = (x) => (x ? "yes" : "no");

function ask(open) {
  $("confirm").hidden = !open;
  $("delete").hidden = open;
  (open ? $("delete-no") : $("delete")).focus();
}

$("sign-out").addEventListener("click", async () => {
  const r = await logout();
  if (!r.ok && r.status !== 401) { say(status, r.message); return; }
  createHistory(safeStorage()).clear();
  forgetPending(safeStorage());
  location.assign("/?signed-out");
});
$("delete").addEventListener("click", () => ask(true));
$("delete-no").addEventListener("click", () => ask(false));
$("confirm").addEventListener("keydown", (e) => { if (e.key === "Escape") ask(false); });
$("delete-yes").addEventListener("click", async () => {
  const r = await deleteAccount();
  if (sessionEnded(r)) return;
  if (!r.ok) { say(status, r.message); return; }
  createHistory(safeStorage()).clear();
  forgetPending(safeStorage());
  location.assign("/?deleted");
});

// the personal model: the switch shows what the server holds, and goes back if a change fails
const learn = $("learn");
function showModel(me, email) {
  learn.checked = me.enabled;
  const v = personalView(me, email);
  const command = document.createElement("code");
  command.textContent = v.command;
  $("learn-model").replaceChildren(v.text, ...(v.command ? [command, v.after] : []));
}
async function loadModel(email) {
  learn.disabled = true;
  const r = await getMyModel();
  if (sessionEnded(r)) return;
  if (!r.ok) { say($("learn-status"), r.message); return; }
  showModel(r.body, email);
  learn.disabled = false;
}
learn.addEventListener("change", async () => {
  const wanted = learn.checked;
  learn.disabled = true;
  const r = await setMyModel(wanted);
  learn.disabled = false;
  if (sessionEnded(r)) return;
  if (!r.ok) { learn.checked = !wanted; say($("learn-status"), r.message); return; }
  showModel(r.body, $("email").textContent);
  say($("learn-status"), r.body.enabled
    ? (r.body.model ? "On: your readings use your own model." : "On: your readings will use your own model once it is trained.")
    : "Off: your readings use the model everyone gets.", "ok");
});

const user = await startPage({ here: "/account" });
if (gate(user)) {
  $("email").textContent = user.email;
  $("verified").textContent = yesNo(user.is_verified);
  $("operator").textContent = user.is_admin ? "yes: the dashboard can show everyone's readings" : "no";
  const since = new Date(user.created_at);
  $("since").textContent = Number.isNaN(since.getTime()) ? "" : since.toLocaleDateString();
  loadModel(user.email);
}
