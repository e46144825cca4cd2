CREATE TABLE `api_keys` (
	`id` text(32) PRIMARY KEY NOT NULL,
	`hash` text(64) NOT NULL,
	`label` text(64),
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`id` text(32) PRIMARY KEY NOT NULL,
	`secret` text(64) NOT NULL,
	`created_at` integer NOT NULL
);
