-- Triggers of the tables and views of the covered schemas.  Not listed: the internal ones
-- (foreign keys' RI triggers), the clones a partitioned table's trigger has on each partition
-- (tgparentid, PostgreSQL 13+), and those of a relation an extension owns.  `tgtype` holds timing, events and
-- level as bits; `definition` (CREATE TRIGGER as PostgreSQL prints it) gives the arguments
-- and the WHEN condition.
SELECT n.nspname AS schema,
       c.relname AS relation,
       t.tgname AS name,
       t.tgtype AS type_bits,
       ARRAY(SELECT a.attname
             FROM pg_catalog.unnest(t.tgattr::pg_catalog.int2[]) WITH ORDINALITY
                  AS k (number, position)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k.number
             ORDER BY k.position) AS columns,
       fn.nspname AS function_schema,
       f.proname AS function,
       t.tgenabled AS enabled,
       t.tgconstraint <> 0 AS is_constraint,
       t.tgdeferrable AS deferrable,
       t.tginitdeferred AS initially_deferred,
       t.tgoldtable AS old_table,
       t.tgnewtable AS new_table,
       pg_catalog.pg_get_triggerdef(t.oid) AS definition
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_proc f ON f.oid = t.tgfoid
JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
WHERE NOT t.tgisinternal
  AND {cloned}
  AND n.nspname = ANY (%(schemas)s::pg_catalog.text[])
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
          AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname, c.relname, t.tgname
