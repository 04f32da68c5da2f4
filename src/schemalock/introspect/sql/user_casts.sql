-- Types a cast function outside pg_catalog converts from or to (CREATE CAST ... WITH FUNCTION,
-- which the owner of a type may write): reading a column of such a type as text, or casting
-- to it, runs that function, so verify reads no such column's rows.  Casts an extension
-- installs (citext's) are the extension's, not a user's.
SELECT DISTINCT pg_catalog.format_type(t.oid, NULL)
FROM pg_catalog.pg_cast AS c
JOIN pg_catalog.pg_proc AS p ON p.oid = c.castfunc
JOIN pg_catalog.pg_namespace AS pn ON pn.oid = p.pronamespace
CROSS JOIN LATERAL (VALUES (c.castsource), (c.casttarget)) AS t (oid)
JOIN pg_catalog.pg_type AS ty ON ty.oid = t.oid
JOIN pg_catalog.pg_namespace AS tn ON tn.oid = ty.typnamespace
WHERE c.castmethod = 'f' AND pn.nspname <> 'pg_catalog' AND tn.nspname <> 'pg_catalog'
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend AS e
        WHERE e.classid = 'pg_catalog.pg_cast'::pg_catalog.regclass
          AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY 1
