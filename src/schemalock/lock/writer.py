"""Normalized model -> lock file text, deterministically (same database, same bytes).

Single-column keys whose constraint names are PostgreSQL's defaults are written on the column
(`primary_key: true`, `unique: true`, `references: t.c`); anything else keeps its name at table
level, so loading the file back gives the same model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from schemalock import __version__
from schemalock.lock import (
    write_aspects,
    write_grants,
    write_objects,
    write_partitions,
    write_security,
    write_sequences,
    yaml_text,
)
from schemalock.lock.yaml_style import Dumper, Flow, FlowList, PureDumper
from schemalock.model import (
    DEFAULT_SCHEMA,
    OWNED_SEQUENCE,
    CheckConstraint,
    Column,
    Database,
    ForeignKey,
    Index,
    Table,
    names,
)
from schemalock.model.partitions import Partition
from schemalock.model.types import SERIAL_FOR, UnknownType, canonical_type, type_spelling

SCHEMA_MODELINE = "# yaml-language-server: $schema=schema_lock.schema.json\n"


def _key(schema: str, name: str) -> str:
    return names.lock_name(name) if schema == DEFAULT_SCHEMA else names.lock_name(schema, name)


def sections(document: dict[str, Any]) -> Iterator[str]:
    """The document's YAML, a top-level section at a time and a large section an entry at a
    time: PyYAML builds a node for every value before it writes one, a 5,000-table lock's
    nodes alone some 100 MB.  Each entry is written as the whole would write it: directly
    where `yaml_text` can spell it (nearly always), else by PyYAML."""
    for key, value in document.items():
        if type(value) is not dict or len(value) < 2:
            yield dumped({key: value})
            continue
        yield f"{key}:\n"
        for name, entry in value.items():
            text = yaml_text.entry(name, entry, "  ")
            if text is None:
                head, _, text = dumped({key: {name: entry}}).partition("\n")
                assert head == f"{key}:", head
            yield text


def dumped(document: dict[str, Any]) -> str:
    """`document` as PyYAML's own emitter writes it, through libyaml's where the two agree
    (nearly always: not for a character beyond the Basic Multilingual Plane, which libyaml
    escapes, nor for a key PyYAML writes as an explicit `? key`: from 123 characters on,
    where libyaml goes on to 128)."""
    if _long_key(document):
        return _dump(document, PureDumper)
    text = _dump(document, Dumper)
    return _dump(document, PureDumper) if _LIBYAML_SPELLING.search(text) else text


def _long_key(value: Any) -> bool:
    """Whether a key is as long as those yaml_text leaves to PyYAML: PyYAML's limit on a plain
    key counts the `!!str` tag it does not write, and stops below libyaml's."""
    if isinstance(value, dict):
        return any(
            (isinstance(key, str) and len(key) >= yaml_text.LONGEST_KEY) or _long_key(item)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_long_key(item) for item in value)
    return False


# What libyaml writes otherwise than PyYAML: an escape of a character beyond the BMP, an
# explicit key (also found in a text that holds "? ": PyYAML then writes it, the same).
_LIBYAML_SPELLING = re.compile(r"\\U|\? ")


def _dump(document: dict[str, Any], dumper: type[yaml.SafeDumper]) -> str:
    return yaml.dump(
        document,
        Dumper=dumper,
        sort_keys=False,
        width=4096,
        allow_unicode=True,
        default_flow_style=False,
    )


def write_lock(
    database: Database, database_name: str | None, left_out: tuple[str, ...] = ()
) -> str:
    """The lock of `database`; `left_out` are the database's schemas it does not cover
    (`snapshot --schema`), written as ignored (`schema.*`) so verify reports none of them."""
    header = (
        f"{SCHEMA_MODELINE}# Written by schemalock {__version__} snapshot"
        f"{f' of {database_name}' if database_name else ''}; edit freely.\n"
    )
    return header + "".join(sections(lock_document(database, database_name, left_out)))


