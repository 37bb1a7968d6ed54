// correctionoffer: the main page's "That's wrong?" offer wired to what the page shows. Signed in,
// each reading the server kept (its response carries a history `id`) is offered for correction
// and recorded in the server entries (serverentries.mjs: the entry it replaces goes); a reading
// not kept means the session has ended meanwhile (`lost()` is called, for the header to follow).
// A correction saved for the answer shown replaces the big answer with what the user said.
// `createCorrectionOffer({root, server, shown: {digit, confidence, announce}, lost, save})` returns
// `{kept(body, reading), hide()}`; `offerFor(body, reading)` and `saidView(label)` are the pure parts.

import { createCorrection } from "./correction.mjs";

/** What the offer is shown for: the entry, the kind of reading, and its answer as text. */
export const offerFor = (body, reading) => ({
  id: body.id, kind: reading, answer: reading === "number" ? body.text : (body.is_digit ? String(body.digit) : ""),
});

/** The answer panel's words once the user said `label` ("" for no digit). */
export function saidView(label) {
  const said = label === "" ? "no digit" : label;
  return { digit: label === "" ? "–" : label, confidence: `You said: ${said}`, announce: `Saved. You said: ${said}` };
}

export function createCorrectionOffer({ root, server, shown, lost, save }) {
  const correction = createCorrection({ root, save, onSaved: corrected });

  /** A correction saved for the answer shown: the big answer says what the user said. */
  function corrected(id, label) {
    server.corrected(id);
    if (correction.id !== id) return;
    const words = saidView(label);
    shown.digit.textContent = words.digit;
    shown.confidence.textContent = words.confidence;
    shown.announce.textContent = words.announce;
  }

  return {
    /** A signed-in reading's history entry: offer "That's wrong?" for it, and drop the entry it replaces. */
    kept(body, reading) {
      if (!Number.isInteger(body.id)) {
        correction.hide();
        lost(); // not kept: the session has ended meanwhile
        return;
      }
      server.keep(reading, body.id);
      correction.offer(offerFor(body, reading));
    },
    hide: () => correction.hide(),
  };
}
