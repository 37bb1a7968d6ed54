// page-account: the signed-in account: its address, whether it is confirmed, whether it is an
// operator; signing out (POST /auth/logout), the history's export, and deleting the account (DELETE
// /users/me) after an inline confirmation.

import { deleteAccount, logout } from "./accountapi.mjs";
import { gate, say, startPage } from "./pagekit.mjs";

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
  location.assign("/");
});
$("delete").addEventListener("click", () => ask(true));
$("delete-no").addEventListener("click", () => ask(false));
$("confirm").addEventListener("keydown", (e) => { if (e.key === "Escape") ask(false); });
$("delete-yes").addEventListener("click", async () => {
  const r = await deleteAccount();
  if (!r.ok) { say(status, r.message); return; }
  location.assign("/");
});

const user = await startPage({ here: "/account" });
if (gate(user)) {
  $("email").textContent = user.email;
  $("verified").textContent = yesNo(user.is_verified);
  $("operator").textContent = user.is_admin ? "yes: the dashboard can show everyone's readings" : "no";
  const since = new Date(user.created_at);
  $("since").textContent = Number.isNaN(since.getTime()) ? "" : since.toLocaleDateString();
}
