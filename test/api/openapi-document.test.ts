import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { createFrontendKey } from "../../src/auth/key-admin.ts";
import { fakeForTest } from "../fake-comfy/helpers.ts";
import { apiFetch } from "../support/credentials.ts";
import { dialectCases } from "../support/dialects.ts";
import { responseChecker, schemaCheck, type OpenApiDocument } from "../support/openapi-responses.ts";
import { startReceiver } from "../support/webhook-receiver.ts";
import { openProgressClient } from "../support/ws-client.ts";
import { pngBytes, submitTask } from "../support/task-client.ts";
import { startTestServer } from "../support/test-server.ts";

const sqlite = dialectCases.find((dialect) => dialect.name === "sqlite")!;

/** `/api/tasks/:id`, `/api/tasks/{id}` and `/files/*` all become `/api/tasks/{}`, `/files/{}`. */
function normalisePath(path: string): string {
  return path.replace(/:[A-Za-z0-9_]+(\{[^}]*\})?/g, "{}").replace(/\{[^}]*\}/g, "{}").replace(/\*$/, "{}");
}

async function servedDocument(env: Record<string, string> = {}) {
  const gateway = await startTestServer(sqlite, { HOST: "127.0.0.1", DEMO_LOGIN: "on", ...env });
  const response = await fetch(`${gateway.url}/openapi.json`);
  expect(response.status).toBe(200);
  return { gateway, document: (await response.json()) as OpenApiDocument };
}

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const { document } = await servedDocument();
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe("3.1.0");
  });

  it("documents every route the app registers, and registers every documented one", async () => {
    const { gateway, document } = await servedDocument();
    const registered = new Set(
      gateway.app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${normalisePath(route.path)}`),
    );
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${normalisePath(path)}`)),
    );
    expect([...registered].filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !registered.has(route))).toEqual([]);
  });
});

