export * from "./users.ts";
export * from "./photos.ts";
export * from "./api-keys.ts";
export * from "./webhooks.ts";
