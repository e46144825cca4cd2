import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { AppError } from "../errors/app-error.ts";

/** Formats zod issues as one readable line: `limit: Too big: expected number to be <=100`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => (issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message)).join("; ");
}

/** A request that failed its schema, as the API's error (400 `validation_failed`, the issues in `details`). */
export function validationError(issues: readonly z.core.$ZodIssue[]): AppError {
  return new AppError("validation_failed", describeIssues(issues), {
    issues: issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
  });
}

/** zValidator whose failures throw the API's own error envelope. */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(target: Target, schema: Schema) {
  return zValidator(target, schema, (result) => {
    if (!result.success) throw validationError(result.error.issues);
  });
}
