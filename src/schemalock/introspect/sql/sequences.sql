-- Sequences of the covered schemas but those a column uses: an identity column's (pg_depend
-- 'i') and a serial column's (owned, 'a', by a column whose default calls nextval() on it);
-- those are the column's `identity` / `serial`.  A sequence OWNED BY a column whose default
-- does not use it (a serial column's second sequence, say) is listed, with its owner.  Not
-- listed: those an extension owns.
SELECT n.nspname AS schema,
       c.relname AS name,
       pg_catalog.format_type(s.seqtypid, NULL) AS type,
       s.seqstart AS start,
       s.seqincrement AS increment,
       s.seqmin AS minimum,
       s.seqmax AS maximum,
       s.seqcache AS cache,
       s.seqcycle AS cycle,
       tn.nspname AS owner_schema,
       t.relname AS owner_table,
       a.attname AS owner_column,
       pg_catalog.obj_description(c.oid, 'pg_class') AS comment
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_catalog.pg_depend o
       ON o.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND o.objid = c.oid
      AND o.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND o.refobjsubid > 0 AND o.deptype = 'a'
LEFT JOIN pg_catalog.pg_class t ON t.oid = o.refobjid
LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = o.refobjid AND a.attnum = o.refobjsubid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = o.refobjid AND ad.adnum = o.refobjsubid
WHERE c.relkind = 'S'
  AND n.nspname = ANY (%(schemas)s::pg_catalog.text[])
  AND NOT EXISTS (  -- the owning column's default calls nextval() on this very sequence
        SELECT 1 FROM pg_catalog.pg_depend x
        WHERE x.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND x.objid = ad.oid
          AND x.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
          AND x.refobjid = c.oid)
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend i
        WHERE i.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
          AND i.objid = c.oid AND i.deptype IN ('i', 'e'))
ORDER BY n.nspname, c.relname
