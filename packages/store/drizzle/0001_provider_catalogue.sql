ALTER TABLE "connections" ADD COLUMN "previous_refresh_token" text;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "refresh_token_rotated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "refresh_token_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "refresh_token_warned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "credentials" text;--> statement-breakpoint
CREATE INDEX "connections_live_refresh_token_expires_at_idx" ON "connections" USING btree ("refresh_token_expires_at") WHERE status in ('connected', 'token_expired');