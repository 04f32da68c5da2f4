-- Primary keys, unique, foreign-key, check and exclusion constraints of the given tables.  Key
-- columns come as attribute numbers (resolving names here costs more than the rest of the query
-- together);
-- NOT NULL constraints (pg_constraint rows on PostgreSQL 18) are read from pg_attribute instead.
-- A foreign key into one partition of a partitioned table names the partitioned (root) table
-- as its ref_schema/ref_table, the partition itself in partition_schema/partition_table: the
-- lock lists tables, never partitions.
-- Of a partition (its oid given to read its own constraints), only the constraints it has of
-- its own: neither inherited from its parent nor cloned from one of its parent's.
SELECT con.conrelid AS table_oid,
       con.conname AS name,
       con.contype AS kind,
       con.conkey AS columns,
       COALESCE(tn.nspname, rn.nspname) AS ref_schema,
       COALESCE(tc.relname, rc.relname) AS ref_table,
       con.confrelid AS ref_oid,
       con.confkey AS ref_columns,
       con.confdeltype AS on_delete,
       con.confupdtype AS on_update,
       con.confmatchtype AS match,
       con.condeferrable AS deferrable,
       con.condeferred AS initially_deferred,
       con.convalidated AS validated,
       CASE WHEN con.contype = 'c'
            THEN pg_catalog.pg_get_expr(con.conbin, con.conrelid, true) END AS expression,
       {nulls_not_distinct} AS nulls_not_distinct,
       CASE WHEN rc.relispartition THEN rn.nspname END AS partition_schema,
       CASE WHEN rc.relispartition THEN rc.relname END AS partition_table,
       con.contype = 'c' AND con.connoinherit AS no_inherit,
       -- An exclusion constraint as PostgreSQL prints it (`EXCLUDE USING gist (...) ...`).
       CASE WHEN con.contype = 'x' THEN pg_catalog.pg_get_constraintdef(con.oid) END AS definition
FROM pg_catalog.pg_constraint con
LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_catalog.pg_class tc
       ON rc.relispartition AND tc.oid = pg_catalog.pg_partition_root(rc.oid)
LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = con.conindid AND con.contype = 'u'
WHERE con.conrelid = ANY (%(oids)s::pg_catalog.oid[])
  AND con.contype IN ('p', 'u', 'f', 'c', 'x')
  -- A foreign key to a partitioned table gets a clone per partition: keep the one declared.
  AND con.conparentid = 0
  AND (con.conislocal AND con.coninhcount = 0
       OR NOT (SELECT c.relispartition FROM pg_catalog.pg_class c WHERE c.oid = con.conrelid))
ORDER BY con.conrelid, con.conname
