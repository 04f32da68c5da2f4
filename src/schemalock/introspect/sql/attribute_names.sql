-- Column names of tables referenced from the covered ones but outside them (another schema).
SELECT a.attrelid, a.attnum, a.attname
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = ANY (%(oids)s::pg_catalog.oid[])
  AND a.attnum > 0
  AND NOT a.attisdropped