def lock_document(
    database: Database, database_name: str | None, left_out: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What `write_lock` writes, as the values the YAML dumper takes."""
    document: dict[str, Any] = {"version": 1}
    document["database"] = {
        k: v
        for k, v in (
            ("name", database_name),
            ("schemas", FlowList(database.schemas)),
            ("ignore", FlowList(f"{names.lock_name(s)}.*" for s in left_out) or None),
            ("comments", "exact"),  # every comment is written below
        )
        if v is not None
    }
    if database.enums:
        document["enums"] = {
            _key(*k): FlowList(e.labels) for k, e in sorted(database.enums.items())
        }
    if database.domains:
        document["domains"] = {
            _key(*k): Flow(
                _without_none(
                    type=d.type,
                    nullable=False if not d.nullable else None,
                    default=d.default,
                    checks={c.name: c.expression for c in d.checks} or None,
                )
            )
            for k, d in sorted(database.domains.items())
        }
    other_types = _other_types(database)
    if other_types:
        document["types"] = FlowList(other_types)
    document["tables"] = {_key(*k): _table(t) for k, t in sorted(database.tables.items())}
    document.update(write_objects.sections(database))
    document.update(write_security.sections(database))
    document.update(write_sequences.sections(database))
    document.update(write_grants.sections(database))
    return document


def _other_types(database: Database) -> list[str]:
    """Types columns use that are neither built in nor declared as enums or domains."""
    declared = frozenset(type_spelling(*k) for k in (*database.enums, *database.domains))
    used = {c.type for t in database.tables.values() for c in t.columns}
    used |= {d.type for d in database.domains.values()}
    unknown = set()
    for spelling in used:
        try:
            canonical_type(spelling, declared)
        except UnknownType:
            # `vector(1536)` is declared as `vector`; the loader accepts its modifiers.
            unknown.add(re.sub(r"\(.*\)$", "", spelling.removesuffix("[]")))
    return sorted(unknown)


def _without_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _table(table: Table) -> dict[str, Any]:
    inline_pk = _inline_primary_key(table)
    inline_uniques = {
        u.columns[0]
        for u in table.uniques
        if len(u.columns) == 1
        and not u.nulls_not_distinct
        and u.name == f"{table.name}_{u.columns[0]}_key"
    }
    inline_fks = {fk.columns[0]: fk for fk in table.foreign_keys if _is_inline_fk(table, fk)}
    result: dict[str, Any] = _without_none(comment=table.comment, partition_by=table.partition_by)
    result.update(
        write_partitions.table_fields(table.partitions, table.inherits, table.schema, _own)
    )
    key_columns = table.primary_key.columns if table.primary_key else ()
    result["columns"] = {
        c.name: _column(
            c,
            c.name == inline_pk,
            c.name in inline_uniques,
            inline_fks.get(c.name),
            table,
            in_primary_key=c.name in key_columns,
        )
        for c in table.columns
    }
    if table.primary_key and inline_pk is None:
        result["primary_key"] = FlowList(table.primary_key.columns)
    result.update(_keys(table, inline_uniques, inline_fks))
    return result


def _keys(
    table: Table, inline_uniques: set[str], inline_fks: dict[str, ForeignKey]
) -> dict[str, Any]:
    """A table's keys, checks, indexes, exclusions and options but its primary key and those
    its columns say (`inline_*`)."""
    result: dict[str, Any] = {}
    foreign_keys = {
        fk.name: _foreign_key(table, fk)
        for fk in table.foreign_keys
        if fk.columns[0] not in inline_fks or inline_fks[fk.columns[0]] is not fk
    }
    uniques = {
        u.name: Flow(
            _without_none(
                columns=FlowList(u.columns), nulls_not_distinct=u.nulls_not_distinct or None
            )
        )
        for u in table.uniques
        if not (len(u.columns) == 1 and u.columns[0] in inline_uniques)
    }
    for key, value in (
        ("foreign_keys", foreign_keys),
        ("unique", uniques),
        ("checks", {c.name: _check(c) for c in table.checks}),
        ("indexes", {i.name: _index(i) for i in table.indexes}),
    ):
        if value:
            result[key] = value
    result.update(write_aspects.table_fields(table))
    return result


def _own(partition: Partition) -> dict[str, Any]:
    """A partition's own indexes and constraints, in the shape of a table's (nothing on
    columns: it lists none)."""
    result: dict[str, Any] = {}
    if partition.primary_key is not None:
        result["primary_key"] = FlowList(partition.primary_key.columns)
    own = Table(
        partition.schema,
        partition.name,
        foreign_keys=partition.foreign_keys,
        uniques=partition.uniques,
        checks=partition.checks,
        indexes=partition.indexes,
        exclusions=partition.exclusions,
    )
    result.update(_keys(own, set(), {}))
    return result


def _inline_primary_key(table: Table) -> str | None:
    pk = table.primary_key
    if pk and len(pk.columns) == 1 and pk.name == f"{table.name}_pkey":
        return pk.columns[0]
    return None


def _is_inline_fk(table: Table, fk: ForeignKey) -> bool:
    return (
        len(fk.columns) == 1
        and fk.name == f"{table.name}_{fk.columns[0]}_fkey"
        and fk.match == "simple"
        and not fk.deferrable
        and not fk.initially_deferred
        and fk.validated  # `validated: false` is said at table level only
        and fk.ref_partition is None  # as is the partition a key references
    )


def _column(
    column: Column,
    primary_key: bool,
    unique: bool,
    fk: ForeignKey | None,
    table: Table,
    in_primary_key: bool,
) -> Flow:
    # One call per column of the database (50,000 at 5,000 tables): each field is set only
    # where it says something, in the order the lock writes them.
    serial = column.default == OWNED_SEQUENCE and column.type in SERIAL_FOR
    spec = Flow(type=SERIAL_FOR[column.type] if serial else column.type)
    if column.nullable == (serial or in_primary_key or column.identity is not None):
        spec["nullable"] = column.nullable  # other than its type, key or identity imply
    if column.default is not None and not serial:
        spec["default"] = column.default
    if column.identity is not None:
        spec["identity"] = write_sequences.identity(column)
    if column.generated is not None:
        spec["generated"] = column.generated
    if column.generated_storage == "virtual":
        spec["generated_storage"] = column.generated_storage
    if column.collation is not None:
        spec["collation"] = column.collation
    if primary_key:
        spec["primary_key"] = True
    if unique:
        spec["unique"] = True
    if fk is not None:
        spec["references"] = _reference(table, fk.ref_schema, fk.ref_table, fk.ref_columns[0])
        if fk.on_delete != "no action":
            spec["on_delete"] = fk.on_delete
        if fk.on_update != "no action":
            spec["on_update"] = fk.on_update
    if column.comment is not None:
        spec["comment"] = column.comment
    return spec


def _reference(table: Table, schema: str, name: str, column: str) -> str:
    if schema == table.schema:
        return names.lock_name(name, column)
    return names.lock_name(schema, name, column)


def _foreign_key(table: Table, fk: ForeignKey) -> dict[str, Any]:
    target = (
        names.lock_name(fk.ref_table)
        if fk.ref_schema == table.schema
        else names.lock_name(fk.ref_schema, fk.ref_table)
    )
    references = Flow(table=target, columns=FlowList(fk.ref_columns))
    if fk.ref_partition is not None:
        # A key into one partition, as PostgreSQL holds it: the lock lists the partitioned
        # table, and says which of its partitions the key references.
        schema, partition = fk.ref_partition
        references["partition"] = (
            names.lock_name(partition)
            if schema == fk.ref_schema
            else names.lock_name(*fk.ref_partition)
        )
    spec: dict[str, Any] = {"columns": FlowList(fk.columns), "references": references}
    spec.update(
        _without_none(
            on_delete=fk.on_delete if fk.on_delete != "no action" else None,
            on_update=fk.on_update if fk.on_update != "no action" else None,
            match=fk.match if fk.match != "simple" else None,
            deferrable=fk.deferrable or None,
            initially_deferred=fk.initially_deferred or None,
            validated=False if not fk.validated else None,
        )
    )
    return spec


def _check(check: CheckConstraint) -> str | Flow:
    """A check as its expression; one left NOT VALID in full, saying so: a fresh snapshot then
    verifies silent, the lock stating what is knowingly not validated."""
    if check.validated and not check.no_inherit:
        return check.expression
    return Flow(
        _without_none(
            expression=check.expression,
            no_inherit=True if check.no_inherit else None,
            validated=False if not check.validated else None,
        )
    )


def _index(index: Index) -> Flow:
    return write_objects.index_spec(index)
