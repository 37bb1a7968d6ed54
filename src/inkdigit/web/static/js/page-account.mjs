// page-account: the signed-in account: its address, whether it is confirmed, whether it is an
// operator; signing out (POST /auth/logout), the history's export, and deleting the account (DELETE
// /users/me) after an inline confirmation. Either way this browser's own history of readings (kept
// in local storage by the main page) is forgotten too, so that the next person at it does not see
// it, and the main page says what happened (a flag in its query: `?signed-out` or `?deleted`).

import { deleteAccount, logout } from "./accountapi.mjs";
import { createHistory } from "./history.mjs";
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
  location.assign("/?deleted");
});

const user = await startPage({ here: "/account" });
if (gate(user)) {
  $("email").textContent = user.email;
  $("verified").textContent = yesNo(user.is_verified);
  $("operator").textContent = user.is_admin ? "yes: the dashboard can show everyone's readings" : "no";
  const since = new Date(user.created_at);
  $("since").textContent = Number.isNaN(since.getTime()) ? "" : since.toLocaleDateString();
}
