CREATE TABLE `webhook_deliveries` (
	`id` text(32) PRIMARY KEY NOT NULL,
	`endpoint_id` text(32) NOT NULL,
	`event_type` text(32) NOT NULL,
	`task_id` text(32) NOT NULL,
	`payload` text NOT NULL,
	`status` text(16) NOT NULL,
	`attempts` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`lease_owner` text(64),
	`lease_until` integer,
	`last_status_code` integer,
	`last_error` text(64),
	`created_at` integer NOT NULL,
	`last_attempt_at` integer,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due_idx` ON `webhook_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_endpoint_idx` ON `webhook_deliveries` (`endpoint_id`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_event_unique` ON `webhook_deliveries` (`endpoint_id`,`task_id`,`event_type`);--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` text(32) PRIMARY KEY NOT NULL,
	`url` text(1024) NOT NULL,
	`events` text NOT NULL,
	`secret` text(64) NOT NULL,
	`description` text(64),
	`status` text(16) NOT NULL,
	`disabled_reason` text(64),
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
