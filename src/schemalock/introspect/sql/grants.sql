-- Privileges in the covered schemas, one row per (object, grantee, privilege, grantor), from
-- the explicit access lists (aclexplode), whether held WITH GRANT OPTION: tables and the
-- like, sequences, columns, functions, schemas, default privileges IN SCHEMA, and global
-- default privileges (schema ''; an access list a role gets on the objects it creates
-- anywhere, stored whole, its own privileges in it).  An access list never changed (NULL)
-- holds PostgreSQL's built-in defaults and is not listed; nor is what an object's owner holds
-- (the owner's privileges are implicit), nor what an extension owns.  Grantee 0 is PUBLIC.
-- `acl IS NOT NULL` says what aclexplode (strict) implies: the catalog's rows without an access
-- list, nearly all of them, are left before any join (a 5,000-table schema's 100,000 columns).
-- Kind `global` says a global default access list exists for functions or types (PUBLIC's
-- built-in EXECUTE or USAGE is then held only if it lists it).  The last branch lists the
-- cluster's roles (`kind` role), for roles the lock names.  Default privileges on large
-- objects (PostgreSQL 18) are not read (uncovered.sql).
WITH ext AS (
    SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'
), read AS (
    SELECT oid, nspname FROM pg_catalog.pg_namespace
    WHERE nspname = ANY (%(schemas)s::pg_catalog.text[])
)
SELECT kind, schema, object, argument_types, detail,
       CASE WHEN grantee = 0 THEN 'public'
            ELSE pg_catalog.pg_get_userbyid(grantee) END AS grantee,
       privilege, grantable
FROM (
    SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind,
           r.nspname AS schema, c.relname AS object,
           NULL::pg_catalog.text[] AS argument_types, '' AS detail,
           a.grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
    FROM pg_catalog.pg_class c JOIN read r ON r.oid = c.relnamespace,
         LATERAL pg_catalog.aclexplode(c.relacl) a
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND c.relacl IS NOT NULL
      AND a.grantee <> c.relowner
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ext.objid = c.oid)
    UNION ALL
    SELECT 'column', r.nspname, c.relname, NULL, t.attname, a.grantee, a.privilege_type, a.is_grantable
    FROM pg_catalog.pg_attribute t
    JOIN pg_catalog.pg_class c ON c.oid = t.attrelid JOIN read r ON r.oid = c.relnamespace,
         LATERAL pg_catalog.aclexplode(t.attacl) a
    WHERE t.attacl IS NOT NULL AND t.attnum > 0 AND NOT t.attisdropped
      AND a.grantee <> c.relowner
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ext.objid = c.oid)
    UNION ALL
    SELECT 'function', r.nspname, p.proname,
           ARRAY(SELECT pg_catalog.format_type(x.type, NULL)
                 FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) WITH ORDINALITY
                      AS x (type, position)
                 ORDER BY x.position),
           '', a.grantee, a.privilege_type, a.is_grantable
    FROM pg_catalog.pg_proc p JOIN read r ON r.oid = p.pronamespace,
         LATERAL pg_catalog.aclexplode(p.proacl) a
    WHERE p.proacl IS NOT NULL AND a.grantee <> p.proowner
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND ext.objid = p.oid)
    UNION ALL
    SELECT 'schema', n.nspname, '', NULL, '', a.grantee, a.privilege_type, a.is_grantable
    FROM pg_catalog.pg_namespace n JOIN read r ON r.oid = n.oid,
         LATERAL pg_catalog.aclexplode(n.nspacl) a
    WHERE a.grantee <> n.nspowner
    UNION ALL
    SELECT 'default', r.nspname, pg_catalog.pg_get_userbyid(d.defaclrole), NULL,
           CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' ELSE 'schemas' END,
           a.grantee, a.privilege_type, a.is_grantable
    FROM pg_catalog.pg_default_acl d JOIN read r ON r.oid = d.defaclnamespace,
         LATERAL pg_catalog.aclexplode(d.defaclacl) a
    UNION ALL
    SELECT 'default', '', pg_catalog.pg_get_userbyid(d.defaclrole), NULL,
           CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' ELSE 'schemas' END,
           a.grantee, a.privilege_type, a.is_grantable
    FROM pg_catalog.pg_default_acl d, LATERAL pg_catalog.aclexplode(d.defaclacl) a
    WHERE d.defaclnamespace = 0 AND d.defaclobjtype IN ('r', 'S', 'f', 'T', 'n')
      AND a.grantee <> d.defaclrole
    UNION ALL
    SELECT 'global', '', pg_catalog.pg_get_userbyid(d.defaclrole), NULL,
           CASE d.defaclobjtype WHEN 'f' THEN 'functions' ELSE 'types' END, NULL, NULL, NULL
    FROM pg_catalog.pg_default_acl d
    WHERE d.defaclnamespace = 0 AND d.defaclobjtype IN ('f', 'T')
    UNION ALL
    SELECT 'role', NULL, NULL, NULL, NULL, NULL, rolname, NULL FROM pg_catalog.pg_roles
) AS found
ORDER BY 1, 2, 3, 5, 6, 7
