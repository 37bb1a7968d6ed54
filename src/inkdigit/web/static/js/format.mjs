// format: what the page says, as plain data. Pure functions, no DOM: they turn a prediction body
// (as `isPrediction` in api.mjs accepts it) into the texts and numbers the page shows (`describe`),
// a probability into a bar's width, text and spoken label (`barView`), a history entry into its
// label, percentage and time (`historyView`, `historyTime`) and what the answer panel shows when
// it is opened again (`recallView`), and a probability into a percentage with a fixed number of decimals
// (`percent`, `percentNumber`), and a /recognize body into the number, its digits' labels and
// boxes (`describeNumber`). The rendering module only copies these into the DOM, so every
// wording and rounding rule lives here, where Node tests can check it.

export const NEUTRAL_MESSAGE = "Draw a digit anywhere on the canvas, at any size.";
export const NUMBER_NEUTRAL_MESSAGE = "Write a number on one line: digits side by side, any size.";
export const NO_DIGITS_MESSAGE = "No digit found: every mark was judged not to be a digit.";
export const NOT_A_DIGIT_MESSAGE = "This does not look like a digit to the model.";
export const NO_INK_MESSAGE = "No ink found in that image.";
export const OFFLINE_MESSAGE = "The server cannot be reached. Check your connection; your drawing is kept.";
export const TIMEOUT_MESSAGE = "The server took too long to answer. Try again.";

/** `p` (0..1) as a percentage number with `digits` decimals, e.g. percentNumber(0.9876, 1) === "98.8". */
export function percentNumber(p, digits = 1) {
  return (p * 100).toFixed(digits);
}

/** `p` (0..1) as a percentage, e.g. percent(0.5) === "50.0%". */
export function percent(p, digits = 1) {
  return `${percentNumber(p, digits)}%`;
}

/** Index of the largest value (the first one on ties); -1 for an empty list. */
export function bestIndex(values) {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (best < 0 || values[i] > values[best]) best = i;
  return best;
}

/** What to show for a prediction body: {empty: true} for a blank image, else every text and value. */
export function describe(r) {
  if (r.is_empty) return { empty: true };
  const isDigit = r.is_digit;
  return {
    empty: false,
    isDigit,
    digit: isDigit ? r.digit : null,
    confidence: r.confidence,
    digitText: isDigit ? String(r.digit) : "?",
    confidenceText: `${percent(r.confidence)} sure`,
    message: isDigit ? `Read ${r.where === "browser" ? "in this page " : ""}by ${r.model} in ${r.elapsed_ms.toFixed(1)} ms.`
      : NOT_A_DIGIT_MESSAGE,
    announcement: isDigit ? `Predicted ${r.digit}, ${percentNumber(r.confidence, 0)} percent sure`
      : "Not recognised as a digit",
    probabilities: r.probabilities,
    best: bestIndex(r.probabilities),
    stages: r.stages && typeof r.stages === "object" ? r.stages : null,
  };
}

/** The header's connection badge: whether the server answers (`online`: true, false, or null while
 * not known yet) and whether drawings are read in the page itself (`here`), which goes on offline.
 * Short enough for a phone's header row; `title` says the rest. */
export function connectionView(online, here) {
  const title = here ? "Drawings are read in this page; uploads and numbers by the server."
    : "Everything is read by the server.";
  if (online === null || online === undefined) return { state: "unknown", text: "connecting…", title };
  if (online) return { state: "online", text: here ? "reading here" : "connected", title };
  return { state: "offline", text: here ? "offline · reading here" : "server unreachable", title };
}

/** Bar `d`: its fill width, its text and its spoken label; `probabilities` null shows no value. */
export function barView(probabilities, d) {
  if (!probabilities) return { value: 0, width: "0.0%", text: "–", label: `${d}: no value` };
  const p = probabilities[d];
  return { value: p, width: percent(p), text: percent(p), label: `${d}: ${percentNumber(p)} percent` };
}

const STAGE_NAMES = {
  input: "input", native: "native size", ink: "ink", cleaned: "cleaned", cropped: "cropped", stroke: "stroke",
  deskewed: "deskewed", fitted: "20×20", final: "28×28 (model input)",
};

/** The caption of a preprocessing stage. */
export function stageName(name) {
  return Object.hasOwn(STAGE_NAMES, name) ? STAGE_NAMES[name] : name;
}

/** When a history entry was read (`at`, a timestamp): {datetime: ISO 8601, text: a local short time,
 * with the date too when not read on the day of `now`}; null for a time that is not one. */
