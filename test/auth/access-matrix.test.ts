import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeComfy, type FakeComfy } from "../fake-comfy/index.ts";
import { dialectCases } from "../support/dialects.ts";
import { startTestServer } from "../support/test-server.ts";
import { buildWorld, calls, credentialKinds, wsOutcome, type CredentialKind, type World } from "./access-fixture.ts";

type Route = keyof typeof calls | "websocket";
type Row = [Route, ...number[]];

// Every route and the WebSocket × every kind of credential, with the status each must answer.
// Columns: none, malformed header, revoked key, other frontend's key, expired token, bad
// signature, token signed with another frontend's secret, another user's token, the owner's
// token, the frontend's key. (All requests name frontend=style and the owner's user and task.)
// prettier-ignore
const table: Row[] = [
  //                none malf revk othK expd bSig othS othU ownr fKey
  ["mintToken",      401, 401, 401, 403, 401, 401, 401, 403, 403, 201],
  ["upsertUser",     401, 401, 401, 403, 401, 401, 401, 403, 200, 200],
  ["getUser",        401, 401, 401, 403, 401, 401, 401, 404, 200, 200],
  ["listTasks",      401, 401, 401, 403, 401, 401, 401, 404, 200, 200],
  ["workflows",      401, 401, 401, 403, 401, 401, 401, 200, 200, 200],
  ["submit",         401, 401, 401, 403, 401, 401, 401, 403, 202, 202],
  ["queue",          401, 401, 401, 403, 401, 401, 401, 404, 200, 200],
  ["getTask",        401, 401, 401, 403, 401, 401, 401, 404, 200, 200],
  ["cancelTask",     401, 401, 401, 403, 401, 401, 401, 404, 200, 200],
  ["servers",        401, 401, 401, 200, 401, 401, 401, 200, 200, 200],
  ["refreshServers", 401, 401, 401, 403, 401, 401, 401, 403, 403, 403],
  ["registerWebhook", 401, 401, 401, 403, 401, 401, 401, 403, 403, 201],
  ["listWebhooks",   401, 401, 401, 403, 401, 401, 401, 403, 403, 200],
  ["websocket",      401, 401, 401, 403, 401, 401, 401, 404, 200, 200],
  ["healthz",        200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
];

const cases = table.flatMap(([route, ...statuses]) =>
  credentialKinds.map((kind, column) => ({ route, kind, status: statuses[column]! })),
);

const codeFor: Record<number, string> = { 401: "unauthorized", 403: "forbidden", 404: "not_found" };

async function attempt(world: World, route: Route, kind: CredentialKind): Promise<{ status: number; text: string }> {
  const headers = world.headers[kind];
  if (route === "websocket") return wsOutcome(world, headers);
  const response = await calls[route](world, headers, kind);
  return { status: response.status, text: await response.text() };
}

describe.each(dialectCases)("access matrix on $name", (dialect) => {
  let fake: FakeComfy;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let world: World;
  const answers: string[] = [];

  beforeAll(async () => {
    if (dialect.skip) return;
    fake = await startFakeComfy({});
    server = await startTestServer(dialect, { COMFY_SERVERS: `gpu1=${fake.url}`, WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1" }, dialect.env(), false);
    world = await buildWorld(server.url, server.deps);
  });
  afterAll(async () => {
    if (dialect.skip) return;
    await server.close();
    server.data.cleanup();
    await fake.kill();
  });

  it.skipIf(dialect.skip).each(cases)("$route with $kind answers $status", async ({ route, kind, status }) => {
    const answer = await attempt(world, route, kind);
    answers.push(answer.text);
    expect(answer.status).toBe(status);
    if (route !== "websocket" && codeFor[status]) expect(JSON.parse(answer.text).error.code).toBe(codeFor[status]);
  });

  it.skipIf(dialect.skip)("no key or token ever appears in a log line or an answer after it was made", () => {
    expect(answers.length).toBe(cases.length);
    const logged = server.logger.entries.map((entry) => JSON.stringify(entry));
    for (const secret of world.secrets) {
      for (const line of logged) expect(line).not.toContain(secret);
      for (const text of answers) expect(text).not.toContain(secret);
    }
  });
});
