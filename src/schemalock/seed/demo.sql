-- The seed database, as its "Database Schema Lock" document describes it: the structure of
-- schema_lock.yaml (next to this file), realistic rows, the document's open problems, each
-- planted once and marked "PROBLEM" below, and last the trigger that keeps its quota flow.  `schemalock demo` builds it on an embedded
-- PostgreSQL and verifies it against the lock; tests/test_demo.py counts every finding.
--
-- Time.  Every timestamp comes from one instant, the demo's clock: the setting
-- schemalock.demo_now (`schemalock demo` leaves it unset, so this script reads now() once, at
-- its start; tests set it to fixed instants).  Days are UTC days, whatever the client's zone.
-- A row is placed in one of two ways, and never as "so many hours before now" across days:
--   - pg_temp.ago(age): the live rows, whose age verify measures against the real clock (the
--     job stuck running, the webhook nobody processed, the job just queued);
--   - pg_temp.days_ago(days, time of day): everything that happened on an earlier day.  The
--     nightly rollup groups usage by day, so a row placed at "now() - 5 days 23 hours" would
--     share a day with its neighbour or not depending on the hour the script ran.
-- The fixed ids keep the demo's output the same from run to run.  To build it as of another
-- instant: PGOPTIONS='-c schemalock.demo_now=2025-06-15T12:00:00Z' psql -f demo.sql

SET TimeZone = 'UTC';
DO $$
BEGIN
    PERFORM set_config('schemalock.demo_now',
                       coalesce(nullif(current_setting('schemalock.demo_now', true), ''),
                                now()::text),
                       false);
END
$$;
CREATE FUNCTION pg_temp.demo_now() RETURNS timestamptz LANGUAGE sql STABLE
    AS $$ SELECT current_setting('schemalock.demo_now')::timestamptz $$;
CREATE FUNCTION pg_temp.ago(age interval) RETURNS timestamptz LANGUAGE sql STABLE
    AS $$ SELECT pg_temp.demo_now() - age $$;
-- Midnight of the demo's day, minus `days` (negative: a day to come), plus the time of day.
CREATE FUNCTION pg_temp.days_ago(days integer, at interval DEFAULT '0') RETURNS timestamptz
    LANGUAGE sql STABLE
    AS $$ SELECT date_trunc('day', pg_temp.demo_now()) - make_interval(days => days) + at $$;

-- == Structure ===============================================================================

CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clerk_org_id text NOT NULL UNIQUE,
    name text NOT NULL,
    quota_used integer NOT NULL DEFAULT 0,
    quota_limit integer NOT NULL DEFAULT 100,
    plan text NOT NULL DEFAULT 'free',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organizations_quota_used_check CHECK (quota_used >= 0),
    CONSTRAINT organizations_quota_limit_check CHECK (quota_limit >= 0)
);
COMMENT ON COLUMN organizations.id IS 'Unique org identifier';

-- PROBLEM a, the document's "UUID mismatch": jobs.org_id should be a uuid referencing
-- organizations.id, but the app writes the Clerk organization id (org_2...) into a text
-- column.  No foreign key can exist across text and uuid, and every join on it fails.
CREATE TABLE jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id text NOT NULL,
    keyword text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    type text NOT NULL,
    results_count integer NOT NULL DEFAULT 0,
    apify_run_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX jobs_org_id_created_at_idx ON jobs (org_id, created_at DESC);
CREATE UNIQUE INDEX jobs_apify_run_id_key ON jobs (apify_run_id);

CREATE TABLE subscriptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    dodo_subscription_id text NOT NULL UNIQUE,
    status text NOT NULL,
    plan_id text NOT NULL,
    current_period_start timestamptz NOT NULL,
    current_period_end timestamptz NOT NULL,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscriptions_period_check CHECK (current_period_end > current_period_start)
);
CREATE INDEX subscriptions_org_id_idx ON subscriptions (org_id);

