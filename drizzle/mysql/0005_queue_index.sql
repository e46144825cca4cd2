CREATE INDEX `photos_queue_idx` ON `photos` (`status`,`server_id`,`priority`,`queue_round`,`queue_seq`,`id`);--> statement-breakpoint
DROP INDEX `photos_status_idx` ON `photos`;