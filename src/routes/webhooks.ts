import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../middleware/app-env.ts";
import { AppError } from "../errors/app-error.ts";
import { validate } from "../lib/validate.ts";
import { requireKey } from "../middleware/auth.ts";
import { resolveFrontend } from "../middleware/frontend.ts";
import { lengths } from "../schema/columns.ts";
import { webhookEventTypes } from "../schema/index.ts";
import { webhookDeliveryView, webhookEndpointView } from "../views/webhook-view.ts";
import { checkDestination, DestinationRefused } from "../webhooks/destination.ts";
import { newWebhookSecret } from "../webhooks/secret.ts";

const events = z.array(z.enum(webhookEventTypes)).min(1).max(webhookEventTypes.length).transform((list) => [...new Set(list)]);

export const createWebhookBody = z.strictObject({
  frontend: z.string(),
  url: z
    .url({ protocol: /^https?$/, error: "must be an http or https URL" })
    .max(lengths.url),
  events,
  description: z.string().trim().max(lengths.keyLabel).nullish(),
});

export const updateWebhookBody = z
  .strictObject({ frontend: z.string(), enabled: z.boolean().optional(), events: events.optional() })
  .refine((body) => body.enabled !== undefined || body.events !== undefined, "give enabled or events");

export const webhookIdParam = z.object({ id: z.string().min(1).max(lengths.id) });
export const deliveriesQuery = z.object({ frontend: z.string(), limit: z.coerce.number().int().min(1).max(100).default(20) });

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
  return new Hono<AppEnv>()
    .use(resolveFrontend(), requireKey())
    .post("/", validate("json", createWebhookBody), async (c) => {
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
    .get("/", async (c) => {
      const endpoints = await c.get("db").webhooks.listEndpoints();
      return c.json({ endpoints: endpoints.map(webhookEndpointView) });
    })
    .get("/:id", validate("param", webhookIdParam), async (c) => {
      return c.json({ endpoint: webhookEndpointView(await endpointOr404(c, c.req.valid("param").id)) });
    })
    .patch("/:id", validate("param", webhookIdParam), validate("json", updateWebhookBody), async (c) => {
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
      return c.json({ endpoint: webhookEndpointView(await endpointOr404(c, id)) });
    })
    .delete("/:id", validate("param", webhookIdParam), async (c) => {
      if (!(await c.get("db").webhooks.deleteEndpoint(c.req.valid("param").id))) {
        throw new AppError("not_found", `No ${c.get("frontend")} webhook endpoint with that id`);
      }
      return c.body(null, 204);
    })
    .get("/:id/deliveries", validate("param", webhookIdParam), validate("query", deliveriesQuery), async (c) => {
      const endpoint = await endpointOr404(c, c.req.valid("param").id);
      const deliveries = await c.get("db").webhooks.listDeliveries(endpoint.id, c.req.valid("query").limit);
      return c.json({ deliveries: deliveries.map(webhookDeliveryView) });
    });
}
