import WebSocket from "ws";
import { createFrontendKey } from "../../src/auth/key-admin.ts";
import { importSigningKey, signUserToken } from "../../src/auth/user-tokens.ts";
import type { AppDeps } from "../../src/middleware/app-deps.ts";
import { pngBytes } from "../support/task-client.ts";

/** The credentials every route is tried with; each names one way a caller can be wrong (or right). */
export const credentialKinds = [
  "none",
  "malformed",
  "revokedKey",
  "otherFrontendKey",
  "expiredToken",
  "badSignature",
  "otherFrontendSecret",
  "otherUserToken",
  "ownerToken",
  "frontendKey",
] as const;
export type CredentialKind = (typeof credentialKinds)[number];

export interface World {
  url: string;
  ownerId: string;
  ownerExternalId: string;
  otherId: string;
  taskId: string;
  headers: Record<CredentialKind, Record<string, string>>;
  /** Every key and token made, to prove none is ever logged or answered back. */
  secrets: string[];
}

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

/**
 * Two style users, a finished task of the owner's, and one credential of every kind, made
 * through the same code the keys command and POST /api/tokens use.
 */
export async function buildWorld(url: string, deps: AppDeps): Promise<World> {
  const style = deps.controllers.get("style")!;
  const logo = deps.controllers.get("logo")!;
  const auth = deps.auth!;
  await Promise.all([style.ready(), logo.ready()]);
  const ownerExternalId = `owner-${Math.random().toString(36).slice(2)}`;
  const owner = await style.upsertUser({ externalId: ownerExternalId });
  const other = await style.upsertUser({ externalId: `other-${Math.random().toString(36).slice(2)}` });
  const task = await style.createTask({ userId: owner.id, workflow: "invert", params: {}, status: "succeeded", outputUrls: [] });
  const key = await createFrontendKey(style, "matrix");
  const revoked = await createFrontendKey(style, "revoked");
  await style.keys.revokeApiKey(revoked.id);
  const logoKey = await createFrontendKey(logo, "matrix");
  const ownerToken = (await auth.mintUserToken("style", owner.id, 3600)).token;
  const otherToken = (await auth.mintUserToken("style", other.id, 3600)).token;
  const expired = (await auth.mintUserToken("style", owner.id, 60, new Date(Date.now() - 2 * 3600_000))).token;
  const [head, payload, signature] = ownerToken.split(".") as [string, string, string];
  // Flip a character in the middle of the signature (the last one may carry only padding bits).
  const middle = Math.floor(signature.length / 2);
  const flipped = `${signature.slice(0, middle)}${signature[middle] === "A" ? "B" : "A"}${signature.slice(middle + 1)}`;
  const badSignature = `${head}.${payload}.${flipped}`;
  // A token claiming style, signed with logo's secret: what a logo backend would need to forge.
  const foreign = (await signUserToken({ frontend: "style", userId: owner.id }, await importSigningKey(await logo.keys.signingSecret()), 3600, new Date())).token;
  return {
    url,
    ownerId: owner.id,
    ownerExternalId,
    otherId: other.id,
    taskId: task.id,
    secrets: [key.key, revoked.key, logoKey.key, ownerToken, otherToken, expired, badSignature, foreign],
    headers: {
      none: {},
      malformed: { authorization: `Basic ${Buffer.from(`style:${key.key}`).toString("base64")}` },
      revokedKey: bearer(revoked.key),
      otherFrontendKey: bearer(logoKey.key),
      expiredToken: bearer(expired),
      badSignature: bearer(badSignature),
      otherFrontendSecret: bearer(foreign),
      otherUserToken: bearer(otherToken),
      ownerToken: bearer(ownerToken),
      frontendKey: bearer(key.key),
    },
  };
}

/** One request of a route, for one credential. */
export type RouteCall = (world: World, headers: Record<string, string>, kind: CredentialKind) => Promise<Response>;

const json = (world: World, path: string, method: string, headers: Record<string, string>, body: unknown) =>
  fetch(`${world.url}${path}`, { method, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) });

export const calls = {
  mintToken: (w, h) => json(w, "/api/tokens", "POST", h, { frontend: "style", userId: w.ownerId }),
  upsertUser: (w, h) => json(w, "/api/users", "POST", h, { frontend: "style", externalId: w.ownerExternalId, nickname: "Ann" }),
  getUser: (w, h) => fetch(`${w.url}/api/users/${w.ownerId}?frontend=style`, { headers: h }),
  listTasks: (w, h) => fetch(`${w.url}/api/tasks?frontend=style&userId=${w.ownerId}`, { headers: h }),
  workflows: (w, h) => fetch(`${w.url}/api/workflows?frontend=style`, { headers: h }),
  submit: (w, h, kind) => {
    const form = new FormData();
    form.set("frontend", "style");
    form.set("workflow", "invert");
    // A user token may leave userId out; the others name the owner.
    if (kind !== "ownerToken") form.set("userId", w.ownerId);
    form.set("image", new File([new Uint8Array(pngBytes())], "me.png", { type: "image/png" }));
    return fetch(`${w.url}/api/tasks`, { method: "POST", headers: h, body: form });
  },
  queue: (w, h) => fetch(`${w.url}/api/queue?frontend=style&taskId=${w.taskId}`, { headers: h }),
  getTask: (w, h) => fetch(`${w.url}/api/tasks/${w.taskId}?frontend=style`, { headers: h }),
  cancelTask: (w, h) => fetch(`${w.url}/api/tasks/${w.taskId}?frontend=style`, { method: "DELETE", headers: h }),
  servers: (w, h) => fetch(`${w.url}/api/servers`, { headers: h }),
  refreshServers: (w, h) => fetch(`${w.url}/api/servers?refresh=1`, { headers: h }),
  registerWebhook: (w, h) => json(w, "/api/webhooks", "POST", h, { frontend: "style", url: "http://127.0.0.1:9/hooks", events: ["task.succeeded"] }),
  listWebhooks: (w, h) => fetch(`${w.url}/api/webhooks?frontend=style`, { headers: h }),
  healthz: (w, h) => fetch(`${w.url}/healthz`, { headers: h }),
} satisfies Record<string, RouteCall>;

/**
 * The WebSocket as a status: the upgrade's HTTP status when refused; once open, the first
 * message says it: the task's (final) event 200, `forbidden` 403, `not_found` 404.
 */
export async function wsOutcome(world: World, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const socket = new WebSocket(`${world.url.replace(/^http/, "ws")}/api/ws?frontend=style&taskId=${world.taskId}`, { headers });
  try {
    return await new Promise((resolve, reject) => {
      socket.once("unexpected-response", (_request, response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
      });
      socket.once("message", (data) => {
        const text = String(data);
        const message = JSON.parse(text) as { type: string; code?: string };
        const status = message.type !== "error" ? 200 : message.code === "forbidden" ? 403 : message.code === "not_found" ? 404 : 400;
        resolve({ status, text });
      });
      socket.once("error", (error) => {
        if (!/Unexpected server response/.test(error.message)) reject(error);
      });
    });
  } finally {
    socket.terminate();
  }
}
