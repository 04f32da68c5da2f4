-- Functions and procedures of the covered schemas, each with its identity (the input argument
-- types, in order); aggregates and window functions are listed as not covered
-- (uncovered.sql), and what an extension owns belongs to it.  `body` is the source as written,
-- or a SQL-standard body (`BEGIN ATOMIC ... END`, `RETURN ...`) as PostgreSQL prints it.
SELECT n.nspname AS schema,
       p.proname AS name,
       ARRAY(SELECT pg_catalog.format_type(a.type, NULL)
             FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) WITH ORDINALITY
                  AS a (type, position)
             ORDER BY a.position) AS argument_types,
       pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
       p.prokind = 'p' AS procedure,
       pg_catalog.pg_get_function_result(p.oid) AS returns,
       l.lanname AS language,
       {body} AS body,
       p.provolatile AS volatility,
       p.proisstrict AS strict,
       p.prosecdef AS security_definer,
       coalesce(p.proconfig, ARRAY[]::pg_catalog.text[]) AS settings,
       d.description AS comment
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass
      AND d.objsubid = 0
WHERE p.prokind IN ('f', 'p')
  AND n.nspname = ANY (%(schemas)s::pg_catalog.text[])
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
          AND e.objid = p.oid AND e.deptype IN ('e', 'i'))
ORDER BY n.nspname, p.proname, 3
