// The service worker (issue 17): keeps the main page, its scripts, ONNX Runtime Web and the model the
// page reads with, so that a page loaded once reads drawings with the server stopped or the network
// off. The server serves this file at /sw.js (scope: the whole site) with two lines before it:
// `self.PRECACHE`, the files the page needs, and `self.CACHE_VERSION`, a hash of their contents, so
// that any change to them installs a new worker, which fills a new cache and deletes the old one.
//
// Every request it handles goes to the network first and falls back to the cache: online, the page
// is always the server's latest (and a model repaired under the same name is fetched again on the
// next load; its ETag makes that a 304 most of the time); offline or with the server down, the copy
// kept last. It handles only GETs of the page, /static/, the manifest, the model list and browser
// models' card and ONNX file; every other request (readings, accounts, history) passes through
// untouched. Nothing personal is kept: a response marked `private` (a personal model's files) is
// not stored, and the model list is stored without the signed-in user's personal models.

/* global self, caches, fetch, Request, Response, URL */
const CACHE = `inkdigit-${self.CACHE_VERSION}`; // the page's files, replaced with each version
const MODELS = "inkdigit-models"; // the model the page reads with: kept across versions of the page
const PAGE = [/^\/$/, /^\/static\//, /^\/manifest\.webmanifest$/];
const MODEL = [/^\/api\/v1\/models$/, /^\/api\/v1\/models\/[^/]+\/(card|onnx)$/];

self.addEventListener("install", (event) => {
  // every file or none: a worker that could not keep them all is not installed (the old one stays)
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(self.PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith("inkdigit-") && n !== CACHE && n !== MODELS)
      .map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

/** The cache a request belongs in, or null when this worker leaves it alone. */
function cacheFor(request) {
  if (request.method !== "GET") return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  if (PAGE.some((re) => re.test(url.pathname))) return CACHE;
  return MODEL.some((re) => re.test(url.pathname)) ? MODELS : null;
}

/** What of `response` may be kept: nothing marked private, and the model list without personal models. */
async function keepable(request, response) {
  if (!response.ok || /\b(private|no-store)\b/.test(response.headers.get("cache-control") || "")) return null;
  if (new URL(request.url).pathname !== "/api/v1/models") return response;
  const body = await response.json();
  const models = Array.isArray(body.models) ? body.models.filter((m) => m && !m.personal) : [];
  return new Response(JSON.stringify({ ...body, models }), { headers: { "content-type": "application/json" } });
}

async function store(name, request, response) {
  const kept = await keepable(request, response);
  if (kept) await (await caches.open(name)).put(request, kept);
}

async function networkFirst(event, name) {
  const { request } = event;
  try {
    const response = await fetch(request);
    event.waitUntil(store(name, request, response.clone())); // the page gets the bytes meanwhile
    return response;
  } catch (error) {
    // the page by its path alone (a query string, such as a sign-in notice, does not matter offline)
    const copy = await caches.match(request, { ignoreSearch: request.mode === "navigate" });
    if (copy) return copy;
    throw error;
  }
}

// the page names what it reads with once it knows (the model list, the model's card and ONNX file):
// its first load ran before this worker existed, so nothing it fetched then went through here. Only
// what is not kept yet is fetched (a page this worker controls stored its files as it loaded them);
// they replace whatever model was kept before.
self.addEventListener("message", (event) => {
  const urls = event.data && Array.isArray(event.data.keep) ? event.data.keep : [];
  const wanted = urls.filter((u) => typeof u === "string").map((u) => new Request(new URL(u, self.location.origin)))
    .filter((r) => cacheFor(r) === MODELS);
  event.waitUntil((async () => {
    const cache = await caches.open(MODELS);
    const missing = [];
    for (const r of wanted) if (!(await cache.match(r))) missing.push(r);
    const fetched = await Promise.all(missing.map(async (r) => [r, await fetch(r)]));
    if (!fetched.every(([, response]) => response.ok)) return; // keep the model there was
    const keep = new Set(wanted.map((r) => r.url));
    await Promise.all((await cache.keys()).filter((r) => !keep.has(r.url)).map((r) => cache.delete(r)));
    await Promise.all(fetched.map(([r, response]) => store(MODELS, r, response)));
  })());
});

self.addEventListener("fetch", (event) => {
  const name = cacheFor(event.request);
  if (name) event.respondWith(networkFirst(event, name));
});
