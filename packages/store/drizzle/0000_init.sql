CREATE TABLE "connections" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"provider" text NOT NULL,
	"keyed_by_owner" boolean DEFAULT false NOT NULL,
	"access_token" text,
	"refresh_token" text,
	"scopes" text[] DEFAULT '{}'::text[] NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"expires_at" timestamp with time zone,
	"refresh_at" timestamp with time zone,
	"status" text DEFAULT 'connected' NOT NULL,
	"last_refresh_outcome" text,
	"last_refresh_reason" text,
	"last_refresh_at" timestamp with time zone,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"version" bigint DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "connections_status_check" CHECK ("connections"."status" in ('connected', 'token_expired', 'needs_reauth', 'error', 'disconnected'))
);
--> statement-breakpoint
CREATE TABLE "refresh_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "refresh_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"connection_id" text NOT NULL,
	"provider" text NOT NULL,
	"outcome" text NOT NULL,
	"reason" text,
	"http_status" integer,
	"duration_ms" integer NOT NULL,
	"applied" boolean NOT NULL,
	"trigger" text NOT NULL,
	"process" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "connections_owner_provider_key" ON "connections" USING btree ("owner_id","provider") WHERE keyed_by_owner;--> statement-breakpoint
CREATE INDEX "connections_live_refresh_at_idx" ON "connections" USING btree ("refresh_at") WHERE status in ('connected', 'token_expired');--> statement-breakpoint
CREATE INDEX "connections_live_expires_at_idx" ON "connections" USING btree ("expires_at") WHERE status in ('connected', 'token_expired');--> statement-breakpoint
CREATE INDEX "connections_status_provider_idx" ON "connections" USING btree ("status","provider");--> statement-breakpoint
CREATE INDEX "connections_owner_idx" ON "connections" USING btree ("owner_id");--> statement-breakpoint
CREATE INDEX "connections_updated_at_idx" ON "connections" USING btree ("updated_at");--> statement-breakpoint
CREATE INDEX "refresh_events_connection_idx" ON "refresh_events" USING btree ("connection_id","created_at");--> statement-breakpoint
CREATE INDEX "refresh_events_created_at_idx" ON "refresh_events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "refresh_events_outcome_idx" ON "refresh_events" USING btree ("outcome","reason","created_at");