-- PROBLEM b (1 of 2): quota_usage.job_id has no foreign key (the lock says it references
-- jobs.id, ON DELETE SET NULL), so deleting jobs left usage rows pointing at nothing.
CREATE TABLE quota_usage (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    job_id uuid,
    usage_amount integer NOT NULL,
    usage_type text NOT NULL,
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT quota_usage_usage_amount_check CHECK (usage_amount > 0)
);
CREATE INDEX quota_usage_org_id_timestamp_idx ON quota_usage (org_id, "timestamp");
CREATE INDEX quota_usage_job_id_idx ON quota_usage (job_id);

CREATE TABLE webhook_events (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    source text NOT NULL,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    processed boolean NOT NULL DEFAULT false,
    processed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_unprocessed_idx ON webhook_events (created_at) WHERE NOT processed;

CREATE TABLE usage (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    total_usage integer NOT NULL DEFAULT 0,
    usage_type text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT usage_org_id_period_start_usage_type_key UNIQUE (org_id, period_start, usage_type),
    CONSTRAINT usage_period_check CHECK (period_end > period_start)
);

CREATE TABLE _migrations (
    id serial PRIMARY KEY,
    hash text NOT NULL,
    created_at bigint
);
COMMENT ON TABLE _migrations IS 'Drizzle''s migration bookkeeping (its __drizzle_migrations layout)';

CREATE TABLE billing_audit (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE RESTRICT,
    transaction_type text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    currency char(3) NOT NULL DEFAULT 'USD',
    dodo_event_id text UNIQUE,
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX billing_audit_org_id_timestamp_idx ON billing_audit (org_id, "timestamp");

-- PROBLEM d: the legacy `orgs` table, a CREATE TABLE AS copy of organizations from before
-- the move to Clerk (hence no keys at all).  The document only says "verify if duplicate of
-- organizations"; two of its organizations were never carried over.
CREATE TABLE orgs (
    id uuid,
    clerk_org_id text,
    name text,
    plan text,
    created_at timestamptz
);

CREATE TABLE plans (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE,
    quota_limit integer NOT NULL,
    price numeric(12, 2) NOT NULL DEFAULT 0,
    dodo_price_id text UNIQUE,
    features jsonb NOT NULL DEFAULT '[]'::jsonb,
    active boolean NOT NULL DEFAULT true
);

CREATE TABLE billing_downgrade_cancellation (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    previous_plan text NOT NULL,
    new_plan text NOT NULL,
    effective_date timestamptz NOT NULL,
    reason text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_downgrade_cancellation_org_id_idx ON billing_downgrade_cancellation (org_id);

-- == Rows ====================================================================================

INSERT INTO _migrations (hash, created_at) VALUES
    ('5b1f0e8c4ad2d0a7c3e1b9f26d48a0c7e5f3b1d9a7c5e3f1b9d7a5c3e1f9b7d5',
     (extract(epoch FROM pg_temp.days_ago(180, '16:42')) * 1000)::bigint),
    ('9c2e4a6b8d0f1e3a5c7b9d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9e1a',
     (extract(epoch FROM pg_temp.days_ago(120, '11:05')) * 1000)::bigint),
    ('e7a1c3b5d9f2e4a6c8b0d1f3e5a7c9b2d4f6e8a0c1b3d5f7e9a2c4b6d8f0e1a3',
     (extract(epoch FROM pg_temp.days_ago(45, '09:31')) * 1000)::bigint);

INSERT INTO plans (name, quota_limit, price, dodo_price_id, features) VALUES
    ('Free', 100, 0, NULL, '["search"]'),
    ('Pro', 1000, 29, 'pdt_Xv3kQ8nR2mTb7LpW9sYc4', '["search", "analysis", "export"]'),
    ('Enterprise', 10000, 299, 'pdt_H6dJ2fPq9zKw4NcV8rBt1',
     '["search", "analysis", "export", "sso", "priority_support"]');

-- quota_used is the sum of each organization's quota_usage rows, except Harbor & Pine's.
-- PROBLEM c (1 of 3): "Acme Mock Org", left behind by a signup fallback that invented an
-- organization when Clerk's webhook was late.
-- PROBLEM e: Harbor & Pine's quota_used says 9 while its quota_usage rows add up to 6 (an
-- Inngest step retried after the API's increment, before the usage row was written, three
-- times; the trigger at the end of this file has made the two one statement since).
-- updated_at is set below, where the usage rows are.
INSERT INTO organizations (id, clerk_org_id, name, quota_used, quota_limit, plan, created_at) VALUES
    ('473266ce-fbbf-494b-8431-975574d2e2d8', 'org_2DlGBLSM3LwAspsefjTLJ3cUptp',
     'Northwind Analytics', 6, 1000, 'pro', pg_temp.days_ago(210, '12:00')),
    ('2dfb1b21-5317-4c2f-b250-9e8949c639ca', 'org_2MOoikwg7pmuqDYiM3pSQKRqhu0',
     'Brightline Media', 14, 10000, 'enterprise', pg_temp.days_ago(160, '12:00')),
    ('83b7f93e-224a-45aa-a572-a11c10e1875c', 'org_2Ui9hFQEEvyGPYuyovyuwAT8AJh',
     'Kestrel Labs', 1, 100, 'free', pg_temp.days_ago(95, '12:00')),
    ('6ce09bb1-6a2d-41e1-976c-6bf33d943e30', 'org_2Pi7P9PR3EcYBPbtxRSBOX85GfT',
     'Harbor & Pine Studio', 9, 1000, 'pro', pg_temp.days_ago(40, '12:00')),
    ('ca58dadd-77f5-4f7e-bec0-6ce1b26b039c', 'org_2Z8w9Pjfdmc5zC8zj2ZRHq0rE5O',
     'Acme Mock Org', 1, 100, 'free', pg_temp.days_ago(12, '12:00'));

-- The first three also live in orgs; Lumen Freight and Oakridge Dental Group only there.
INSERT INTO orgs (id, clerk_org_id, name, plan, created_at) VALUES
    ('473266ce-fbbf-494b-8431-975574d2e2d8', 'org_2DlGBLSM3LwAspsefjTLJ3cUptp',
     'Northwind Analytics', 'pro', pg_temp.days_ago(210, '12:00')),
    ('2dfb1b21-5317-4c2f-b250-9e8949c639ca', 'org_2MOoikwg7pmuqDYiM3pSQKRqhu0',
     'Brightline Media', 'enterprise', pg_temp.days_ago(160, '12:00')),
    ('83b7f93e-224a-45aa-a572-a11c10e1875c', 'org_2Ui9hFQEEvyGPYuyovyuwAT8AJh',
     'Kestrel Labs', 'pro', pg_temp.days_ago(95, '12:00')),
    ('1d84f777-3273-476d-8fb7-4319c2093d75', 'org_24ZRL7YTPQeaewQbHkkkNmXaHgs',
     'Lumen Freight', 'pro', pg_temp.days_ago(240, '12:00')),
    ('65e3d4f0-07a3-4c6f-a310-0250a3ef9388', 'org_2m71l28RbVyc4M4kLC7YhnaU0AV',
     'Oakridge Dental Group', 'free', pg_temp.days_ago(230, '12:00'));

-- PROBLEM (NOT VALID foreign key, part of b): subscriptions.org_id's foreign key was added
-- NOT VALID by a two-step migration whose VALIDATE step never ran.  Nothing is orphaned
-- today, but PostgreSQL never checked the rows written before it.
INSERT INTO subscriptions (dodo_subscription_id, org_id, status, plan_id, current_period_start,
                           current_period_end, cancel_at_period_end, created_at, updated_at)
VALUES
    ('sub_OLDc1lPXLhfIZvmwYO4mcj', '473266ce-fbbf-494b-8431-975574d2e2d8', 'active', 'pro',
     pg_temp.days_ago(12), pg_temp.days_ago(-18), false,
     pg_temp.days_ago(200, '12:00'), pg_temp.days_ago(12, '12:00')),
    ('sub_12UiH7ehn4EiGvvspIFoDf', '2dfb1b21-5317-4c2f-b250-9e8949c639ca', 'active', 'enterprise',
     pg_temp.days_ago(20), pg_temp.days_ago(-345), false,
     pg_temp.days_ago(150, '12:00'), pg_temp.days_ago(20, '12:00')),
    ('sub_YQJTfKDA1yG20JbO8xjgI6', '83b7f93e-224a-45aa-a572-a11c10e1875c', 'cancelled', 'pro',
     pg_temp.days_ago(64), pg_temp.days_ago(34), true,
     pg_temp.days_ago(90, '12:00'), pg_temp.days_ago(40, '12:00')),
    ('sub_ln5heq7GOSGaeGLNILdYTa', '6ce09bb1-6a2d-41e1-976c-6bf33d943e30', 'active', 'pro',
     pg_temp.days_ago(10), pg_temp.days_ago(-20), false,
     pg_temp.days_ago(40, '12:00'), pg_temp.days_ago(10, '12:00'));
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_org_id_fkey FOREIGN KEY (org_id)
    REFERENCES organizations (id) ON DELETE CASCADE NOT VALID;

INSERT INTO billing_downgrade_cancellation (org_id, previous_plan, new_plan, effective_date,
                                            reason, created_at) VALUES
    ('83b7f93e-224a-45aa-a572-a11c10e1875c', 'pro', 'free',
     pg_temp.days_ago(34), 'Project paused until next quarter', pg_temp.days_ago(40, '12:00'));

-- PROBLEM c (2 of 3): the mock organization's only billing record is flagged as test data.
INSERT INTO billing_audit (org_id, transaction_type, amount, dodo_event_id, "timestamp",
                           metadata) VALUES
    ('473266ce-fbbf-494b-8431-975574d2e2d8', 'payment.succeeded', 29.00,
     'evt_2Qh7LmX9pR4tVb8Nc3Kd', pg_temp.days_ago(12, '12:00'),
     '{"subscription_id": "sub_OLDc1lPXLhfIZvmwYO4mcj", "invoice": "INV-2291"}'),
    ('2dfb1b21-5317-4c2f-b250-9e8949c639ca', 'payment.succeeded', 299.00,
     'evt_8Wn3Jk5Ys1Hq6Dr2Mf9T', pg_temp.days_ago(20, '12:00'),
     '{"subscription_id": "sub_12UiH7ehn4EiGvvspIFoDf", "invoice": "INV-2274"}'),
    ('83b7f93e-224a-45aa-a572-a11c10e1875c', 'subscription.cancelled', 0.00,
     'evt_5Tc8Bv2Nx7Lp4Gh1Qz6R', pg_temp.days_ago(40, '12:00'),
     '{"subscription_id": "sub_YQJTfKDA1yG20JbO8xjgI6"}'),
    ('6ce09bb1-6a2d-41e1-976c-6bf33d943e30', 'payment.succeeded', 29.00,
     'evt_1Kf6Dp9Rm3Wx8Vs5Hb2J', pg_temp.days_ago(10, '12:00'),
     '{"subscription_id": "sub_ln5heq7GOSGaeGLNILdYTa", "invoice": "INV-2303"}'),
    ('ca58dadd-77f5-4f7e-bec0-6ce1b26b039c', 'subscription.created', 0.00,
     NULL, pg_temp.days_ago(12, '12:00'), '{"is_test": true, "created_by": "signup-fallback"}');

-- Jobs: org_id holds Clerk ids (PROBLEM a), in every row.  All but two ran on earlier days.
-- PROBLEM f: Kestrel Labs' analysis has been `running` for six hours (Apify runs take
-- minutes): the Inngest function died before writing the outcome.  Its search ended the day
-- before, before 18:00, so the analysis always starts after it.
-- PROBLEM h: Northwind's "standing desks" search completed but has no quota_usage row, so it
-- was never charged (its completed_at is set; only the usage row is missing).
INSERT INTO jobs (id, org_id, keyword, status, type, results_count, apify_run_id, created_at,
                  completed_at, metadata) VALUES
    ('5622afea-28ae-4148-880b-bbd98514af64', 'org_2DlGBLSM3LwAspsefjTLJ3cUptp',
     'ergonomic office chairs', 'completed', 'search', 120, 'jJ8IT1fvxBNwLGEhH',
     pg_temp.days_ago(3, '10:00'), pg_temp.days_ago(3, '10:06'),
     '{"maxItems": 120, "country": "US"}'),
    ('84ffd72e-4702-43d9-9bb1-4780a8d7974e', 'org_2DlGBLSM3LwAspsefjTLJ3cUptp',
     'ergonomic office chairs', 'completed', 'analysis', 1, 'mZvzAoVREkogYaLC2',
     pg_temp.days_ago(3, '11:00'), pg_temp.days_ago(3, '11:12'),
     '{"sourceJob": "5622afea-28ae-4148-880b-bbd98514af64"}'),
    ('1f39f56a-4d87-4bf1-976e-e449d82d9022', 'org_2DlGBLSM3LwAspsefjTLJ3cUptp',
     'standing desks', 'completed', 'search', 87, 'tCpNrUD29ZnLaShlj',
     pg_temp.days_ago(1, '08:00'), pg_temp.days_ago(1, '08:08'),
     '{"maxItems": 100, "country": "US"}'),
    ('86ef5926-d82e-425f-9fc5-70cfda43c98b', 'org_2DlGBLSM3LwAspsefjTLJ3cUptp',
     'monitor arms', 'failed', 'search', 0, 'tJ3UE5xcvnAJkdlEI',
     pg_temp.days_ago(1, '16:00'), NULL, '{"maxItems": 100, "error": "actor timed out"}'),
    ('a1f92643-8760-4f67-b015-592de7d65c93', 'org_2MOoikwg7pmuqDYiM3pSQKRqhu0',
     'podcast sponsorships', 'completed', 'search', 240, 'pftdT4SsyfPHXRC4E',
     pg_temp.days_ago(2, '07:00'), pg_temp.days_ago(2, '07:09'),
     '{"maxItems": 250, "country": "GB"}'),
    ('0b7e1c52-3f4a-4d8e-9a61-2c5d7e8f9a03', 'org_2MOoikwg7pmuqDYiM3pSQKRqhu0',
     'podcast sponsorships', 'completed', 'analysis', 1, 'UfVpKHok4p4FrgmV6',
     pg_temp.days_ago(2, '08:00'), pg_temp.days_ago(2, '08:20'),
     '{"sourceJob": "a1f92643-8760-4f67-b015-592de7d65c93"}'),
    ('c4d2a9e7-6b1f-4e35-8c07-9d3b5a1e2f64', 'org_2MOoikwg7pmuqDYiM3pSQKRqhu0',
     'newsletter advertising rates', 'completed', 'search', 64, 'npCpI09XTlJQ6cCIu',
     pg_temp.days_ago(1, '15:00'), pg_temp.days_ago(1, '15:05'),
     '{"maxItems": 100, "country": "GB"}'),
    ('e8f3b6a1-2d7c-4a90-b5e4-7f1c3d9a6b28', 'org_2MOoikwg7pmuqDYiM3pSQKRqhu0',
     'creator marketplaces', 'pending', 'search', 0, NULL,
     pg_temp.demo_now(), NULL, '{"maxItems": 100, "country": "GB"}'),
    ('3a9d5f17-8e2b-4c64-a7d1-6f0e4b8c2d95', 'org_2Ui9hFQEEvyGPYuyovyuwAT8AJh',
     'indoor climbing gyms', 'completed', 'search', 38, 'pWEMlsE2IPRMEeKyo',
     pg_temp.days_ago(1, '06:00'), pg_temp.days_ago(1, '06:03'),
     '{"maxItems": 50, "country": "DE"}'),
    ('7c1e4b9a-5d3f-4a28-9e6b-0f2d8c7a1b53', 'org_2Ui9hFQEEvyGPYuyovyuwAT8AJh',
     'indoor climbing gyms', 'running', 'analysis', 0, 'Zs3CXAjJrOfp7pFQg',
     pg_temp.ago('6 hours'), NULL, '{"sourceJob": "3a9d5f17-8e2b-4c64-a7d1-6f0e4b8c2d95"}'),
    ('b5a8d2e6-1c7f-4b39-8d04-6e9a3f5c7b12', 'org_2Pi7P9PR3EcYBPbtxRSBOX85GfT',
     'boutique hotels lisbon', 'completed', 'search', 95, '0j51a9Tuf8lJhdqab',
     pg_temp.days_ago(2, '12:00'), pg_temp.days_ago(2, '12:08'),
     '{"maxItems": 100, "country": "PT"}'),
    ('f2c7e9b4-6a1d-4e83-b5f0-3d8a2c6e9b41', 'org_2Pi7P9PR3EcYBPbtxRSBOX85GfT',
     'boutique hotels lisbon', 'completed', 'analysis', 1, 'IylOGYkK9mmLyu6zu',
     pg_temp.days_ago(2, '13:00'), pg_temp.days_ago(2, '13:19'),
     '{"sourceJob": "b5a8d2e6-1c7f-4b39-8d04-6e9a3f5c7b12"}'),
    ('9e4b1d7a-3c8f-4a52-b6e9-1d5c7f3a8e20', 'org_2Z8w9Pjfdmc5zC8zj2ZRHq0rE5O',
     'coffee grinders', 'completed', 'search', 12, 'zKc6H5Ghy01updkrp',
     pg_temp.days_ago(11, '12:00'), pg_temp.days_ago(11, '12:02'),
     '{"maxItems": 20, "country": "US"}');

-- A search costs 1 credit, an analysis 5.  One row per completed job (but PROBLEM h's), at the
-- job's completion.
-- PROBLEM b (2 of 2): Brightline's three rows of five and six days ago belong to jobs a
-- cleanup script deleted; without the foreign key nothing set their job_id to NULL.  Each is
-- the only row of its day and type, so each has a rollup of its own.
INSERT INTO quota_usage (org_id, job_id, usage_amount, usage_type, "timestamp", metadata) VALUES
    ('473266ce-fbbf-494b-8431-975574d2e2d8', '5622afea-28ae-4148-880b-bbd98514af64', 1, 'search',
     pg_temp.days_ago(3, '10:06'), '{"apify_run_id": "jJ8IT1fvxBNwLGEhH"}'),
    ('473266ce-fbbf-494b-8431-975574d2e2d8', '84ffd72e-4702-43d9-9bb1-4780a8d7974e', 5,
     'analysis', pg_temp.days_ago(3, '11:12'), '{"apify_run_id": "mZvzAoVREkogYaLC2"}'),
    ('2dfb1b21-5317-4c2f-b250-9e8949c639ca', 'a1f92643-8760-4f67-b015-592de7d65c93', 1, 'search',
     pg_temp.days_ago(2, '07:09'), '{"apify_run_id": "pftdT4SsyfPHXRC4E"}'),
    ('2dfb1b21-5317-4c2f-b250-9e8949c639ca', '0b7e1c52-3f4a-4d8e-9a61-2c5d7e8f9a03', 5,
     'analysis', pg_temp.days_ago(2, '08:20'), '{"apify_run_id": "UfVpKHok4p4FrgmV6"}'),
    ('2dfb1b21-5317-4c2f-b250-9e8949c639ca', 'c4d2a9e7-6b1f-4e35-8c07-9d3b5a1e2f64', 1, 'search',
     pg_temp.days_ago(1, '15:05'), '{"apify_run_id": "npCpI09XTlJQ6cCIu"}'),
    ('2dfb1b21-5317-4c2f-b250-9e8949c639ca', 'd6a3f8c1-9b2e-4d75-a0c4-8e1f6b3d9a72', 1, 'search',
     pg_temp.days_ago(6, '12:00'), '{"apify_run_id": "BJtD4yXsfzVCSJ0lk"}'),
    ('2dfb1b21-5317-4c2f-b250-9e8949c639ca', '4f8c2e6a-7d1b-4390-9b5e-2a6d8f1c4e37', 5,
     'analysis', pg_temp.days_ago(6, '13:00'), '{"apify_run_id": "aLXkLFG0UN0lTcxN3"}'),
    ('2dfb1b21-5317-4c2f-b250-9e8949c639ca', '1b6e9d3f-4a8c-4e21-b7d5-9c3a1f8e6b04', 1, 'search',
     pg_temp.days_ago(5, '08:00'), '{"apify_run_id": "Ht4Kq9Wz2Lm7Pb3Xv"}'),
    ('83b7f93e-224a-45aa-a572-a11c10e1875c', '3a9d5f17-8e2b-4c64-a7d1-6f0e4b8c2d95', 1, 'search',
     pg_temp.days_ago(1, '06:03'), '{"apify_run_id": "pWEMlsE2IPRMEeKyo"}'),
    ('6ce09bb1-6a2d-41e1-976c-6bf33d943e30', 'b5a8d2e6-1c7f-4b39-8d04-6e9a3f5c7b12', 1, 'search',
     pg_temp.days_ago(2, '12:08'), '{"apify_run_id": "0j51a9Tuf8lJhdqab"}'),
    ('6ce09bb1-6a2d-41e1-976c-6bf33d943e30', 'f2c7e9b4-6a1d-4e83-b5f0-3d8a2c6e9b41', 5,
     'analysis', pg_temp.days_ago(2, '13:19'), '{"apify_run_id": "IylOGYkK9mmLyu6zu"}'),
    ('ca58dadd-77f5-4f7e-bec0-6ce1b26b039c', '9e4b1d7a-3c8f-4a52-b6e9-1d5c7f3a8e20', 1, 'search',
     pg_temp.days_ago(11, '12:02'), '{"apify_run_id": "zKc6H5Ghy01updkrp"}');

-- The quota increment touched each organization last when it charged it.
UPDATE organizations SET updated_at = coalesce(
    (SELECT max(u."timestamp") FROM quota_usage AS u WHERE u.org_id = organizations.id),
    created_at);

-- The nightly rollup, computed as the rollup job does at midnight: one row per organization,
-- day and usage type, for the days that are over.
INSERT INTO usage (org_id, period_start, period_end, total_usage, usage_type, created_at)
SELECT org_id, day, day + interval '1 day', sum(usage_amount), usage_type, day + interval '1 day'
FROM (SELECT org_id, date_trunc('day', "timestamp") AS day, usage_amount, usage_type
      FROM quota_usage) AS usage_by_day
WHERE day < pg_temp.days_ago(0)
GROUP BY org_id, day, usage_type;

-- Every event was processed within seconds, but two.
-- PROBLEM c (3 of 3): the mock organization's "organization.created" event was written by
-- the signup fallback itself: it says "source": "mock" and carries an example.com address.
-- PROBLEM g: Dodo's renewal payment for Harbor & Pine arrived two hours ago and was never
-- processed (the handler threw; nothing retries unprocessed events).
INSERT INTO webhook_events (source, event_type, payload, processed, processed_at, created_at)
VALUES
    ('clerk', 'organization.created',
     '{"type": "organization.created", "data": {"id": "org_2DlGBLSM3LwAspsefjTLJ3cUptp", "name": "Northwind Analytics", "created_by": "user_2DlGC0Rk5Zp8XnVq3Wm1Ty7Hb4s"}}',
     true, pg_temp.days_ago(210, '12:00:02'), pg_temp.days_ago(210, '12:00')),
    ('clerk', 'organization.created',
     '{"type": "organization.created", "data": {"id": "org_2Pi7P9PR3EcYBPbtxRSBOX85GfT", "name": "Harbor & Pine Studio", "created_by": "user_2Pi7QaT4Lm9Xc2Vb8Nw5Rz1Kd6f"}}',
     true, pg_temp.days_ago(40, '12:00:01'), pg_temp.days_ago(40, '12:00')),
    ('clerk', 'organization.created',
     '{"type": "organization.created", "source": "mock", "data": {"id": "org_2Z8w9Pjfdmc5zC8zj2ZRHq0rE5O", "name": "Acme Mock Org", "created_by_email": "dev@example.com"}}',
     true, pg_temp.days_ago(12, '12:00'), pg_temp.days_ago(12, '12:00')),
    ('dodo', 'subscription.active',
     '{"type": "subscription.active", "data": {"subscription_id": "sub_ln5heq7GOSGaeGLNILdYTa", "product_id": "pdt_Xv3kQ8nR2mTb7LpW9sYc4", "customer": {"email": "billing@harborpine.studio"}}}',
     true, pg_temp.days_ago(40, '12:00:03'), pg_temp.days_ago(40, '12:00')),
    ('dodo', 'subscription.cancelled',
     '{"type": "subscription.cancelled", "data": {"subscription_id": "sub_YQJTfKDA1yG20JbO8xjgI6", "cancel_at_period_end": true}}',
     true, pg_temp.days_ago(40, '12:00:02'), pg_temp.days_ago(40, '12:00')),
    ('dodo', 'payment.succeeded',
     '{"type": "payment.succeeded", "data": {"payment_id": "pay_2Qh7LmX9pR4tVb8Nc3Kd", "subscription_id": "sub_OLDc1lPXLhfIZvmwYO4mcj", "total_amount": 2900, "currency": "USD"}}',
     true, pg_temp.days_ago(12, '12:00:01'), pg_temp.days_ago(12, '12:00')),
    ('inngest', 'job/completed',
     '{"name": "job/completed", "data": {"job_id": "c4d2a9e7-6b1f-4e35-8c07-9d3b5a1e2f64", "apify_run_id": "npCpI09XTlJQ6cCIu", "results_count": 64}}',
     true, pg_temp.days_ago(1, '15:05:01'), pg_temp.days_ago(1, '15:05')),
    ('dodo', 'payment.succeeded',
     '{"type": "payment.succeeded", "data": {"payment_id": "pay_7Rk2Xw5Nc9Ht3Lb6Vq1M", "subscription_id": "sub_ln5heq7GOSGaeGLNILdYTa", "total_amount": 2900, "currency": "USD"}}',
     false, NULL, pg_temp.ago('2 hours'));

-- == The quota flow ===========================================================================

-- The document's Flow 3, "Quota Management": Job Completion → quota_usage.usage_amount →
-- organizations.quota_used → Real-time Limits (quota_usage's wiring: "Job Completion → Quota
-- Increment → Usage Logging"; checkpoint 4, "Real Quotas": quota_used "must reflect actual job
-- consumption").  Logging a usage row charges its organization in the same statement, so the
-- increment and the log can no longer part the way PROBLEM e's retries parted them.  It came
-- last, after the rows above (which the API's own increment charged): it charges new rows
-- only, and leaves PROBLEM e's drift where it is.  It adds and never subtracts: the flow
-- runs one way, and the document says nothing of refunds.
CREATE FUNCTION charge_quota_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organizations
    SET quota_used = quota_used + NEW.usage_amount, updated_at = now()
    WHERE id = NEW.org_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER quota_usage_charges_quota AFTER INSERT ON quota_usage
    FOR EACH ROW EXECUTE FUNCTION charge_quota_usage();
