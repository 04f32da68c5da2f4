-- Primary keys, unique, foreign-key and check constraints of the given tables.  Key columns come
-- as attribute numbers (resolving names here costs more than the rest of the query together);
-- NOT NULL constraints (pg_constraint rows on PostgreSQL 18) are read from pg_attribute instead.
SELECT con.conrelid AS table_oid,
       con.conname AS name,
       con.contype AS kind,
       con.conkey AS columns,
       rn.nspname AS ref_schema,
       rc.relname AS ref_table,
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
       {nulls_not_distinct} AS nulls_not_distinct
FROM pg_catalog.pg_constraint con
LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = con.conindid AND con.contype = 'u'
WHERE con.conrelid = ANY (%(oids)s::pg_catalog.oid[])
  AND con.contype IN ('p', 'u', 'f', 'c')
  -- A foreign key to a partitioned table gets a clone per partition: keep the one declared.
  AND con.conparentid = 0
ORDER BY con.conrelid, con.conname
