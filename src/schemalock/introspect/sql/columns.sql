-- Live columns of the given tables, in table order.  Dropped and system columns are skipped.
-- `owned_sequence` marks a serial column: its default is nextval() of a sequence it owns.
-- format_type() and pg_get_expr() read the latest catalog, not the snapshot: for a table or
-- type dropped since, they give `???` and NULL (then `has_default` tells NULL from no default).
SELECT a.attrelid AS table_oid,
       a.attnum AS number,
       a.attname AS name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS default_expr,
       a.attidentity AS identity,
       a.attgenerated AS generated,
       d.description AS comment,
       ad.adbin IS NOT NULL AND EXISTS (
         SELECT 1 FROM pg_catalog.pg_depend s
         JOIN pg_catalog.pg_class sc ON sc.oid = s.objid AND sc.relkind = 'S'
         WHERE s.refobjid = a.attrelid AND s.refobjsubid = a.attnum AND s.deptype = 'a'
           AND s.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
           AND s.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass) AS owned_sequence,
       ad.adbin IS NOT NULL AS has_default,
       -- A collation other than the type's own (COLLATE), its schema and name; else NULL.
       CASE WHEN a.attcollation <> ty.typcollation THEN cn.nspname END AS collation_schema,
       CASE WHEN a.attcollation <> ty.typcollation THEN co.collname END AS collation,
       -- An identity column's sequence (pg_depend 'i' from it to the column): its type and
       -- options, (start, increment, min, max, cache, cycle as 0/1); else NULL.
       pg_catalog.format_type(seq.seqtypid, NULL) AS identity_type,
       CASE WHEN seq.seqrelid IS NOT NULL
            THEN ARRAY[seq.seqstart, seq.seqincrement, seq.seqmin, seq.seqmax, seq.seqcache,
                       seq.seqcycle::pg_catalog.int4]
       END AS identity_sequence
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN (pg_catalog.pg_depend idd
           JOIN pg_catalog.pg_sequence seq ON seq.seqrelid = idd.objid)
       ON a.attidentity <> '' AND idd.refobjid = a.attrelid AND idd.refobjsubid = a.attnum
      AND idd.deptype = 'i' AND idd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND idd.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.objsubid = a.attnum
WHERE a.attrelid = ANY (%(oids)s::pg_catalog.oid[])
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
