// session: who is signed in, and what a signed-in page's writes must send. The session itself is an
// HttpOnly cookie the page cannot read; the server also sets the readable `inkdigit_csrf` cookie,
// whose value every cookie-authenticated non-GET request (reads of digits included) must echo in
// the `X-CSRF-Token` header. `cookieValue` and `csrfHeaders` are pure (the cookie string is passed
// in, `document.cookie` by default, read only when called); `currentUser(fetch)` asks the server
// (`GET /api/v1/users/me`) and resolves to the account or null (signed out, or the server away).
// When the API answers 401 (the session ended, e.g. signed out in another tab), pages say
// `SESSION_ENDED` with `signInLink(path)` (a link to /signin?next=path; the DOM only when called).

export const CSRF_COOKIE = "inkdigit_csrf";
export const CSRF_HEADER = "X-CSRF-Token";
export const ME_PATH = "/api/v1/users/me";

const pageCookies = () => (globalThis.document ? globalThis.document.cookie : "");
const globalFetch = (...args) => globalThis.fetch(...args);

/** The value of cookie `name` in a `document.cookie`-style string, or "" when it is not there. */
export function cookieValue(cookies, name) {
  for (const part of String(cookies || "").split(";")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    if (part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return part.slice(at + 1).trim();
      }
    }
  }
  return "";
}

/** The header a cookie-authenticated write sends: {"X-CSRF-Token": value}, or {} when signed out. */
export function csrfHeaders(cookies = pageCookies()) {
  const token = cookieValue(cookies, CSRF_COOKIE);
  return token ? { [CSRF_HEADER]: token } : {};
}

/** True when a well-formed account came back from /users/me. */
export function isUser(body) {
  return Boolean(body) && typeof body === "object" && typeof body.email === "string"
    && typeof body.is_verified === "boolean";
}

/** The signed-in account ({id, email, is_verified, is_admin, created_at}), or null. */
export async function currentUser(fetch = globalFetch) {
  try {
    const response = await fetch(ME_PATH, { cache: "no-store", credentials: "same-origin" });
    if (!response.ok) return null;
    const body = await response.json();
    return isUser(body) ? body : null;
  } catch {
    return null;
  }
}

/** What a page says when the API answers 401: the session it had has ended. */
export const SESSION_ENDED = "Your session has ended — sign in again.";

/** The sign-in page, coming back to `path` (a path of this site) afterwards. */
export function signInHref(path = "/") {
  const here = typeof path === "string" && /^\/(?![/\\])[^\s?#]*$/.test(path) ? path : "/";
  return `/signin?next=${here}`;
}

/** A "Sign in" link to the sign-in page, coming back to `path`. */
export function signInLink(path, doc = globalThis.document) {
  const link = doc.createElement("a");
  link.href = signInHref(path);
  link.textContent = "Sign in";
  link.dataset.testid = "session-ended-signin";
  return link;
}
