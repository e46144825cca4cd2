export * from "./users.ts";
export * from "./photos.ts";
