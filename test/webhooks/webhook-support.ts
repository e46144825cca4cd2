import { expect } from "vitest";
import { webhookDeliveryViewSchema } from "../../src/views/webhook-view.ts";
import { apiFetch } from "../support/credentials.ts";
import { pngBytes, submitTask } from "../support/task-client.ts";

export const allEndings = ["task.succeeded", "task.failed", "task.cancelled"];

/** Registers an endpoint for style with the gateway's default credential; returns its id and secret. */
export async function registerEndpoint(gatewayUrl: string, target: string, events: string[] = allEndings): Promise<{ id: string; secret: string }> {
  const answer = await apiFetch(`${gatewayUrl}/api/webhooks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ frontend: "style", url: target, events }),
  });
  expect(answer.status).toBe(201);
  const body = (await answer.json()) as { endpoint: { id: string }; secret: string };
  return { id: body.endpoint.id, secret: body.secret };
}

export async function setEnabled(gatewayUrl: string, id: string, enabled: boolean): Promise<void> {
  const answer = await apiFetch(`${gatewayUrl}/api/webhooks/${id}`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ frontend: "style", enabled }),
  });
  expect(answer.status).toBe(200);
}

export interface DeliveryView {
  id: string;
  event: string;
  taskId: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
}

export async function deliveriesOf(gatewayUrl: string, endpointId: string): Promise<DeliveryView[]> {
  const answer = await apiFetch(`${gatewayUrl}/api/webhooks/${endpointId}/deliveries?frontend=style`);
  expect(answer.status).toBe(200);
  const { deliveries } = (await answer.json()) as { deliveries: DeliveryView[] };
  // Every answer the tests read is also held to the documented shape.
  for (const delivery of deliveries) webhookDeliveryViewSchema.strict().parse(delivery);
  return deliveries;
}

export async function endpointOf(gatewayUrl: string, endpointId: string): Promise<{ enabled: boolean; disabledReason: string | null }> {
  const answer = await apiFetch(`${gatewayUrl}/api/webhooks/${endpointId}?frontend=style`);
  return ((await answer.json()) as { endpoint: { enabled: boolean; disabledReason: string | null } }).endpoint;
}

/** Submits a style `invert` task for `userId`; returns its id. */
export async function submitInvert(gatewayUrl: string, userId: string): Promise<string> {
  const answer = await submitTask(gatewayUrl, { frontend: "style", userId, workflow: "invert", image: { bytes: pngBytes(4, 4), type: "image/png", name: "in.png" } });
  expect(answer.status).toBe(202);
  return ((await answer.json()) as { task: { id: string } }).task.id;
}

export async function taskStatus(gatewayUrl: string, taskId: string): Promise<string> {
  const answer = await apiFetch(`${gatewayUrl}/api/tasks/${taskId}?frontend=style`);
  return ((await answer.json()) as { task: { status: string } }).task.status;
}

/** The parsed bodies a receiver got, in order. */
export function bodies(received: ReadonlyArray<{ body: string }>): Array<{ type: string; data: { taskId: string; status: string } }> {
  return received.map((entry) => JSON.parse(entry.body) as { type: string; data: { taskId: string; status: string } });
}
