import { randomBytes } from "node:crypto";

/**
 * The default credential of the test gateways: an ADMIN_KEY (which acts on every frontend), so
 * tests written before authentication send it without saying so. Tests about access itself pass
 * their own Authorization header, which is then left alone.
 */
export const testAdminKey = `test-admin-${randomBytes(16).toString("hex")}`;

const byOrigin = new Map<string, string>();

/** Requests to this gateway get `credential` unless they carry an Authorization header. */
export function useDefaultCredential(baseUrl: string, credential = testAdminKey): void {
  byOrigin.set(new URL(baseUrl).origin, credential);
}

function hasAuthorization(headers: HeadersInit | undefined): boolean {
  return headers !== undefined && new Headers(headers).has("authorization");
}

/** `init` with the default credential of `url`'s gateway added when it has none. */
export function withDefaultAuth(url: string, init: RequestInit = {}, credential?: string): RequestInit {
  const key = credential ?? byOrigin.get(new URL(url.replace(/^ws/, "http")).origin);
  if (!key || hasAuthorization(init.headers)) return init;
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  return { ...init, headers };
}

/** fetch with the gateway's default credential (see useDefaultCredential). */
export function apiFetch(url: string, init?: RequestInit): Promise<Response> {
  return fetch(url, withDefaultAuth(url, init));
}

/** The default credential's header for `url`'s gateway ({} when none is registered). */
export function defaultAuthHeaders(url: string): Record<string, string> {
  const headers = new Headers(withDefaultAuth(url).headers);
  const value = headers.get("authorization");
  return value ? { authorization: value } : {};
}
