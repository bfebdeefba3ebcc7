CREATE TABLE "key_usage" (
	"key_id" text PRIMARY KEY NOT NULL,
	"encryptions" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
