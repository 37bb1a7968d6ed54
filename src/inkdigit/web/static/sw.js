// The service worker (issue 17): keeps the main page, its scripts, ONNX Runtime Web and the model the
// page reads with, so that a page loaded once reads drawings with the server stopped or the network
// off. The server serves this file at /sw.js (scope: the whole site) with two lines before it:
// `self.PRECACHE`, the files the page needs, and `self.CACHE_VERSION`, a hash of their contents, so
// that any change to them installs a new worker, which fills a new cache and deletes the old one.
//
// Every request it handles goes to the network first and falls back to the cache: online, the page
// is always the server's latest (and a model repaired under the same name is fetched again; its
// ETag makes that a 304 most of the time); offline or with the server down, the copy kept last.
// It handles only GETs of the page, /static/, the manifest, the model list and browser models' card
// and ONNX file; every other request (readings, accounts, history) passes through untouched, so
// nothing personal is kept here.

/* global self, caches, fetch, Request, URL */
const CACHE = `inkdigit-${self.CACHE_VERSION}`;
const KEPT = [/^\/$/, /^\/static\//, /^\/manifest\.webmanifest$/, /^\/api\/v1\/models$/,
  /^\/api\/v1\/models\/[^/]+\/(card|onnx)$/];

self.addEventListener("install", (event) => {
  // every file or none: a worker that could not keep them all is not installed (the old one stays)
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(self.PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith("inkdigit-") && n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

function kept(request) {
  if (request.method !== "GET") return false;
  const url = new URL(request.url);
  return url.origin === self.location.origin && KEPT.some((re) => re.test(url.pathname));
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    // the page by its path alone (a query string, such as a sign-in notice, does not matter offline)
    const copy = await cache.match(request, { ignoreSearch: request.mode === "navigate" });
    if (copy) return copy;
    throw error;
  }
}

// the page names what it reads with once it knows (the model list, the model's card and ONNX file):
// its first load ran before this worker existed, so nothing it fetched then went through here
self.addEventListener("message", (event) => {
  const urls = event.data && Array.isArray(event.data.keep) ? event.data.keep : [];
  const wanted = urls.filter((u) => typeof u === "string" && kept(new Request(new URL(u, self.location.origin))));
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(wanted)));
});

self.addEventListener("fetch", (event) => {
  if (kept(event.request)) event.respondWith(networkFirst(event.request));
});
