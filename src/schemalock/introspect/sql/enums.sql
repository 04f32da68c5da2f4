-- Enum types of the covered schemas, labels in their sort order.
SELECT n.nspname AS schema,
       t.typname AS name,
       ARRAY(SELECT e.enumlabel FROM pg_catalog.pg_enum e
             WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e'
  AND n.nspname = ANY (%(schemas)s::pg_catalog.text[])
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
          AND e.objid = t.oid AND e.deptype = 'e')
ORDER BY n.nspname, t.typname
