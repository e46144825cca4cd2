CREATE TABLE `api_keys` (
	`id` varchar(32) NOT NULL,
	`hash` varchar(64) NOT NULL,
	`label` varchar(64),
	`created_at` datetime(3) NOT NULL,
	`revoked_at` datetime(3),
	CONSTRAINT `api_keys_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`id` varchar(32) NOT NULL,
	`secret` varchar(64) NOT NULL,
	`created_at` datetime(3) NOT NULL,
	CONSTRAINT `signing_keys_id` PRIMARY KEY(`id`)
);
