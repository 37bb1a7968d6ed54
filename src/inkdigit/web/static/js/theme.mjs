// theme: light and dark. The page follows the system's colour scheme until the toggle is used;
// then the choice ("light" or "dark") is stored and set as `data-theme` on the root element,
// which app.css honours. `initTheme({root, button, storage, media, onChange})` applies the stored
// choice, flips it on a click (to the opposite of the scheme now shown) and calls `onChange()`
// whenever the colours may have changed (also when the system scheme changes), so the canvas can
// be redrawn in the new ink colour. `storedTheme` and `toggledTheme` are pure; the DOM is touched
// only when initTheme runs.

export const THEME_KEY = "inkdigit.theme";
const THEMES = new Set(["light", "dark"]);

/** The stored choice, or null to follow the system (also for anything unexpected in storage). */
export function storedTheme(storage) {
  const theme = storage.getItem(THEME_KEY);
  return THEMES.has(theme) ? theme : null;
}

/** The theme a click switches to, given the CSS `color-scheme` now in effect. */
export function toggledTheme(colorScheme) {
  return String(colorScheme).trim() === "dark" ? "light" : "dark";
}

export function initTheme({ root, button, storage, media, onChange }) {
  function apply(theme) {
    if (theme) root.dataset.theme = theme;
    else delete root.dataset.theme;
    onChange();
  }
  button.addEventListener("click", () => {
    const next = toggledTheme(getComputedStyle(root).getPropertyValue("color-scheme"));
    storage.setItem(THEME_KEY, next);
    apply(next);
  });
  if (media) media.addEventListener("change", () => onChange());
  apply(storedTheme(storage));
}