describe("the documented response schemas", () => {
  it("match a sample of real answers, successes and errors", async () => {
    const fake = await fakeForTest({ msPerStep: 1 });
    const { gateway, document } = await servedDocument({ COMFY_SERVERS: fake.url, WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1" });
    const check = responseChecker(document);
    const problems: string[] = [];
    const seen: string[] = [];
    const call = async (method: string, path: string, init: RequestInit = {}, fetcher = apiFetch) => {
      const url = `${gateway.url}${path}`;
      const response = await fetcher(url, { ...init, method });
      problems.push(...(await check(method, url, response)));
      seen.push(`${method} ${path.split("?")[0]} ${response.status}`);
      return response;
    };
    const { key } = await createFrontendKey(gateway.deps.controllers.get("style")!, "sample");
    const asFrontend = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...init.headers, authorization: `Bearer ${key}` } });
    const json = (body: unknown): RequestInit => ({ headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

    await call("GET", "/healthz", {}, fetch);
    await call("GET", "/readyz", {}, fetch);
    await call("GET", "/api/servers");
    await call("GET", "/api/servers", asFrontend());
    await call("GET", "/api/workflows?frontend=style", asFrontend());
    const user = await (await call("POST", "/api/users", asFrontend(json({ frontend: "style", externalId: "sample-user" })))).json();
    await call("GET", `/api/users/${user.user.id}?frontend=style`, asFrontend());
    const { token } = await (await call("POST", "/api/tokens", asFrontend(json({ frontend: "style", externalId: "sample-user", ttlSeconds: 120 })))).json();
    const asUser = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
    const submitted = await submitTask(gateway.url, { frontend: "style", userId: user.user.id, workflow: "invert", image: { bytes: pngBytes(), type: "image/png", name: "a.png" } });
    problems.push(...(await check("POST", `${gateway.url}/api/tasks`, submitted)));
    const { task } = await submitted.json();
    await expect.poll(async () => (await (await call("GET", `/api/queue?frontend=style&taskId=${task.id}`)).json()).status, { timeout: 15_000, interval: 20 }).toBe("succeeded");
    await call("GET", `/api/tasks/${task.id}?frontend=style`);
    await call("GET", `/api/tasks?frontend=style&userId=${user.user.id}&limit=5`);
    await call("DELETE", `/api/tasks/${task.id}?frontend=style`);
    // Webhook endpoints (registered after the task ended, so nothing is sent to the closed port 9).
    const hook = { frontend: "style", url: "http://127.0.0.1:9/hooks", events: ["task.succeeded"] };
    const { endpoint } = await (await call("POST", "/api/webhooks", asFrontend(json(hook)))).json();
    await call("GET", "/api/webhooks?frontend=style", asFrontend());
    await call("GET", `/api/webhooks/${endpoint.id}?frontend=style`);
    await call("PATCH", `/api/webhooks/${endpoint.id}`, asFrontend(json({ frontend: "style", enabled: false })));
    await call("GET", `/api/webhooks/${endpoint.id}/deliveries?frontend=style&limit=5`, asFrontend());
    await call("DELETE", `/api/webhooks/${endpoint.id}?frontend=style`, asFrontend());
    await call("GET", `/api/webhooks/${endpoint.id}?frontend=style`, asFrontend());
    await call("POST", "/api/webhooks", asUser(json(hook)), fetch);
    await call("POST", "/api/webhooks", asFrontend(json({ ...hook, url: "http://10.0.0.5/hooks" })));
    await call("PATCH", `/api/webhooks/${endpoint.id}`, asFrontend(json({ frontend: "style" })));
    // Errors: each in the envelope, with a code the route documents for that status.
    await call("GET", "/api/tasks/no-such-task?frontend=style");
    await call("GET", "/api/tasks?frontend=style&userId=x&limit=1000");
    await call("GET", "/api/workflows?frontend=nope");
    await call("GET", "/api/workflows?frontend=style", { headers: { authorization: "Bearer wrong" } }, fetch);
    await call("POST", "/api/tokens", asFrontend(json({ frontend: "style" })));
    await call("POST", "/api/users", asFrontend({ headers: { "content-type": "application/json" }, body: "{" }));
    await call("GET", "/metrics", {}, fetch);
    await call("GET", "/openapi.json", {}, fetch);

    expect(problems).toEqual([]);
    expect(seen).toEqual(expect.arrayContaining(["GET /api/tasks/no-such-task 404", "GET /api/workflows 400", "GET /api/workflows 401", "POST /api/tokens 400", "GET /metrics 401"]));
    expect(seen.filter((line) => line.startsWith("POST /api/webhooks ") || line.startsWith("DELETE /api/webhooks/") || line.endsWith("/deliveries 200"))).toEqual([
      "POST /api/webhooks 201",
      `GET /api/webhooks/${endpoint.id}/deliveries 200`,
      `DELETE /api/webhooks/${endpoint.id} 204`,
      "POST /api/webhooks 403",
      "POST /api/webhooks 400",
    ]);
  });
});

describe("the outgoing webhooks in the document (OpenAPI 3.1 `webhooks`)", () => {
  it("describe each task.* event, and a real receiver gets bodies and Standard Webhooks headers as documented", async () => {
    const fake = await fakeForTest({ msPerStep: 1 });
    const { gateway, document } = await servedDocument({ COMFY_SERVERS: fake.url, WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1" });
    const webhooks = document.webhooks as Record<string, { post: { requestBody: { content: { "application/json": { schema: object } } }; parameters: Array<{ in: string; name: string; required?: boolean }> } }>;
    expect(Object.keys(webhooks).sort()).toEqual(["task.cancelled", "task.failed", "task.running", "task.succeeded"]);
    const receiver = await startReceiver();
    const events = ["task.running", "task.succeeded"];
    const registered = await apiFetch(`${gateway.url}/api/webhooks`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ frontend: "style", url: receiver.url, events }) });
    expect(registered.status).toBe(201);
    const userId = (await (await apiFetch(`${gateway.url}/api/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ frontend: "style", externalId: "hook-doc" }) })).json()).user.id;
    await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: { bytes: pngBytes(), type: "image/png", name: "a.png" } });
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(2);

    const problems = receiver.received.flatMap(({ headers, body }) => {
      const payload = JSON.parse(body) as { type: string };
      const event = webhooks[payload.type]?.post;
      if (!event) return [`${payload.type} is not documented`];
      const missing = event.parameters.filter((parameter) => parameter.in === "header" && parameter.required && headers[parameter.name] === undefined);
      return [...schemaCheck({ ...event.requestBody.content["application/json"].schema, components: document.components })(payload), ...missing.map((parameter) => `no ${parameter.name} header`)];
    });
    expect(problems).toEqual([]);
    expect(receiver.received.map(({ body }) => (JSON.parse(body) as { type: string }).type).sort()).toEqual(events);
    expect(webhooks["task.succeeded"]!.post.parameters.map((parameter) => parameter.name)).toEqual(["webhook-id", "webhook-timestamp", "webhook-signature"]);
  });
});

describe("the response checker", () => {
  it("reports an answer that does not match its documented schema", async () => {
    const { gateway, document } = await servedDocument();
    const wrong = new Response(JSON.stringify({ task: { id: 7 } }), { status: 200, headers: { "content-type": "application/json" } });
    const problems = await responseChecker(document)("GET", `${gateway.url}/api/tasks/abc`, wrong);
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining("GET /api/tasks/{id} 200: /task/id must be string")]));
  });
});

describe("the WebSocket protocol in the document (x-websocket)", () => {
  it("matches the messages a real socket sends and the ones a client sends", async () => {
    const fake = await fakeForTest({ msPerStep: 1 });
    const { gateway, document } = await servedDocument({ COMFY_SERVERS: fake.url });
    const protocol = document.paths["/api/ws"]!.get!["x-websocket"] as { clientMessages: object; serverMessages: object; closeCodes: Record<string, string> };
    const userId = (await (await apiFetch(`${gateway.url}/api/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ frontend: "style", externalId: "ws-doc" }) })).json()).user.id;
    const submitted = await submitTask(gateway.url, { frontend: "style", userId, workflow: "invert", image: { bytes: pngBytes(), type: "image/png", name: "a.png" } });
    const { task } = await submitted.json();
    const socket = await openProgressClient(`${gateway.url.replace("http", "ws")}/api/ws?frontend=style&taskId=${task.id}`);
    await socket.waitFor((message) => message.type === "succeeded");
    const sent = [{ type: "subscribe", taskId: task.id }, { type: "unsubscribe", taskId: task.id }];
    socket.send({ type: "subscribe" });
    await socket.waitFor((message) => message.type === "error");

    const serverProblems = socket.messages.flatMap(schemaCheck(protocol.serverMessages));
    const clientProblems = sent.flatMap(schemaCheck(protocol.clientMessages));
    expect({ serverProblems, clientProblems }).toEqual({ serverProblems: [], clientProblems: [] });
    expect(schemaCheck(protocol.clientMessages)({ type: "subscribe" })).not.toEqual([]);
    expect(socket.messages.map((message) => message.type)).toEqual(expect.arrayContaining(["succeeded", "error"]));
    expect(protocol.closeCodes).toMatchObject({ "4401": "token expired", "4404": "unknown task" });
  });
});
