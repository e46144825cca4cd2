ALTER TABLE `photos` ADD `input_key` varchar(255);--> statement-breakpoint
ALTER TABLE `photos` ADD `priority` int DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `photos` ADD `queue_seq` bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `photos` ADD `queue_round` bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `photos` ADD `dispatched_at` datetime(3);--> statement-breakpoint
ALTER TABLE `photos` ADD `wait_reason` varchar(255);