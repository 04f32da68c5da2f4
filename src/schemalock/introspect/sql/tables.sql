-- Ordinary and partitioned tables of the covered schemas.  Partitions belong to their parent
-- and are not listed; views, foreign tables, sequences and extension-owned tables are not tables.
-- `partition_by` is NULL for a partitioned table dropped after this transaction's snapshot:
-- pg_get_partkeydef() reads the latest catalog, not the snapshot.
SELECT c.oid,
       n.nspname AS schema,
       c.relname AS name,
       c.relkind = 'p' AS partitioned,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_by,
       d.description AS comment
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.objsubid = 0
WHERE c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND n.nspname = ANY (%(schemas)s::pg_catalog.text[])
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
          AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname, c.relname