export function historyTime(at, now = Date.now(), locale = undefined) {
  const when = new Date(at);
  if (typeof at !== "number" || Number.isNaN(when.getTime())) return null;
  const sameDay = new Date(now).toDateString() === when.toDateString();
  const text = sameDay
    ? when.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" })
    : when.toLocaleString(locale, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  return { datetime: when.toISOString(), text };
}

/** A history entry's digit ("?" when not a digit) or number, its percentage (as the answer panel
 * shows it: `percent`), its time and its spoken label. */
export function historyView(entry, now = Date.now(), locale = undefined) {
  const pct = percent(entry.confidence);
  const spoken = `${percentNumber(entry.confidence)} percent`;
  const time = historyTime(entry.at, now, locale);
  const at = time ? `, read at ${time.text}` : "";
  if (typeof entry.text === "string") {
    return { digitText: entry.text, percentText: ` ${pct}`, time, label: `number ${entry.text}, ${spoken}${at}` };
  }
  return {
    digitText: entry.digit === null ? "?" : String(entry.digit),
    percentText: ` ${pct}`,
    time,
    label: `${entry.digit === null ? "not a digit" : entry.digit}, ${spoken}${at}`,
  };
}

/** A history entry shown again in the answer panel: `kind` "number" (the shape `describeNumber`
 * gives, with no digit boxes) or "digit" (the shape `describe` gives, with no bars or stages). */
export function recallView(entry, now = Date.now(), locale = undefined) {
  const time = historyTime(entry.at, now, locale);
  const message = `From the history${time ? `: read at ${time.text}` : ""}.`;
  if (typeof entry.text === "string") {
    return { kind: "number", empty: false, text: entry.text, confidence: entry.confidence,
      confidenceText: `${percent(entry.confidence)} sure of every digit`, message,
      announcement: `From the history: ${entry.text.replaceAll("?", " unknown ")}, ${percentNumber(entry.confidence, 0)} percent sure`,
      digits: [] };
  }
  const isDigit = entry.digit !== null;
  return { kind: "digit", empty: false, isDigit, digit: entry.digit, confidence: entry.confidence,
    digitText: isDigit ? String(entry.digit) : "?", confidenceText: `${percent(entry.confidence)} sure`,
    message: isDigit ? message : `${NOT_A_DIGIT_MESSAGE} ${message}`,
    announcement: `From the history: ${isDigit ? `${entry.digit}, ${percentNumber(entry.confidence, 0)} percent sure`
      : "not recognised as a digit"}`,
    probabilities: null, best: -1, stages: null };
}

/** What to show for a /recognize body: {empty: true} for a blank image, else the number, the
 * message and one label per digit (its box in the image's pixels, its digit or "?", its percentage
 * and its alternatives). */
export function describeNumber(r) {
  if (r.is_empty) return { empty: true };
  const read = r.digits.filter((d) => d.is_digit).length;
  const shown = r.formatted || r.text;
  return {
    empty: false,
    text: shown,
    confidence: r.confidence,
    confidenceText: r.digits.length ? `${percent(r.confidence)} sure of every digit` : "",
    message: read ? `${read} of ${r.digits.length} ${r.digits.length === 1 ? "mark" : "marks"} read as digits by `
      + `${r.model} in ${r.elapsed_ms.toFixed(1)} ms.` : NO_DIGITS_MESSAGE,
    announcement: read ? `Read ${shown.replaceAll("?", " unknown ")}, ${percentNumber(r.confidence, 0)} percent sure`
      : "No digit recognised",
    digits: r.digits.map((d, i) => ({
      box: d.box,
      label: d.is_digit && d.digit !== null ? String(d.digit) : "?",
      confidenceText: percent(d.confidence, 0),
      spoken: `digit ${i + 1}: ${d.is_digit && d.digit !== null ? d.digit : "not a digit"}, `
        + `${percentNumber(d.confidence, 0)} percent`,
      alternatives: (d.top || []).filter((t) => t && Number.isInteger(t.digit) && Number.isFinite(t.confidence))
        .map((t) => `${t.digit} ${percent(t.confidence, 0)}`).join(", "),
    })),
  };
}

/** What the main page says on arriving from the account page: "Signed out." for `?signed-out`,
 * "Your account and its data were deleted." for `?deleted`, else "" (only these flags: no text is
 * ever taken from the address). */
export function landingNotice(search) {
  const q = new URLSearchParams(search || "");
  if (q.has("deleted")) return "Your account and its data were deleted.";
  if (q.has("signed-out")) return "Signed out.";
  return "";
}
