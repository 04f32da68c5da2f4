-- Ordinary and partitioned tables of the covered schemas.  Partitions belong to their parent
-- and are not listed as tables: each partitioned table lists them (`partitions`).  Views,
-- foreign tables, sequences and extension-owned tables are not tables.
-- `partition_by` is NULL for a partitioned table dropped after this transaction's snapshot:
-- pg_get_partkeydef() reads the latest catalog, not the snapshot.
SELECT c.oid,
       n.nspname AS schema,
       c.relname AS name,
       c.relkind = 'p' AS partitioned,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_by,
       d.description AS comment,
       -- The parents of an inheritance child, in order, as [schema, name] pairs.
       (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(pn.nspname, p.relname)
                                   ORDER BY i.inhseqno)
        FROM pg_catalog.pg_inherits i
        JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
        JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
        WHERE i.inhrelid = c.oid) AS inherits,
       -- A partitioned table's partitions, sub-partitions included, each as [schema, name,
       -- parent schema, parent name, bound, partition key (a partitioned one's), oid (by
       -- which its own indexes and constraints are read)].  The bound and the key are NULL
       -- for a partition dropped since the snapshot (as partition_by).
       CASE WHEN c.relkind = 'p' THEN (
           WITH RECURSIVE tree (oid, parent) AS (
               SELECT i.inhrelid, i.inhparent FROM pg_catalog.pg_inherits i
               WHERE i.inhparent = c.oid
               UNION ALL
               SELECT i.inhrelid, i.inhparent FROM pg_catalog.pg_inherits i
               JOIN tree ON i.inhparent = tree.oid)
           SELECT pg_catalog.json_agg(pg_catalog.json_build_array(
                      pn.nspname, p.relname, qn.nspname, q.relname,
                      pg_catalog.pg_get_expr(p.relpartbound, p.oid),
                      CASE WHEN p.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(p.oid) END,
                      p.oid::pg_catalog.int8)
                  ORDER BY pn.nspname, p.relname)
           FROM tree
           JOIN pg_catalog.pg_class p ON p.oid = tree.oid AND p.relispartition
           JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
           JOIN pg_catalog.pg_class q ON q.oid = tree.parent
           JOIN pg_catalog.pg_namespace qn ON qn.oid = q.relnamespace)
       END AS partitions,
       -- Storage parameters (`WITH (fillfactor=70)`), as name=value texts; NULL for none.
       c.reloptions AS options
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.objsubid = 0
WHERE c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND n.nspname = ANY (%(schemas)s::pg_catalog.text[])
  AND NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
          AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname, c.relname
