DROP INDEX `photos_status_idx` ON `photos`;--> statement-breakpoint
CREATE INDEX `photos_status_server_round_idx` ON `photos` (`status`,`server_id`,`queue_round`);--> statement-breakpoint
CREATE INDEX `photos_user_status_round_idx` ON `photos` (`user_id`,`status`,`queue_round`);