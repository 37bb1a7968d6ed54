// modelops: what the pages say about the models served, as plain data. Pure functions, no DOM: they
// turn the operators' status (GET /api/v1/models/live) into the live model's facts, the corrections'
// counts, each candidate's gate table and verdict, whether a rollback is possible and to what, and
// the recent events; and a user's own model (GET /api/v1/users/me/model) into what the account
// page says under its switch. modelspanel.mjs and page-account.mjs only copy these into the DOM.

import { percent } from "./format.mjs";

export const EVENTS_SHOWN = 50; // the newest events the API lists (modelops.EVENTS_SHOWN)

const figure = (x) => (Number.isFinite(x) ? percent(x, 2) : "–");

/** The change from `before` to `after` (fractions) in percentage points, signed: "+20.00", "−0.10". */
export function pointsChange(before, after) {
  if (!Number.isFinite(before) || !Number.isFinite(after)) return "–";
  const d = Math.round((after - before) * 10000) / 100;
  if (d === 0) return "0.00";
  return `${d > 0 ? "+" : "−"}${Math.abs(d).toFixed(2)}`;
}

/** One gate row as the table shows it. */
export function rowView(row) {
  return {
    measure: String(row.measure ?? ""), n: Number.isFinite(row.n) ? String(row.n) : "–",
    before: figure(row.before), after: figure(row.after), change: pointsChange(row.before, row.after),
    ok: row.ok === true, result: row.ok === true ? "ok" : "fails", rule: typeof row.rule === "string" ? row.rule : "",
  };
}

/** A candidate's gate: its rows, whether it passed and the verdict in words (a missing gate fails). */
export function gateView(gate) {
  if (!gate || typeof gate !== "object") {
    return { passed: false, rows: [], verdict: "No gate on its card: it cannot be made live." };
  }
  const passed = gate.passed === true;
  const rows = Array.isArray(gate.rows) ? gate.rows.map(rowView) : [];
  const reasons = Array.isArray(gate.reasons) ? gate.reasons.map(String) : [];
  const tolerance = Number.isFinite(gate.tolerance_points) ? ` (tolerance ${gate.tolerance_points} points)` : "";
  const verdict = passed ? `Passed its gate${tolerance}: it may serve everyone.`
    : `Failed its gate${tolerance}${reasons.length ? `: ${reasons.join("; ")}` : ""}.`;
  return { passed, rows, verdict };
}

/** A time as {datetime: ISO 8601, text: local date and time}; null for a time that is not one. */
export function when(at, locale = undefined) {
  const d = new Date(at);
  if (typeof at !== "string" || Number.isNaN(d.getTime())) return null;
  return { datetime: d.toISOString(),
    text: d.toLocaleString(locale, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }) };
}

/** A candidate: its name, where it came from, its gate, and whether "Make live" is offered. */
export function candidateView(c, locale = undefined) {
  const gate = gateView(c.gate);
  const made = when(c.created, locale);
  return {
    name: c.name, live: c.live === true, gate,
    about: `Tuned from ${c.parent || "an unknown model"}${made ? `, made ${made.text}` : ""}.`,
    canPromote: gate.passed && c.live !== true,
  };
}

/** The models served after `events` (newest first, as the API lists them), as the server replays
 * them: a stack from the default, a promotion pushing, a rollback popping (never the default). */
export function liveStack(status) {
  const stack = [status.default];
  for (const e of [...(status.events || [])].reverse()) {
    if (e.action === "promote") stack.push(e.model);
    else if (e.action === "rollback" && stack.length > 1) stack.pop();
  }
  return stack;
}

/** Whether "Roll back" has something to undo, and the model it would serve again (null when the
 * list of events is cut short and the answer is the server's to give: it refuses if there is none). */
export function rollbackView(status) {
  if ((status.events || []).length >= EVENTS_SHOWN) return { possible: true, to: null };
  const stack = liveStack(status);
  return stack.length > 1 ? { possible: true, to: stack.at(-2) } : { possible: false, to: null };
}

const ACTIONS = { promote: "Made live", rollback: "Rolled back" };

/** One event of the history: when, what, the model live after it, who. */
export function eventView(e, locale = undefined) {
  return { when: when(e.at, locale), what: ACTIONS[e.action] || String(e.action), model: e.model, actor: e.actor };
}

/** The operators' status as the dashboard's Models section shows it. */
export function statusView(status, locale = undefined) {
  const c = status.corrections || {};
  const rollback = rollbackView(status);
  return {
    facts: [
      { term: "Live model", value: status.live },
      { term: "Configured default", value: status.live === status.default ? `${status.default} (live)` : status.default },
    ],
    corrections: [
      { term: "Readings corrected", value: String(c.total ?? 0) },
      { term: "Answers confirmed", value: String(c.confirmed ?? 0) },
      { term: "Users who labelled", value: String(c.users ?? 0) },
    ],
    candidates: (status.candidates || []).map((x) => candidateView(x, locale)),
    events: (status.events || []).map((e) => eventView(e, locale)),
    rollback,
    rollbackHint: rollback.possible ? (rollback.to ? `Serves ${rollback.to} again.` : "Serves the model live before the last change.")
      : `Nothing to undo: ${status.default}, the configured default, is live.`,
  };
}

/** The held-out figure of a personal model's gate ("corrections" in its measure), or null. */
export function heldOut(gate) {
  const rows = gate && Array.isArray(gate.rows) ? gate.rows : [];
  return rows.find((r) => /corrections/i.test(String(r.measure))) || null;
}

/** What the account page says under its switch about the user's own model: `text`, then, before
 * one is trained, the `command` that trains it (shown as code) and the `after` text. */
export function personalView(me, email = "EMAIL") {
  if (!me.model) {
    return { model: null, text: "Not trained yet: once you have corrected some readings, an operator runs ",
      command: `inkdigit finetune --user ${email} --install`, after: "." };
  }
  const row = heldOut(me.gate);
  const figureText = row ? ` It reads ${figure(row.after)} of your held-out corrections`
    + ` (the model it was tuned from: ${figure(row.before)}${Number.isFinite(row.n) ? `, ${row.n} drawings` : ""}).` : "";
  const use = me.enabled ? "" : " It is not used while this is off.";
  return { model: me.model, text: `Your model: ${me.model}.${figureText}${use}`, command: "", after: "" };
}
