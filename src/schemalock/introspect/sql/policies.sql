-- Row-level security of the tables of the covered schemas (enabled, forced) and their
-- policies: one row per policy, or one row with no policy for a table that has row-level
-- security on and no policy.  Tables with neither are not listed; nor are those an extension
-- owns.  Roles: 0 in polroles is PUBLIC.
SELECT n.nspname AS schema,
       c.relname AS "table",
       c.relrowsecurity AS enabled,
       c.relforcerowsecurity AS forced,
       p.polname AS policy,
       p.polcmd AS command,
       p.polpermissive AS permissive,
       ARRAY(SELECT CASE WHEN r.oid = 0 THEN 'public'
                         ELSE pg_catalog.pg_get_userbyid(r.oid) END
             FROM pg_catalog.unnest(p.polroles) AS r (oid)
             ORDER BY 1) AS roles,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using,
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_policy p ON p.polrelid = c.oid
WHERE c.relkind IN ('r', 'p')
  AND n.nspname = ANY (%(schemas)s::pg_catalog.text[])
  AND (c.relrowsecurity OR c.relforcerowsecurity OR p.oid IS NOT NULL)
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
          AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname, c.relname, p.polname
