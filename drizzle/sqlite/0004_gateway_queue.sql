ALTER TABLE `photos` ADD `input_key` text(255);--> statement-breakpoint
ALTER TABLE `photos` ADD `priority` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `photos` ADD `queue_seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `photos` ADD `queue_round` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `photos` ADD `dispatched_at` integer;--> statement-breakpoint
ALTER TABLE `photos` ADD `wait_reason` text(255);