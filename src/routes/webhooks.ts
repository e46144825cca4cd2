import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { anyOf, apiErrors, createRouter, errorResponses, frontendErrors, json, jsonBody, jsonBodyErrors } from "../lib/openapi.ts";
import { requireKey } from "../middleware/auth.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { lengths } from "../schema/columns.ts";
import { webhookEventTypes } from "../schema/index.ts";
import { webhookDeliveryView, webhookDeliveryViewSchema, webhookEndpointView, webhookEndpointViewSchema } from "../views/webhook-view.ts";
import { checkDestination, DestinationRefused } from "../webhooks/destination.ts";
import { webhookPayloadSchema } from "../webhooks/events.ts";
import { newWebhookSecret } from "../webhooks/secret.ts";

const events = z
  .array(z.enum(webhookEventTypes))
  .min(1)
  .max(webhookEventTypes.length)
  .transform((list) => [...new Set(list)])
  .meta({ description: "The events to receive (`task.running` only if asked for); repeats are ignored" });

export const createWebhookBody = z.strictObject({
  frontend: z.string(),
  url: z
    .url({ protocol: /^https?$/, error: "must be an http or https URL" })
    .max(lengths.url)
    .meta({ description: "Where the gateway POSTs the events; a private, loopback or link-local address is refused unless the operator allows it" }),
  events,
  description: z.string().trim().max(lengths.keyLabel).nullish(),
});

export const updateWebhookBody = z
  .strictObject({ frontend: z.string(), enabled: z.boolean().optional(), events: events.optional() })
  .refine((body) => body.enabled !== undefined || body.events !== undefined, "give enabled or events");

export const webhookIdParam = z.object({ id: z.string().min(1).max(lengths.id) });
const frontendQuery = z.object({ frontend: z.string() });
export const deliveriesQuery = z.object({ frontend: z.string(), limit: z.coerce.number().int().min(1).max(100).default(20) });

const endpointAnswer = z.object({ endpoint: webhookEndpointViewSchema });

// Every route: the frontend's key (its backend) or the admin key; a user token is refused (403 `forbidden`).
const keyOnlyNote = "Needs the frontend's key (its backend) or the admin key; a user token answers 403 `forbidden`.";
const keyOnly = {
  tags: ["Webhooks"],
  security: anyOf("frontendKey", "adminKey"),
  middleware: [resolveFrontend(), requireKey()],
};

const createHook = createRoute({
  ...keyOnly,
  method: "post",
  path: "/",
  summary: "Register a webhook endpoint",
  description:
    "The gateway POSTs the chosen events to `url`, signed as Standard Webhooks (see the document's `webhooks`). " +
    "The answer holds the endpoint's `secret`, shown this once: keep it to verify the signatures. " +
    `A destination in a private, loopback or link-local range answers 400 \`bad_request\` unless the operator allows it. ${keyOnlyNote}`,
  request: { body: jsonBody(createWebhookBody) },
  responses: {
    201: json(
      z.object({
        endpoint: webhookEndpointViewSchema,
        secret: z.string().meta({ description: "`whsec_` and base64: the Standard Webhooks signing secret, shown once (not readable later)" }),
      }),
      "The endpoint and its secret (`Cache-Control: no-store`)",
    ),
    ...errorResponses(...apiErrors, ...frontendErrors, ...jsonBodyErrors),
  },
});

const listHooks = createRoute({
  ...keyOnly,
  method: "get",
  path: "/",
  summary: "The frontend's webhook endpoints",
  description: keyOnlyNote,
  request: { query: frontendQuery },
  responses: {
    200: json(z.object({ endpoints: z.array(webhookEndpointViewSchema) }), "Every endpoint of the frontend, enabled or not"),
    ...errorResponses(...apiErrors, ...frontendErrors, "validation_failed"),
  },
});

const getHook = createRoute({
  ...keyOnly,
  method: "get",
  path: "/{id}",
  summary: "A webhook endpoint",
  description: keyOnlyNote,
  request: { params: webhookIdParam, query: frontendQuery },
  responses: {
    200: json(endpointAnswer, "The endpoint"),
    ...errorResponses(...apiErrors, ...frontendErrors, "validation_failed", "not_found"),
  },
});

const updateHook = createRoute({
  ...keyOnly,
  method: "patch",
  path: "/{id}",
  summary: "Enable or disable a webhook endpoint, or change its events",
  description: `Give \`enabled\`, \`events\` or both. Disabling fails the deliveries still waiting: nothing is sent to them later, also after enabling again. ${keyOnlyNote}`,
  request: { params: webhookIdParam, body: jsonBody(updateWebhookBody) },
  responses: {
    200: json(endpointAnswer, "The endpoint as changed"),
    ...errorResponses(...apiErrors, ...frontendErrors, ...jsonBodyErrors, "not_found"),
  },
});

const deleteHook = createRoute({
  ...keyOnly,
  method: "delete",
  path: "/{id}",
  summary: "Delete a webhook endpoint",
  request: { params: webhookIdParam, query: frontendQuery },
  responses: {
    204: { description: "Deleted, with its deliveries" },
    ...errorResponses(...apiErrors, ...frontendErrors, "validation_failed", "not_found"),
  },
});

