// entries: how a reading kept on the server (an entry of GET /api/v1/history) is put into words for
// the history page: its answer, confidence, source, kind, time, and whether it was corrected.
// `entryText(entry, now)` is pure; the page builds its elements from it.

const SOURCES = { canvas: "drawn", upload: "uploaded", api: "API" };
const KINDS = { digit: "one digit", number: "a number" };

/** "no digit" for the empty answer, else the answer itself. */
export const answerText = (answer) => (answer === "" ? "no digit" : String(answer));

/** The words shown for one entry. */
export function entryText(entry) {
  const labelled = entry.label !== null && entry.label !== undefined;
  const state = !labelled ? "not reviewed" : entry.corrected ? `corrected: it is ${answerText(entry.label)}` : "confirmed right";
  const when = new Date(entry.created_at);
  return {
    answer: entry.answer === "" ? "–" : entry.answer,
    confidence: `${Math.round(Math.max(0, Math.min(1, Number(entry.confidence) || 0)) * 100)}%`,
    source: SOURCES[entry.source] || String(entry.source),
    kind: KINDS[entry.kind] || String(entry.kind),
    time: Number.isNaN(when.getTime()) ? "" : when.toLocaleString(),
    iso: Number.isNaN(when.getTime()) ? "" : when.toISOString(),
    state: labelled ? (entry.corrected ? "corrected" : "confirmed") : "unreviewed",
    stateText: state,
    alt: `The ${entry.kind === "number" ? "number" : "digit"} read as ${answerText(entry.answer)}`,
  };
}

/** "1–20 of 45" for a page of the listing. */
export function pageText(offset, count, total) {
  if (!total) return "No readings.";
  return `${offset + 1}–${offset + count} of ${total}`;
}
