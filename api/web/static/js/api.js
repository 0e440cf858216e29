// The pages' only way to the data: the service's public JSON API, with the API key when one is needed.
import { askForKey, forgetKey, storedKey } from "./key.js";

/** An API call that failed, sorted by what the person can do about it. */
export class ApiError extends Error {
  /**
   * kind: "unreachable" (no answer at all), "unavailable" (503: no index yet, or too slow),
   * "invalid" (400/422, `field` names the input), "not-found", "auth" (no usable key), "server".
   */
  constructor(kind, message, { status = null, field = null } = {}) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.field = field;
  }
}

function kindOf(status) {
  if (status === 503) return "unavailable";
  if (status === 404) return "not-found";
  if (status === 401 || status === 403) return "auth";
  if (status >= 400 && status < 500) return "invalid";
  return "server";
}

async function send(path, { method = "GET", body, signal, params }) {
  const headers = { Accept: "application/json" };
  const key = storedKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const query = params ? `?${params}` : "";
  try {
    return await fetch(path + query, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("unreachable", "The search service cannot be reached.");
  }
}

/**
 * Call the API; returns {data, headers}. When the service wants a key (401) or refuses the one given (403),
 * the person is asked for one, once per tab, and the call is made again with it.
 */
export async function api(path, options = {}) {
  let response = await send(path, options);
  while (response.status === 401 || response.status === 403) {
    const refused = response.status === 403 && storedKey();
    if (refused) forgetKey();
    const key = await askForKey(refused ? "That key was not accepted. Check it and try again." : null);
    if (!key) throw new ApiError("auth", "An API key is needed to read from this service.", { status: 401 });
    response = await send(path, options);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    if (response.ok) throw new ApiError("server", "The service sent an answer this page cannot read.");
  }
  if (!response.ok) {
    const message = data && typeof data.error === "string" ? data.error : `The service answered ${response.status}.`;
    const field = data && typeof data.field === "string" ? data.field : null;
    throw new ApiError(kindOf(response.status), message, { status: response.status, field });
  }
  return { data, headers: response.headers };
}

/** Whether anything is indexed: the public /health says (null documents: no index yet). */
export async function indexedDocuments() {
  try {
    const { data } = await api("/health");
    return typeof data.documents === "number" ? data.documents : 0;
  } catch {
    return null;
  }
}
