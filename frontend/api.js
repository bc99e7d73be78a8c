// @ts-check
// The REST calls the page makes (CONTRACT §4), and the one error type they raise.

export class ApiError extends Error {
  constructor(status, detail, retryAfter) {
    super(describe(status, detail, retryAfter));
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  // 422 items [{loc, path, msg, type}], or [] for any other error.
  get fieldErrors() {
    return this.status === 422 && Array.isArray(this.detail) ? this.detail : [];
  }
}

function describe(status, detail, retryAfter) {
  let text = typeof detail === "string" ? detail
    : Array.isArray(detail) ? detail.map((d) => d.msg).join("; ")
      : `the server answered ${status}`;
  if (status === 429 && retryAfter) text += ` (try again in ${retryAfter} s)`;
  return text;
}

/** The admin token the teacher entered in the page, sent with every call; null for a student. */
let adminToken = null;

/** Send `token` as the admin's (`Authorization: Bearer`) from now on; null stops sending it. */
export function useAdminToken(token) {
  adminToken = token || null;
}

async function request(method, path, body) {
  /** @type {RequestInit & {headers: Record<string, string>}} */
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (adminToken) init.headers.Authorization = `Bearer ${adminToken}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, `cannot reach the server (${err.message})`);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!response.ok) {
    const detail = data && typeof data === "object" && "detail" in data ? data.detail : data;
    throw new ApiError(response.status, detail || response.statusText,
      response.headers.get("Retry-After"));
  }
  return data;
}

const runPath = (id) => `/api/runs/${encodeURIComponent(id)}`;

export const getSchema = () => request("GET", "/api/schema");
export const getPresets = () => request("GET", "/api/presets");
export const listRuns = () => request("GET", "/api/runs");
export const getRun = (id) => request("GET", runPath(id));
/** A run's diagnosis as it changed: `{run_id, diagnoses: [{step, diagnosis}]}`, step order. */
export const getDiagnoses = (id) => request("GET", `${runPath(id)}/diagnoses`);
export const createRun = (config) => request("POST", "/api/runs", config);
export const restartRun = (id, overrides) => request("POST", `${runPath(id)}/restart`, overrides);
export const stopRun = (id) => request("POST", `${runPath(id)}/stop`);
export const deleteRun = (id) => request("DELETE", runPath(id));
/** A range of a run's steps (docs/protocol.md): exact, or a Summary past `buckets` steps. */
export const getHistory = (id, query) => request("GET", `${runPath(id)}/history?${query}`);
export const getToken = () => request("GET", "/api/token");
/** Where a run's whole recorded history downloads from, as "csv" or "json". */
export const metricsUrl = (id, format) => `${runPath(id)}/metrics?format=${format}`;
