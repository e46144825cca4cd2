CREATE TABLE `webhook_deliveries` (
	`id` varchar(32) NOT NULL,
	`endpoint_id` varchar(32) NOT NULL,
	`event_type` varchar(32) NOT NULL,
	`task_id` varchar(32) NOT NULL,
	`payload` longtext NOT NULL,
	`status` varchar(16) NOT NULL,
	`attempts` int NOT NULL,
	`next_attempt_at` datetime(3) NOT NULL,
	`lease_owner` varchar(64),
	`lease_until` datetime(3),
	`last_status_code` int,
	`last_error` varchar(64),
	`created_at` datetime(3) NOT NULL,
	`last_attempt_at` datetime(3),
	`delivered_at` datetime(3),
	CONSTRAINT `webhook_deliveries_id` PRIMARY KEY(`id`),
	CONSTRAINT `webhook_deliveries_event_unique` UNIQUE(`endpoint_id`,`task_id`,`event_type`)
);
--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` varchar(32) NOT NULL,
	`url` varchar(1024) NOT NULL,
	`events` longtext NOT NULL,
	`secret` varchar(64) NOT NULL,
	`description` varchar(64),
	`status` varchar(16) NOT NULL,
	`disabled_reason` varchar(64),
	`created_at` datetime(3) NOT NULL,
	`updated_at` datetime(3) NOT NULL,
	CONSTRAINT `webhook_endpoints_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due_idx` ON `webhook_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_endpoint_idx` ON `webhook_deliveries` (`endpoint_id`,`created_at`);