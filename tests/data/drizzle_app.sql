-- Written for schemalock's tests in the style of Drizzle's generated migrations; not taken from any project.
--
-- A bookmarks and reading-list app as drizzle-orm's migrator leaves it: four migrations as
-- drizzle-kit generate (0.2x) writes them, in order, each under a line naming its file
-- (snake_case tables, uuid keys from gen_random_uuid(), a pgEnum, foreign keys named
-- <table>_<columns>_<table>_<columns>_fk inside DO $$ ... duplicate_object blocks, composite
-- primary keys, `--> statement-breakpoint` between statements).  `highlight` and
-- `highlight_reaction` are the tables 0002 replaced with `highlight_v2` and
-- `highlight_reaction_v2`, kept while the app reads old highlights.  The first two statements
-- are not in the migrations: the migrator runs them before the first migration, and records
-- each migration in drizzle.__drizzle_migrations.
-- Used by tests/test_silent.py: snapshot then verify of this database reports nothing.

CREATE SCHEMA IF NOT EXISTS "drizzle";
CREATE TABLE IF NOT EXISTS "drizzle"."__drizzle_migrations" (
	id SERIAL PRIMARY KEY,
	hash text NOT NULL,
	created_at bigint
);

-- 0000_gentle_nightcrawler.sql
DO $$ BEGIN
 CREATE TYPE "public"."reading_status" AS ENUM('unread', 'reading', 'finished', 'abandoned');
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "bookmark" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"collection_id" uuid,
	"url" text NOT NULL,
	"title" text NOT NULL,
	"excerpt" text,
	"status" "reading_status" DEFAULT 'unread' NOT NULL,
	"created_at" timestamp DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "bookmark_tag" (
	"bookmark_id" uuid NOT NULL,
	"tag_id" uuid NOT NULL,
	CONSTRAINT "bookmark_tag_bookmark_id_tag_id_pk" PRIMARY KEY("bookmark_id","tag_id")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "collection" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"is_public" boolean DEFAULT false NOT NULL,
	"created_at" timestamp DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "tag" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" varchar(48) NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "user" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"name" text,
	"created_at" timestamp DEFAULT now() NOT NULL,
	CONSTRAINT "user_email_unique" UNIQUE("email")
);
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "bookmark" ADD CONSTRAINT "bookmark_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "bookmark" ADD CONSTRAINT "bookmark_collection_id_collection_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collection"("id") ON DELETE set null ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "bookmark_tag" ADD CONSTRAINT "bookmark_tag_bookmark_id_bookmark_id_fk" FOREIGN KEY ("bookmark_id") REFERENCES "public"."bookmark"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "bookmark_tag" ADD CONSTRAINT "bookmark_tag_tag_id_tag_id_fk" FOREIGN KEY ("tag_id") REFERENCES "public"."tag"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "collection" ADD CONSTRAINT "collection_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "tag" ADD CONSTRAINT "tag_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "bookmark_user_id_created_at_idx" ON "bookmark" USING btree ("user_id","created_at");
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "tag_user_id_name_idx" ON "tag" USING btree ("user_id","name");

-- 0001_quiet_colossus.sql
CREATE TABLE IF NOT EXISTS "highlight" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"bookmark_id" uuid NOT NULL,
	"quote" text NOT NULL,
	"note" text,
	"start_offset" integer NOT NULL,
	"end_offset" integer NOT NULL,
	"created_at" timestamp DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "highlight_reaction" (
	"highlight_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"emoji" varchar(16) NOT NULL,
	"reacted_at" timestamp DEFAULT now() NOT NULL,
	CONSTRAINT "highlight_reaction_highlight_id_user_id_pk" PRIMARY KEY("highlight_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "bookmark" ADD COLUMN "read_at" timestamp;--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "highlight" ADD CONSTRAINT "highlight_bookmark_id_bookmark_id_fk" FOREIGN KEY ("bookmark_id") REFERENCES "public"."bookmark"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "highlight_reaction" ADD CONSTRAINT "highlight_reaction_highlight_id_highlight_id_fk" FOREIGN KEY ("highlight_id") REFERENCES "public"."highlight"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "highlight_reaction" ADD CONSTRAINT "highlight_reaction_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;

-- 0002_bright_mystique.sql
CREATE TABLE IF NOT EXISTS "highlight_reaction_v2" (
	"highlight_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"emoji" varchar(16) NOT NULL,
	"reacted_at" timestamp DEFAULT now() NOT NULL,
	CONSTRAINT "highlight_reaction_v2_highlight_id_user_id_pk" PRIMARY KEY("highlight_id","user_id")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "highlight_v2" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"bookmark_id" uuid NOT NULL,
	"quote" text NOT NULL,
	"note" text,
	"anchor" jsonb NOT NULL,
	"color" varchar(16) DEFAULT 'yellow' NOT NULL,
	"created_at" timestamp DEFAULT now() NOT NULL
);
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "highlight_reaction_v2" ADD CONSTRAINT "highlight_reaction_v2_highlight_id_highlight_v2_id_fk" FOREIGN KEY ("highlight_id") REFERENCES "public"."highlight_v2"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "highlight_reaction_v2" ADD CONSTRAINT "highlight_reaction_v2_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "highlight_v2" ADD CONSTRAINT "highlight_v2_bookmark_id_bookmark_id_fk" FOREIGN KEY ("bookmark_id") REFERENCES "public"."bookmark"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;

-- 0003_swift_havok.sql
ALTER TABLE "bookmark" ADD COLUMN "site_name" text;--> statement-breakpoint
ALTER TABLE "collection" ADD COLUMN "sort_order" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "bookmark_collection_id_idx" ON "bookmark" USING btree ("collection_id");--> statement-breakpoint
ALTER TABLE "collection" DROP COLUMN IF EXISTS "description";
