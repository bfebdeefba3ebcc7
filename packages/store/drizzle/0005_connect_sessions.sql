CREATE TABLE "connect_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"state_hash" text NOT NULL,
	"owner_id" text NOT NULL,
	"provider" text NOT NULL,
	"connection_id" text,
	"scopes" text[] NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"return_to" text NOT NULL,
	"redirect_uri" text NOT NULL,
	"secrets" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"consumed_at" timestamp with time zone,
	"outcome" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "connect_sessions_state_hash_key" ON "connect_sessions" USING btree ("state_hash");--> statement-breakpoint
CREATE INDEX "connect_sessions_expires_at_idx" ON "connect_sessions" USING btree ("expires_at");