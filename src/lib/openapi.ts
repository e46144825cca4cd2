import { OpenAPIHono } from "@hono/zod-openapi";
import type { Env } from "hono";
import { z } from "zod";
import { errorStatus, type ErrorCode } from "../errors/app-error.ts";
import { validationError } from "./validate.ts";

// How a route describes itself: `createRoute({ method, path, tags, summary, security, middleware,
// request, responses })` from @hono/zod-openapi, with the helpers below for the parts every route
// repeats. The request schemas given there are the ones @hono/zod-validator checks the request
// against, so the document and the validation cannot drift apart.

/** Names of the security schemes (registered in routes/openapi.ts); every one travels as `Authorization: Bearer`. */
export const securitySchemes = {
  frontendKey: "frontendKey",
  userToken: "userToken",
  adminKey: "adminKey",
  metricsToken: "metricsToken",
} as const;

type Scheme = keyof typeof securitySchemes;

/** A route's `security`: any one of the given credentials (OpenAPI: alternatives); none = open. */
export function anyOf(...schemes: Scheme[]): Array<Record<string, string[]>> {
  return schemes.map((scheme) => ({ [securitySchemes[scheme]]: [] }));
}

/** Every kind of caller: a frontend key, a user token, the admin key. */
export const anyCaller = anyOf("frontendKey", "userToken", "adminKey");

/**
 * A router whose `.openapi(route, handler)` validates the request (with @hono/zod-validator, failures
 * thrown as the API's envelope, as `validate` does) and documents the route.
 */
export function createRouter<E extends Env>() {
  return new OpenAPIHono<E>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues);
    },
  });
}

/** A JSON response (or body) of the given schema. */
export function json<Schema extends z.ZodType>(schema: Schema, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** A required JSON request body. */
export function jsonBody<Schema extends z.ZodType>(schema: Schema) {
  return { required: true, content: { "application/json": { schema } } };
}

/** The error envelope, its `code` limited to the given codes. */
export function errorEnvelope(codes: readonly [ErrorCode, ...ErrorCode[]]) {
  return z.object({
    error: z.object({
      code: z.enum(codes),
      message: z.string(),
      requestId: z.string().optional().meta({ description: "The X-Request-Id of the answer; quote it when reporting a problem" }),
      details: z.unknown().optional().meta({ description: "e.g. validation issues, ComfyUI's node errors, a quota's resetsAt" }),
    }),
  });
}

/** Errors every /api route can answer: no or a bad credential, over the rate budget, an unexpected failure. */
export const apiErrors = ["unauthorized", "rate_limited", "internal"] as const satisfies readonly ErrorCode[];

/** Errors of routes that name a frontend (resolveFrontend): unknown, another frontend's credential, its database down. */
export const frontendErrors = ["unknown_frontend", "forbidden", "database_unavailable"] as const satisfies readonly ErrorCode[];

/** Errors of a JSON body: not JSON, too large, not valid. */
export const jsonBodyErrors = ["bad_request", "body_too_large", "validation_failed"] as const satisfies readonly ErrorCode[];

/** The envelope's schema as the types see it (the document narrows `code` per route and status). */
const anyErrorEnvelope = errorEnvelope(Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]]);

type ErrorResponse = ReturnType<typeof json<typeof anyErrorEnvelope>>;

/**
 * The error responses of a route, one per HTTP status, each listing the codes it may carry:
 * `responses: { 200: json(...), ...errorResponses(...apiErrors, "not_found") }`. The statuses stay
 * literal types, so a typed client tells a success from an error by `res.status`.
 */
export function errorResponses<const Codes extends readonly ErrorCode[]>(...codes: Codes): { [S in (typeof errorStatus)[Codes[number]]]: ErrorResponse } {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) byStatus.set(errorStatus[code], [...(byStatus.get(errorStatus[code]) ?? []), code]);
  const responses: Record<number, ErrorResponse> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const [first, ...rest] = list;
    // Narrower than anyErrorEnvelope: only this status's codes, which is what the document shows.
    responses[status] = json(errorEnvelope([first!, ...rest]), `Error: ${list.map((code) => `\`${code}\``).join(", ")}`) as ErrorResponse;
  }
  return responses as { [S in (typeof errorStatus)[Codes[number]]]: ErrorResponse };
}
