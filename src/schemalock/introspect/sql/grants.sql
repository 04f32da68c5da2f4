-- Privileges in the covered schemas, one row per (object, grantee, privilege), from the
-- explicit access lists (aclexplode): tables and the like, sequences, columns, functions,
-- schemas, default privileges IN SCHEMA.  An access list never changed (NULL) holds
-- PostgreSQL's built-in defaults and is not listed; nor is what an object's owner holds (the
-- owner's privileges are implicit), nor what an extension owns.  Grantee 0 is PUBLIC.  The
-- last branch lists the cluster's roles (`kind` role), for roles the lock names.
WITH ext AS (
    SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'
), read AS (
    SELECT oid, nspname FROM pg_catalog.pg_namespace
    WHERE nspname = ANY (%(schemas)s::pg_catalog.text[])
)
SELECT kind, schema, object, argument_types, detail,
       CASE WHEN grantee = 0 THEN 'public'
            ELSE pg_catalog.pg_get_userbyid(grantee) END AS grantee,
       privilege
FROM (
    SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind,
           r.nspname AS schema, c.relname AS object,
           NULL::pg_catalog.text[] AS argument_types, '' AS detail,
           a.grantee, a.privilege_type AS privilege
    FROM pg_catalog.pg_class c JOIN read r ON r.oid = c.relnamespace,
         LATERAL pg_catalog.aclexplode(c.relacl) a
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND a.grantee <> c.relowner
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ext.objid = c.oid)
    UNION ALL
    SELECT 'column', r.nspname, c.relname, NULL, t.attname, a.grantee, a.privilege_type
    FROM pg_catalog.pg_attribute t
    JOIN pg_catalog.pg_class c ON c.oid = t.attrelid JOIN read r ON r.oid = c.relnamespace,
         LATERAL pg_catalog.aclexplode(t.attacl) a
    WHERE t.attnum > 0 AND NOT t.attisdropped AND a.grantee <> c.relowner
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ext.objid = c.oid)
    UNION ALL
    SELECT 'function', r.nspname, p.proname,
           ARRAY(SELECT pg_catalog.format_type(x.type, NULL)
                 FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) WITH ORDINALITY
                      AS x (type, position)
                 ORDER BY x.position),
           '', a.grantee, a.privilege_type
    FROM pg_catalog.pg_proc p JOIN read r ON r.oid = p.pronamespace,
         LATERAL pg_catalog.aclexplode(p.proacl) a
    WHERE a.grantee <> p.proowner
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND ext.objid = p.oid)
    UNION ALL
    SELECT 'schema', n.nspname, '', NULL, '', a.grantee, a.privilege_type
    FROM pg_catalog.pg_namespace n JOIN read r ON r.oid = n.oid,
         LATERAL pg_catalog.aclexplode(n.nspacl) a
    WHERE a.grantee <> n.nspowner
    UNION ALL
    SELECT 'default', r.nspname, pg_catalog.pg_get_userbyid(d.defaclrole), NULL,
           CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' ELSE 'schemas' END,
           a.grantee, a.privilege_type
    FROM pg_catalog.pg_default_acl d JOIN read r ON r.oid = d.defaclnamespace,
         LATERAL pg_catalog.aclexplode(d.defaclacl) a
    UNION ALL
    SELECT 'role', NULL, NULL, NULL, NULL, NULL, rolname FROM pg_catalog.pg_roles
) AS found
ORDER BY 1, 2, 3, 5, 6, 7
