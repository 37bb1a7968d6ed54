// uploads: the ways an image reaches the main page: the file picker, drag and drop onto the drop
// zone or anywhere on the page (the canvas too; a dropped file is read, never opened in the tab),
// paste, and Enter or Space on the drop zone or the canvas, which opens the file picker.
// `initUploads({file, drop, canvas, doc, onFile})` wires them when called (nothing at import) and
// hands each file to `onFile(file)` (perhaps undefined: the picker emptied). `hasFiles(event)`,
// `pastedFile(event)` and `opensPicker(event, target)` are the pure parts.

/** True when a drag carries files. */
export const hasFiles = (e) => Boolean(e.dataTransfer) && [...e.dataTransfer.types].includes("Files");

/** The file a paste carries, or null when it carries none. */
export function pastedFile(e) {
  const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((i) => i.kind === "file");
  return item ? item.getAsFile() : null;
}

/** True when a keydown on `target` itself (not on a control inside it) is Enter or Space. */
export const opensPicker = (e, target) => e.target === target && (e.key === "Enter" || e.key === " ");

export function initUploads({ file, drop, canvas, doc = document, onFile }) {
  file.addEventListener("change", () => onFile(file.files[0]));
  drop.addEventListener("dragover", () => drop.classList.add("over"));
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  doc.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  });
  doc.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    drop.classList.remove("over");
    onFile(e.dataTransfer.files[0]);
  });
  for (const target of [drop, canvas]) {
    target.addEventListener("keydown", (e) => {
      if (!opensPicker(e, target)) return;
      e.preventDefault();
      file.click();
    });
  }
  doc.addEventListener("paste", (e) => {
    const pasted = pastedFile(e);
    if (pasted) onFile(pasted);
  });
}
