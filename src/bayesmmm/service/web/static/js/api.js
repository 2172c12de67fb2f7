// The service's REST API from the page: same origin, optional API key, readable errors.
import { forPage } from "./advice.js";

const KEY_STORE = "bayesmmm.apiKey";

export class ApiError extends Error {
  constructor(status, body) {
    super(ApiError.message(status, body));
    this.name = "ApiError";
    this.status = status;
    this.code = body && body.code;
    this.body = body || {};
  }

  static message(status, body) {
    if (body && typeof body.detail === "string") {
      if (status === 401) return `${body.detail}. Paste your API key under "API key" at the top right.`;
      return forPage(body.detail);
    }
    if (status === 404) return "Not found on this service.";
    if (status >= 500) return `The service answered HTTP ${status}; try again in a moment.`;
    return `The service answered HTTP ${status}.`;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY_STORE) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORE, key);
  else sessionStorage.removeItem(KEY_STORE);
}

function headers(extra = {}) {
  const out = { Accept: "application/json", ...extra };
  const key = apiKey();
  if (key) out["X-API-Key"] = key;
  return out;
}

/**
 * Call ``/v1<path>``. Options: ``method``, ``json`` (a body), ``form`` (FormData),
 * ``query`` (object), ``raw`` (return the Response). Throws ApiError on HTTP errors.
 */
export async function api(path, { method, json, form, query, raw } = {}) {
  let url = `/v1${path}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.append(k, v);
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const init = { method: method || (json || form ? "POST" : "GET"), headers: headers() };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  const response = await fetch(url, init);
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch { body = null; }
    const error = new ApiError(response.status, body);
    if (response.status === 401) document.dispatchEvent(new CustomEvent("bayesmmm:unauthorized"));
    throw error;
  }
  if (raw) return response;
  return response.json();
}

/**
 * A paged answer whole: calls ``api(path, options(offset))`` from offset 0 and follows
 * ``next_offset`` (the service cuts each answer below 100,000 characters), joining the
 * list under ``key`` of every page into the first page's answer.
 */
export async function allPages(path, key, options) {
  let whole = null;
  let offset = 0;
  for (;;) {
    const page = await api(path, options(offset));
    if (whole) whole[key] = whole[key].concat(page[key]);
    else whole = page;
    const next = page.next_offset;
    if (next === null || next === undefined || next <= offset) return whole;
    offset = next;
  }
}
