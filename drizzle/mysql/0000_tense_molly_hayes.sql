CREATE TABLE `photos` (
	`id` varchar(32) NOT NULL,
	`user_id` varchar(32) NOT NULL,
	`workflow` varchar(64) NOT NULL,
	`params` longtext NOT NULL,
	`status` varchar(16) NOT NULL,
	`server_id` varchar(64),
	`prompt_id` varchar(64),
	`input_name` varchar(255),
	`input_url` varchar(1024),
	`output_urls` longtext NOT NULL,
	`error` text,
	`idempotency_key` varchar(128),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	`started_at` datetime(3),
	`finished_at` datetime(3),
	CONSTRAINT `photos_id` PRIMARY KEY(`id`),
	CONSTRAINT `photos_user_idempotency_unique` UNIQUE(`user_id`,`idempotency_key`)
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` varchar(32) NOT NULL,
	`external_id` varchar(128) NOT NULL,
	`nickname` varchar(64),
	`avatar_url` varchar(1024),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `users_id` PRIMARY KEY(`id`),
	CONSTRAINT `users_external_id_unique` UNIQUE(`external_id`)
);
--> statement-breakpoint
CREATE INDEX `photos_user_created_idx` ON `photos` (`user_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `photos_status_idx` ON `photos` (`status`);