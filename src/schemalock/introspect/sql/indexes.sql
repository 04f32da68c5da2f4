-- Stand-alone indexes of the given tables: the ones backing a primary key, unique or exclusion
-- constraint belong to that constraint.  The definition is PostgreSQL's own deparse, from the
-- latest catalog: NULL (and the predicate too) for an index dropped since this transaction's
-- snapshot.  An index attached to an index of its table's parent (a partition's) is the
-- parent's: of a partition, only the indexes it has of its own are read.
SELECT i.indrelid AS table_oid,
       ic.relname AS name,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
       i.indisunique AS is_unique,
       i.indisvalid AND i.indisready AS valid,
       am.amname AS method,
       pg_catalog.pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       {nulls_not_distinct} AS nulls_not_distinct,
       i.indpred IS NOT NULL AS partial
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE i.indrelid = ANY (%(oids)s::pg_catalog.oid[])
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_constraint con
        WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
          AND con.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
ORDER BY i.indrelid, ic.relname
