// accountapi: the account, history, statistics and model routes of the API, for the account pages
// and the "that's wrong" offer. Every call resolves (never rejects) to {ok: true, status, body} or
// {ok: false, status, code, message}, with the service's own error message when it gave one
// (status 0: the server could not be reached). Writes carry the CSRF header (session.mjs). Pure
// apart from the injected fetch (the browser's by default) and the cookie read by csrfHeaders.

import { errorFrom, readBody } from "./api.mjs";
import { csrfHeaders } from "./session.mjs";

const globalFetch = (...args) => globalThis.fetch(...args);
export const OFFLINE = "The server cannot be reached. Check your connection and try again.";
export const HISTORY_PATH = "/api/v1/history";
export const EXPORT_PATH = "/api/v1/history/export";

/** One request: `json` (an object sent as JSON) or `form` (fields sent URL-encoded). */
export async function call(method, path, { json, form, fetch = globalFetch } = {}) {
  const headers = method === "GET" ? {} : { ...csrfHeaders() };
  let body;
  if (json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = new URLSearchParams(form);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: "no-store", credentials: "same-origin" });
  } catch {
    return { ok: false, status: 0, code: null, message: OFFLINE };
  }
  if (response.status === 204) return { ok: true, status: 204, body: null };
  const { parsed, body: answer } = await readBody(response);
  if (!response.ok || !parsed) return { ok: false, status: response.status, ...errorFrom(response.status, answer, parsed) };
  return { ok: true, status: response.status, body: answer };
}

/** The query string of a history listing: only the filters that are set. */
export function historyQuery({ offset = 0, limit = 20, digit = "", source = "", kind = "", corrected = "" } = {}) {
  const q = new URLSearchParams({ offset: String(offset), limit: String(limit) });
  for (const [name, value] of Object.entries({ digit, source, kind, corrected })) {
    if (value !== "" && value !== null && value !== undefined) q.set(name, String(value));
  }
  return q.toString();
}

export const register = (email, password, o) => call("POST", "/api/v1/auth/register", { json: { email, password }, ...o });
export const verify = (token, o) => call("POST", "/api/v1/auth/verify", { json: { token }, ...o });
export const requestVerifyToken = (email, o) => call("POST", "/api/v1/auth/request-verify-token", { json: { email }, ...o });
export const login = (email, password, o) => call("POST", "/api/v1/auth/login", { form: { username: email, password }, ...o });
export const logout = (o) => call("POST", "/api/v1/auth/logout", o);
export const forgotPassword = (email, o) => call("POST", "/api/v1/auth/forgot-password", { json: { email }, ...o });
export const resetPassword = (token, password, o) => call("POST", "/api/v1/auth/reset-password", { json: { token, password }, ...o });
export const deleteAccount = (o) => call("DELETE", "/api/v1/users/me", o);
export const listHistory = (filters, o) => call("GET", `${HISTORY_PATH}?${historyQuery(filters)}`, o);
export const deleteEntry = (id, o) => call("DELETE", `${HISTORY_PATH}/${encodeURIComponent(id)}`, o);
export const correct = (id, label, o) => call("PUT", `${HISTORY_PATH}/${encodeURIComponent(id)}/correction`, { json: { label }, ...o });
export const uncorrect = (id, o) => call("DELETE", `${HISTORY_PATH}/${encodeURIComponent(id)}/correction`, o);
export const imageUrl = (id) => `${HISTORY_PATH}/${encodeURIComponent(id)}/image`;
export const getStats = ({ days = 30, scope = "me" } = {}, o) =>
  call("GET", `/api/v1/stats?days=${encodeURIComponent(days)}&scope=${encodeURIComponent(scope)}`, o);
export const LIVE_PATH = "/api/v1/models/live";
export const MY_MODEL_PATH = "/api/v1/users/me/model";
// operators: the live model, its history and the candidates (modelops.mjs reads the body)
export const getLive = (o) => call("GET", LIVE_PATH, o);
export const promoteModel = (model, o) => call("POST", LIVE_PATH, { json: { model }, ...o });
export const rollBack = (o) => call("POST", `${LIVE_PATH}/rollback`, o);
// everyone: the opt-in to their own fine-tuned model
export const getMyModel = (o) => call("GET", MY_MODEL_PATH, o);
export const setMyModel = (enabled, o) => call("PUT", MY_MODEL_PATH, { json: { enabled }, ...o });
