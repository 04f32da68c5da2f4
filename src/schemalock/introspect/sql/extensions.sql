-- Extensions whose objects are in the covered schemas, with their version; plpgsql (in every
-- database) is not listed.  Those in other schemas (pg_catalog) are "not covered".
SELECT n.nspname AS schema,
       x.extname AS name,
       x.extversion AS version
FROM pg_catalog.pg_extension x
JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
WHERE x.extname <> 'plpgsql'
  AND n.nspname = ANY (%(schemas)s::pg_catalog.text[])
ORDER BY x.extname
