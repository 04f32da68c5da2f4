"""Lock file (validated syntax) -> normalized model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from schemalock.lock import (
    convert_aspects,
    convert_grants,
    convert_objects,
    convert_partitions,
    convert_security,
    convert_sequences,
    fields,
)
from schemalock.lock.paths import ConversionError as ConversionError
from schemalock.lock.paths import Path
from schemalock.model import (
    DEFAULT_SCHEMA,
    OWNED_SEQUENCE,
    CheckConstraint,
    Column,
    Database,
    Domain,
    Enum,
    Environment,
    ForeignKey,
    LockSettings,
    PrimaryKey,
    Table,
    UniqueConstraint,
    Waiver,
    names,
)
from schemalock.model.grants import GLOBAL
from schemalock.model.types import SERIAL_TYPES, UnknownType, canonical_type, suggest, type_spelling

if TYPE_CHECKING:
    from schemalock.lock.format import ColumnSpec, LockHead, TableSpec
    from schemalock.lock.format_constraints import CheckSpec, ForeignKeySpec
    from schemalock.lock.format_partitions import PartitionSpec
    from schemalock.lock.yamlsafe import Positions


def to_model(
    spec: LockHead,
    raw_tables: dict[str, Any],
    positions: Positions,
    table_spec: Callable[[str, Any], TableSpec],
) -> tuple[Database, LockSettings]:
    """The model of a lock; `table_spec` validates each raw table, which is consumed (removed
    from `raw_tables`) once converted, so its memory goes as the model grows."""
    converter = _Converter(positions)
    user_types = converter.user_types(spec)
    tables: dict[tuple[str, str], Table] = {}
    for key in list(raw_tables):
        table = converter.table(key, table_spec(key, raw_tables.pop(key)), user_types)
        if table.key in tables:
            raise ConversionError(
                f"table {names.qualified(*table.key)} is listed twice "
                f"(as {names.lock_name(*table.key)!r} and {key!r})",
                ("tables", key),
            )
        tables[table.key] = table
    enums, domains = converter.enums(spec), converter.domains(spec, user_types)
    views = convert_objects.views(spec, converter.line)
    routines = convert_objects.routines(spec, converter.line, user_types)
    triggers = convert_objects.triggers(spec, converter.line)
    row_security, policies = convert_security.row_security(spec, converter.line)
    sequences = convert_sequences.sequences(spec, converter.line)
    extensions = convert_sequences.extensions(spec, converter.line)
    grants = convert_grants.grants(spec, converter.line, user_types)
    # Every schema the lock names is covered, listed under `database.schemas` or not.
    named = [
        key[0]
        for kind in (
            *(tables, enums, domains, views, routines, triggers),
            *(row_security, policies, sequences, extensions, grants),
        )
        for key in kind
        if key[0] != GLOBAL  # global default privileges: of the database, of no schema
    ]
    database = Database(
        tables=tables,
        enums=enums,
        domains=domains,
        schemas=tuple(dict.fromkeys([*spec.database.schemas, *named])),
        views=views,
        routines=routines,
        triggers=triggers,
        row_security=row_security,
        policies=policies,
        sequences=sequences,
        extensions=extensions,
        grants=grants,
        grant_roles=frozenset(convert_grants.named_roles(spec)),
    )
    settings = LockSettings(
        name=spec.database.name,
        expected_tables=spec.database.expected_tables,
        ignore=tuple(spec.database.ignore),
        comments=spec.database.comments,
        environments={
            name: Environment(
                name=name,
                require_host=tuple(env.require_host),
                line=converter.line(("environments", name)),
            )
            for name, env in spec.environments.items()
        },
        tables_line=converter.line(("tables",)) or 1,
        enums_line=converter.line(("enums",)) or converter.line(("tables",)) or 1,
        domains_line=converter.line(("domains",)) or converter.line(("tables",)) or 1,
        expected_tables_line=converter.line(("database", "expected_tables")),
        section_lines={
            str(key[0]): found[0] for key, found in positions.items() if len(key) == 1 and found
        },
    )
    return database, settings


def to_waivers(spec: LockHead, positions: Positions) -> tuple[Waiver, ...]:
    """The lock's waivers, each with the line of its entry."""
    waivers = []
    for index, waiver in enumerate(spec.waivers):
        found = positions.get(("waivers", index))
        waivers.append(
            Waiver(
                rule=waiver.rule.strip(),
                object=waiver.object.strip(),
                reason=waiver.reason,
                expires=waiver.expires,
                owner=waiver.owner,
                line=found[0] if found else None,
            )
        )
    return tuple(waivers)


