-- Views and materialized views of the covered schemas; those an extension owns belong to it.
-- `query` is PostgreSQL's own deparse from the latest catalog: NULL for a view dropped since
-- this transaction's snapshot.
SELECT c.oid,
       n.nspname AS schema,
       c.relname AS name,
       c.relkind = 'm' AS materialized,
       pg_catalog.pg_get_viewdef(c.oid) AS query,
       coalesce(c.reloptions, ARRAY[]::pg_catalog.text[]) AS options,
       d.description AS comment
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.objsubid = 0
WHERE c.relkind IN ('v', 'm')
  AND n.nspname = ANY (%(schemas)s::pg_catalog.text[])
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
          AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname, c.relname
