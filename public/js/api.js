// The gateway's HTTP API, same origin. Every failure becomes an ApiError carrying the envelope's
// code and request id, so the page can show something a person can report.

export class ApiError extends Error {
  constructor(status, code, message, requestId, details) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
  }

  /** The message plus what helps a maintainer find it in the logs (the message already names the fields). */
  describe() {
    const extra = [this.code, this.requestId && `request ${this.requestId}`].filter(Boolean).join(", ");
    return extra ? `${this.message} (${extra})` : this.message;
  }
}

async function request(path, init = {}) {
  let response;
  try {
    response = await fetch(path, { ...init, headers: { accept: "application/json", ...init.headers } });
  } catch (error) {
    throw new ApiError(0, "network", `The gateway did not answer (${error.message})`);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = body && body.error;
    if (error && typeof error.message === "string") throw new ApiError(response.status, error.code, error.message, error.requestId, error.details);
    throw new ApiError(response.status, "http_" + response.status, `${init.method ?? "GET"} ${path} answered ${response.status}`);
  }
  return body;
}

const query = (params) => new URLSearchParams(params).toString();

/** A v4 UUID; crypto.randomUUID exists only in secure contexts, so plain-http LAN hosts need this. */
export function newUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// The page acts as one end user, as a mini-program would: its "backend" (the demo's stand-in,
// POST /demo/login, which calls POST /api/tokens with the frontend's key) gives it a short-lived
// user token for the chosen frontend and user name, and every call carries that token.
const sessions = new Map(); // frontend -> { externalId, token, expiresAt, user }
let userName = "demo-user";
let activeFrontend = "style";
const renewBeforeMs = 60_000;

/** The end user the page acts as (its external id, e.g. an openid). */
export function setUser(externalId) {
  userName = externalId;
}

async function session(frontend) {
  activeFrontend = frontend;
  const known = sessions.get(frontend);
  if (known && known.externalId === userName && Date.parse(known.expiresAt) - Date.now() > renewBeforeMs) return known;
  const body = await request("/demo/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ frontend, externalId: userName }) });
  const fresh = { externalId: userName, token: body.token, expiresAt: body.expiresAt, user: body.user };
  sessions.set(frontend, fresh);
  return fresh;
}

async function authed(frontend, path, init = {}) {
  const { token } = await session(frontend);
  return request(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
}

export const api = {
  /** The page's user in `frontend` (created on first use by the backend's token request). */
  login: async (frontend) => (await session(frontend)).user,
  workflows: (frontend) => authed(frontend, `/api/workflows?${query({ frontend })}`),
  /** `form` is a FormData; the key makes a double click or a retried request one task, not two. */
  submitTask: (frontend, form, idempotencyKey) => authed(frontend, "/api/tasks", { method: "POST", headers: { "idempotency-key": idempotencyKey }, body: form }),
  queue: (frontend, taskId) => authed(frontend, `/api/queue?${query({ frontend, taskId })}`),
  task: (frontend, taskId) => authed(frontend, `/api/tasks/${encodeURIComponent(taskId)}?${query({ frontend })}`),
  cancelTask: (frontend, taskId) => authed(frontend, `/api/tasks/${encodeURIComponent(taskId)}?${query({ frontend })}`, { method: "DELETE" }),
  /** A user sees each server's name and state; `?refresh=1` and the details need the admin key. */
  servers: (refresh) => authed(activeFrontend, refresh ? "/api/servers?refresh=1" : "/api/servers"),
  /**
   * Browsers cannot set headers on a WebSocket: the token travels as a subprotocol entry (kept out
   * of URLs and so out of access logs); the server answers with the plain `aipack` entry.
   */
  socketProtocols: async (frontend) => ["aipack", `aipack.token.${(await session(frontend)).token}`],
};
