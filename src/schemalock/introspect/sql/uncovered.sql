-- What the database holds that no kind of the model covers, as (kind, name): the report's
-- "not covered".  Objects of the schemas read (the parameter) and database-wide ones (event
-- triggers, foreign data wrappers and servers, publications, subscriptions, casts between
-- user types, extensions).  What an extension owns belongs to it; PostgreSQL's own objects
-- (oid below 16384, FirstNormalObjectId) are not listed.  Each branch names its kind: when a
-- kind joins the model, its branch goes.
WITH ext AS (
    SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'
), read AS (
    SELECT oid, nspname FROM pg_catalog.pg_namespace
    WHERE nspname = ANY (%(schemas)s::pg_catalog.text[])
)
SELECT kind, name FROM (
    -- event trigger
    SELECT 'event trigger' AS kind, pg_catalog.quote_ident(evtname) AS name
    FROM pg_catalog.pg_event_trigger e
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_event_trigger'::pg_catalog.regclass AND ext.objid = e.oid)
    UNION ALL
    -- foreign data wrapper
    SELECT 'foreign data wrapper', pg_catalog.quote_ident(fdwname)
    FROM pg_catalog.pg_foreign_data_wrapper w
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass AND ext.objid = w.oid)
    UNION ALL
    -- foreign server
    SELECT 'foreign server', pg_catalog.quote_ident(srvname)
    FROM pg_catalog.pg_foreign_server s
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_foreign_server'::pg_catalog.regclass AND ext.objid = s.oid)
    UNION ALL
    -- publication
    SELECT 'publication', pg_catalog.quote_ident(pubname) FROM pg_catalog.pg_publication
    UNION ALL
    -- subscription (of this database)
    SELECT 'subscription', pg_catalog.quote_ident(subname) FROM pg_catalog.pg_subscription
    WHERE subdbid = (SELECT oid FROM pg_catalog.pg_database
                     WHERE datname = pg_catalog.current_database())
    UNION ALL
    -- extension (plpgsql is in every database) in a schema not read (pg_catalog): those in
    -- the schemas read are modelled
    SELECT 'extension', pg_catalog.quote_ident(extname) FROM pg_catalog.pg_extension
    WHERE extname <> 'plpgsql' AND extnamespace NOT IN (SELECT oid FROM read)
    UNION ALL
    -- default privileges on large objects (PostgreSQL 18; the other default privileges are
    -- modelled as grants, IN SCHEMA or global)
    SELECT 'default privileges', pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(defaclrole))
           || ' on large objects'
    FROM pg_catalog.pg_default_acl WHERE defaclobjtype NOT IN ('r', 'S', 'f', 'T', 'n')
    UNION ALL
    -- cast
    SELECT 'cast', pg_catalog.format_type(c.castsource, NULL) || ' AS '
                   || pg_catalog.format_type(c.casttarget, NULL)
    FROM pg_catalog.pg_cast c
    WHERE c.oid >= 16384
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_cast'::pg_catalog.regclass AND ext.objid = c.oid)
    UNION ALL
    -- foreign table, composite type
    SELECT CASE c.relkind WHEN 'f' THEN 'foreign table' ELSE 'composite type' END,
           pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(c.relname)
    FROM pg_catalog.pg_class c JOIN read r ON r.oid = c.relnamespace
    WHERE c.relkind IN ('f', 'c')
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ext.objid = c.oid)
    UNION ALL
    -- rule (a view's own _RETURN rule is the view)
    SELECT 'rule', pg_catalog.quote_ident(r.nspname) || '.'
                   || pg_catalog.quote_ident(c.relname) || '.' || pg_catalog.quote_ident(w.rulename)
    FROM pg_catalog.pg_rewrite w
    JOIN pg_catalog.pg_class c ON c.oid = w.ev_class JOIN read r ON r.oid = c.relnamespace
    WHERE w.rulename <> '_RETURN'
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ext.objid = c.oid)
    UNION ALL
    -- aggregate, window function
    SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' ELSE 'window function' END,
           pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(p.proname)
           || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')'
    FROM pg_catalog.pg_proc p JOIN read r ON r.oid = p.pronamespace
    WHERE p.prokind IN ('a', 'w')
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND ext.objid = p.oid)
    UNION ALL
    -- range type, base type
    SELECT CASE t.typtype WHEN 'r' THEN 'range type' ELSE 'base type' END,
           pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(t.typname)
    FROM pg_catalog.pg_type t JOIN read r ON r.oid = t.typnamespace
    WHERE t.typtype IN ('r', 'b') AND t.typelem = 0 AND t.typrelid = 0
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND ext.objid = t.oid)
    UNION ALL
    -- operator
    SELECT 'operator', pg_catalog.quote_ident(r.nspname) || '.' || o.oprname || '('
           || pg_catalog.format_type(o.oprleft, NULL) || ', '
           || pg_catalog.format_type(o.oprright, NULL) || ')'
    FROM pg_catalog.pg_operator o JOIN read r ON r.oid = o.oprnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND ext.objid = o.oid)
    UNION ALL
    -- operator class, operator family
    SELECT 'operator class', pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(oc.opcname)
    FROM pg_catalog.pg_opclass oc JOIN read r ON r.oid = oc.opcnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_opclass'::pg_catalog.regclass AND ext.objid = oc.oid)
    UNION ALL
    SELECT 'operator family', pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(f.opfname)
    FROM pg_catalog.pg_opfamily f JOIN read r ON r.oid = f.opfnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_opfamily'::pg_catalog.regclass AND ext.objid = f.oid)
    UNION ALL
    -- collation
    SELECT 'collation', pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(c.collname)
    FROM pg_catalog.pg_collation c JOIN read r ON r.oid = c.collnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_collation'::pg_catalog.regclass AND ext.objid = c.oid)
    UNION ALL
    -- text search configuration, dictionary, parser, template
    SELECT 'text search configuration', pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(c.cfgname)
    FROM pg_catalog.pg_ts_config c JOIN read r ON r.oid = c.cfgnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_ts_config'::pg_catalog.regclass AND ext.objid = c.oid)
    UNION ALL
    SELECT 'text search dictionary', pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(d.dictname)
    FROM pg_catalog.pg_ts_dict d JOIN read r ON r.oid = d.dictnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_ts_dict'::pg_catalog.regclass AND ext.objid = d.oid)
    UNION ALL
    SELECT 'text search parser', pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(p.prsname)
    FROM pg_catalog.pg_ts_parser p JOIN read r ON r.oid = p.prsnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_ts_parser'::pg_catalog.regclass AND ext.objid = p.oid)
    UNION ALL
    SELECT 'text search template', pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(t.tmplname)
    FROM pg_catalog.pg_ts_template t JOIN read r ON r.oid = t.tmplnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_ts_template'::pg_catalog.regclass AND ext.objid = t.oid)
    UNION ALL
    -- statistics object
    SELECT 'statistics object', pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(s.stxname)
    FROM pg_catalog.pg_statistic_ext s JOIN read r ON r.oid = s.stxnamespace
    UNION ALL
    -- conversion
    SELECT 'conversion', pg_catalog.quote_ident(r.nspname) || '.' || pg_catalog.quote_ident(c.conname)
    FROM pg_catalog.pg_conversion c JOIN read r ON r.oid = c.connamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_catalog.pg_conversion'::pg_catalog.regclass AND ext.objid = c.oid)
) AS found
ORDER BY kind, name