const listDeliveries = createRoute({
  ...keyOnly,
  method: "get",
  path: "/{id}/deliveries",
  summary: "A webhook endpoint's recent deliveries",
  description: `Newest first: each delivery's state, attempts and last answer; not its body. ${keyOnlyNote}`,
  request: { params: webhookIdParam, query: deliveriesQuery },
  responses: {
    200: json(z.object({ deliveries: z.array(webhookDeliveryViewSchema) }), "The deliveries"),
    ...errorResponses(...apiErrors, ...frontendErrors, "validation_failed", "not_found"),
  },
});

async function endpointOr404(c: Context<AppEnv>, id: string) {
  const endpoint = await c.get("db").webhooks.getEndpoint(id);
  if (!endpoint) throw new AppError("not_found", `No ${c.get("frontend")} webhook endpoint with that id`);
  return endpoint;
}

/**
 * /api/webhooks: a frontend's backend (its key, or the operator) registers, lists, enables or
 * disables and deletes its webhook endpoints, and reads their recent deliveries. User tokens may
 * not (403). The secret is answered once, at creation.
 */
export function createWebhooksRouter() {
  return createRouter<AppEnv>()
    .openapi(createHook, async (c) => {
      const body = c.req.valid("json");
      try {
        await checkDestination(body.url, c.get("deps").webhookAddresses);
      } catch (error) {
        if (error instanceof DestinationRefused) throw new AppError("bad_request", error.message);
        throw error;
      }
      const secret = newWebhookSecret();
      const endpoint = await c.get("db").webhooks.addEndpoint({ url: body.url, events: body.events, secret, description: body.description });
      c.header("Cache-Control", "no-store");
      return c.json({ endpoint: webhookEndpointView(endpoint), secret }, 201);
    })
    .openapi(listHooks, async (c) => {
      const endpoints = await c.get("db").webhooks.listEndpoints();
      return c.json({ endpoints: endpoints.map(webhookEndpointView) }, 200);
    })
    .openapi(getHook, async (c) => {
      return c.json({ endpoint: webhookEndpointView(await endpointOr404(c, c.req.valid("param").id)) }, 200);
    })
    .openapi(updateHook, async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const webhooks = c.get("db").webhooks;
      await endpointOr404(c, id);
      if (body.events) await webhooks.setEndpointEvents(id, body.events);
      if (body.enabled !== undefined) {
        await webhooks.setEndpointStatus(id, body.enabled, "disabled by request");
        // Nothing waiting is sent to a disabled endpoint, also after it is enabled again.
        if (!body.enabled) await webhooks.failPending(id, "endpoint disabled");
      }
      return c.json({ endpoint: webhookEndpointView(await endpointOr404(c, id)) }, 200);
    })
    .openapi(deleteHook, async (c) => {
      if (!(await c.get("db").webhooks.deleteEndpoint(c.req.valid("param").id))) {
        throw new AppError("not_found", `No ${c.get("frontend")} webhook endpoint with that id`);
      }
      return c.body(null, 204);
    })
    .openapi(listDeliveries, async (c) => {
      const endpoint = await endpointOr404(c, c.req.valid("param").id);
      const deliveries = await c.get("db").webhooks.listDeliveries(endpoint.id, c.req.valid("query").limit);
      return c.json({ deliveries: deliveries.map(webhookDeliveryView) }, 200);
    });
}

/** The Standard Webhooks headers of every delivery attempt. */
const standardWebhookHeaders = z.object({
  "webhook-id": z.string().meta({ description: "The delivery's id, the same on every retry: deduplicate on it" }),
  "webhook-timestamp": z.string().meta({ description: "Seconds since the epoch, when this attempt was signed" }),
  "webhook-signature": z.string().meta({ description: "`v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>` with the endpoint's secret; verify with any Standard Webhooks library" }),
});

const eventDocs = {
  "task.running": { status: "running", description: "A task started on a ComfyUI server (sent only to endpoints that ask for it)." },
  "task.succeeded": { status: "succeeded", description: "A task ended with its images: `data.outputUrls`." },
  "task.failed": { status: "failed", description: "A task ended in failure: `data.error` says why." },
  "task.cancelled": { status: "cancelled", description: "A task was cancelled." },
} as const satisfies Record<(typeof webhookEventTypes)[number], { status: z.infer<typeof webhookPayloadSchema>["data"]["status"]; description: string }>;

/**
 * The outgoing events, for the document's top-level `webhooks` (OpenAPI 3.1): each `task.*` event
 * the gateway POSTs to a registered endpoint, its body (`webhookPayloadSchema`, narrowed to the
 * event) and the Standard Webhooks headers. Registered with `registry.registerWebhook`.
 */
export const webhookEventDocs: RouteConfig[] = webhookEventTypes.map((type) => {
  const { status, description } = eventDocs[type];
  const payload = webhookPayloadSchema.extend({
    type: z.literal(type),
    data: webhookPayloadSchema.shape.data.extend({ status: z.literal(status) }),
  });
  return {
    method: "post",
    path: type,
    tags: ["Webhooks"],
    summary: `${type} (sent by the gateway)`,
    description:
      `${description} POSTed to each enabled endpoint registered for \`${type}\`, at least once: retried with ` +
      "exponential backoff and jitter (default up to 24 h) until the receiver answers 2xx, always with the same `webhook-id`.",
    security: [],
    request: { headers: standardWebhookHeaders, body: jsonBody(payload) },
    responses: {
      "2XX": { description: "Delivered" },
      410: { description: "Gone: the gateway disables the endpoint and sends it nothing more" },
      default: { description: "Any other answer, or none in time: the gateway tries again later" },
    },
  };
});
