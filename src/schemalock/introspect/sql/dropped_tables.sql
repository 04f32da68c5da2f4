-- Which of the given tables no longer exist: dropped after this transaction's snapshot, which
-- still lists them.  pg_table_is_visible() looks the table up in the latest catalog (through
-- the system cache) and is NULL for one that is gone.
SELECT t.oid
FROM pg_catalog.unnest(%(oids)s::pg_catalog.oid[]) AS t (oid)
WHERE pg_catalog.pg_table_is_visible(t.oid) IS NULL