class _Converter:
    def __init__(self, positions: Positions) -> None:
        self.positions = positions

    def line(self, path: Path) -> int | None:
        found = self.positions.get(path)
        return found[0] if found else None

    def _split_table(
        self, key: str, path: Path, default_schema: str = DEFAULT_SCHEMA
    ) -> tuple[str, str]:
        try:
            return names.split_table(key, default_schema)
        except names.NameError_ as error:
            raise ConversionError(str(error), path) from None

    def user_types(self, spec: LockHead) -> frozenset[str]:
        declared = [*spec.enums, *spec.domains, *spec.types]
        spelled = {type_spelling(*self._split_table(k, ("types",))) for k in declared}
        return frozenset(spelled)

    def column_type(self, spelling: str, user_types: frozenset[str], path: Path) -> str:
        try:
            return fields.sql_type(spelling, canonical_type(spelling, user_types), path)
        except UnknownType:
            hint = suggest(spelling)
            did_you_mean = f"; did you mean {hint!r}?" if hint else ""
            raise ConversionError(
                f"unknown type {spelling!r}{did_you_mean} (declare enums, domains and other "
                "types under `enums:`, `domains:` or `types:`)",
                path,
            ) from None

    def table(self, key: str, spec: TableSpec, user_types: frozenset[str]) -> Table:
        path: Path = ("tables", key)
        schema, name = self._split_table(key, path)
        if spec.duplicate_of is not None:
            self._split_table(spec.duplicate_of, (*path, "duplicate_of"), default_schema=schema)
        pk_columns = self._primary_key_columns(spec, path)
        columns = tuple(
            self.column(
                column_name, column_spec, user_types, pk_columns, (*path, "columns", column_name)
            )
            for column_name, column_spec in spec.columns.items()
        )
        foreign_keys = [
            self._column_foreign_key(
                schema, column_name, column_spec, (*path, "columns", column_name)
            )
            for column_name, column_spec in spec.columns.items()
            if column_spec.references
        ]
        foreign_keys += [
            self._foreign_key(fk_name, fk, schema, (*path, "foreign_keys", fk_name))
            for fk_name, fk in spec.foreign_keys.items()
        ]
        uniques = [
            UniqueConstraint(
                columns=(column_name,), line=self.line((*path, "columns", column_name))
            )
            for column_name, column_spec in spec.columns.items()
            if column_spec.unique
        ]
        uniques += [
            UniqueConstraint(
                columns=tuple(u.columns),
                nulls_not_distinct=u.nulls_not_distinct,
                name=u_name,
                line=self.line((*path, "unique", u_name)),
            )
            for u_name, u in spec.unique.items()
        ]
        primary_key = None
        if pk_columns:
            pk_path = (*path, "primary_key") if spec.primary_key else path
            primary_key = PrimaryKey(columns=pk_columns, line=self.line(pk_path))
        return Table(
            schema=schema,
            name=name,
            columns=columns,
            primary_key=primary_key,
            foreign_keys=tuple(foreign_keys),
            uniques=tuple(uniques),
            checks=tuple(
                _check(c_name, written, self.line((*path, "checks", c_name)))
                for c_name, written in spec.checks.items()
            ),
            indexes=tuple(
                fields.index(i_name, ix, path, self.line) for i_name, ix in spec.indexes.items()
            ),
            partition_by=spec.partition_by,
            partitions=convert_partitions.partitions(
                spec.partitions,
                spec.partition_by,
                schema,
                (*path, "partitions"),
                self.line,
                own=self._own,
            ),
            inherits=convert_partitions.inherits(spec.inherits, schema, (*path, "inherits")),
            options=convert_aspects.options(spec.options, (*path, "options")),
            exclusions=convert_aspects.exclusions(
                spec.exclusions, (*path, "exclusions"), self.line
            ),
            comment=spec.comment,
            purpose=spec.purpose,
            wiring=spec.wiring,
            endpoints=tuple(spec.endpoints),
            critical=spec.critical,
            legacy=spec.legacy,
            duplicate_of=spec.duplicate_of,
            renamed_from=spec.renamed_from,
            mock_data=spec.mock_data,
            line=self.line(path),
        )

    def _foreign_key(self, name: str, fk: ForeignKeySpec, schema: str, path: Path) -> ForeignKey:
        fields.deferral(fk, path)
        ref_schema, ref_table = self._split_table(
            fk.references.table, (*path, "references"), default_schema=schema
        )
        partition = fk.references.partition
        return ForeignKey(
            columns=tuple(fk.columns),
            ref_schema=ref_schema,
            ref_table=ref_table,
            ref_columns=tuple(fk.references.columns),
            ref_partition=self._split_table(
                partition, (*path, "references", "partition"), ref_schema
            )
            if partition is not None
            else None,
            on_delete=fk.on_delete,
            on_update=fk.on_update,
            match=fk.match,
            deferrable=fk.deferrable,
            initially_deferred=fk.initially_deferred,
            validated=fk.validated,
            name=name,
            line=self.line(path),
        )

    def _own(self, spec: PartitionSpec, schema: str, path: Path, at: int | None) -> dict[str, Any]:
        """A partition's own indexes and constraints, as `Partition` fields; each at its line
        in the lock, else (deeper than the lock maps lines) at the partition's, `at`."""

        def line(where: Path) -> int | None:
            return self.line(where) or at

        return {
            "primary_key": PrimaryKey(tuple(spec.primary_key), line=line((*path, "primary_key")))
            if spec.primary_key
            else None,
            "foreign_keys": tuple(
                replace(
                    self._foreign_key(name, fk, schema, (*path, "foreign_keys", name)),
                    line=line((*path, "foreign_keys", name)),
                )
                for name, fk in spec.foreign_keys.items()
            ),
            "uniques": tuple(
                UniqueConstraint(
                    tuple(u.columns), u.nulls_not_distinct, name, line((*path, "unique", name))
                )
                for name, u in spec.unique.items()
            ),
            "checks": tuple(
                _check(name, written, line((*path, "checks", name)))
                for name, written in spec.checks.items()
            ),
            "indexes": tuple(
                fields.index(name, ix, path, line) for name, ix in spec.indexes.items()
            ),
            "exclusions": convert_aspects.exclusions(spec.exclusions, (*path, "exclusions"), line),
        }

    def _primary_key_columns(self, spec: TableSpec, path: Path) -> tuple[str, ...]:
        inline = tuple(n for n, c in spec.columns.items() if c.primary_key)
        if spec.primary_key and inline:
            raise ConversionError(
                "primary key given both as `primary_key:` and on columns "
                f"({', '.join(inline)}); use one",
                (*path, "primary_key"),
            )
        if len(inline) > 1:
            raise ConversionError(
                f"{len(inline)} columns say `primary_key: true`; a composite key is written "
                "`primary_key: [a, b]` on the table",
                path,
            )
        return tuple(spec.primary_key or inline)

    def column(
        self,
        name: str,
        spec: ColumnSpec,
        user_types: frozenset[str],
        pk_columns: tuple[str, ...],
        path: Path,
    ) -> Column:
        serial = spec.type.strip().lower() in SERIAL_TYPES
        if serial and spec.default is not None:
            raise ConversionError(
                "a serial column has its sequence as default; drop `default:`", (*path, "default")
            )
        if spec.generated_storage and not spec.generated:
            raise ConversionError("`generated_storage` needs `generated:`", path)
        if (spec.on_delete or spec.on_update) and not spec.references:
            raise ConversionError("`on_delete`/`on_update` need `references:`", path)
        type_name = self.column_type(spec.type, user_types, (*path, "type"))
        fields.column_filling(spec, type_name, serial, path)
        implied_not_null = serial or name in pk_columns or spec.identity is not None
        nullable = spec.nullable if spec.nullable is not None else not implied_not_null
        identity, identity_options = convert_sequences.identity(
            spec.identity, type_name, (*path, "identity")
        )
        return Column(
            name=name,
            type=type_name,
            nullable=nullable,
            default=OWNED_SEQUENCE if serial else spec.default,
            identity=identity,
            identity_options=identity_options,
            generated=spec.generated,
            generated_storage=(spec.generated_storage or "stored") if spec.generated else None,
            collation=convert_aspects.collation(spec.collation, (*path, "collation")),
            comment=spec.comment,
            pattern=spec.pattern,
            values=tuple(_value_text(v) for v in spec.values) if spec.values is not None else None,
            renamed_from=spec.renamed_from,
            mock_data=spec.mock_data,
            critical=spec.critical,
            line=self.line(path),
        )

    def _column_foreign_key(
        self, schema: str, column: str, spec: ColumnSpec, path: Path
    ) -> ForeignKey:
        assert spec.references is not None
        try:
            ref_schema, ref_table, ref_column = names.split_column_ref(spec.references, schema)
        except names.NameError_ as error:
            raise ConversionError(str(error), (*path, "references")) from None
        return ForeignKey(
            columns=(column,),
            ref_schema=ref_schema,
            ref_table=ref_table,
            ref_columns=(ref_column,),
            on_delete=spec.on_delete or "no action",
            on_update=spec.on_update or "no action",
            line=self.line(path),  # the column's line: an inline reference is written on it
        )

    def enums(self, spec: LockHead) -> dict[tuple[str, str], Enum]:
        result = {}
        for key, labels in spec.enums.items():
            schema, name = self._split_table(key, ("enums", key))
            result[(schema, name)] = Enum(
                schema=schema,
                name=name,
                labels=fields.enum_labels(labels, ("enums", key)),
                line=self.line(("enums", key)),
            )
        return result

    def domains(self, spec: LockHead, user_types: frozenset[str]) -> dict[tuple[str, str], Domain]:
        result = {}
        for key, domain in spec.domains.items():
            path: Path = ("domains", key)
            schema, name = self._split_table(key, path)
            result[(schema, name)] = Domain(
                schema=schema,
                name=name,
                type=self.column_type(domain.type, user_types, (*path, "type")),
                nullable=domain.nullable,
                default=domain.default,
                checks=tuple(
                    CheckConstraint(expression=e, name=n) for n, e in domain.checks.items()
                ),
                line=self.line(path),
            )
        return result


def _check(name: str, written: str | CheckSpec, line: int | None) -> CheckConstraint:
    """A check written as its expression, or in full (`{expression: ..., validated: false}`)."""
    if isinstance(written, str):
        return CheckConstraint(expression=written, name=name, line=line)
    return CheckConstraint(
        expression=written.expression,
        name=name,
        validated=written.validated,
        line=line,
        no_inherit=written.no_inherit,
    )


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
