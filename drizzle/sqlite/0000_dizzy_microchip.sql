CREATE TABLE `photos` (
	`id` text(32) PRIMARY KEY NOT NULL,
	`user_id` text(32) NOT NULL,
	`workflow` text(64) NOT NULL,
	`params` text NOT NULL,
	`status` text(16) NOT NULL,
	`server_id` text(64),
	`prompt_id` text(64),
	`input_name` text(255),
	`input_url` text(1024),
	`output_urls` text NOT NULL,
	`error` text,
	`idempotency_key` text(128),
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `photos_user_created_idx` ON `photos` (`user_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `photos_status_idx` ON `photos` (`status`);--> statement-breakpoint
CREATE UNIQUE INDEX `photos_user_idempotency_unique` ON `photos` (`user_id`,`idempotency_key`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text(32) PRIMARY KEY NOT NULL,
	`external_id` text(128) NOT NULL,
	`nickname` text(64),
	`avatar_url` text(1024),
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_external_id_unique` ON `users` (`external_id`);