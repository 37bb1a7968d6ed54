// preview: the uploaded image shown under the drop zone. `createPreview(img, urls)` returns
// `{show(file, onload), hide()}`: `show` shows the file (an object URL, `urls` being `URL` by
// default, revoked when replaced or hidden) and calls `onload()` once it is decoded; `hide` takes it
// away. Touches only the `img` it is given, and only when called.

export function createPreview(img, urls = globalThis.URL) {
  let url = null;
  return {
    show(file, onload) {
      if (url) urls.revokeObjectURL(url);
      url = urls.createObjectURL(file);
      img.onload = onload;
      img.src = url;
      img.hidden = false;
    },
    hide() {
      img.hidden = true;
      img.onload = null;
      img.removeAttribute("src");
      if (url) urls.revokeObjectURL(url);
      url = null;
    },
  };
}
