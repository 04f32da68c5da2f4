"""The lock's objects beyond tables, for `schemalock docs`: partitions, views, functions and
procedures, triggers, sequences, extensions, row-level security and policies, privileges.
One section, a subsection per kind the lock has; nothing when it has none."""

from __future__ import annotations

from schemalock.model import Lock
from schemalock.model.partitions import Partition, walk
from schemalock.render.markdown.markup import code_block, code_list, code_span, table_name


def objects(lock: Lock) -> str:
    parts = [
        part
        for part in (
            _partitions(lock),
            _views(lock),
            _routines(lock),
            _triggers(lock),
            _sequences(lock),
            _extensions(lock),
            _security(lock),
            _grants(lock),
        )
        if part
    ]
    return "\n\n".join(["## Database objects", *parts]) if parts else ""


def _partitions(lock: Lock) -> str:
    lines = []
    for key, table in lock.database.tables.items():
        if table.inherits:
            parents = code_list(table_name(parent) for parent in table.inherits)
            lines.append(f"- {code_span(table_name(key))} inherits from {parents}")
        for parent, partition in walk(table.partitions, key):
            lines.append(
                f"- {code_span(table_name(partition.key))}: partition of "
                f"{code_span(table_name(parent))} {code_span(partition.bound)}"
                + (
                    f", partitioned {code_span(partition.partition_by)}"
                    if partition.partition_by
                    else ""
                )
                + "".join(f"; {fact}" for fact in _own(partition))
            )
    return "\n".join(["### Partitions and inheritance", "", *lines]) if lines else ""


def _own(partition: Partition) -> list[str]:
    """The keys, checks and indexes a partition has of its own (not its parent's)."""
    facts = []
    if partition.primary_key is not None:
        facts.append(f"primary key ({code_list(partition.primary_key.columns)})")
    facts += [f"unique ({code_list(unique.columns)})" for unique in partition.uniques]
    for fk in partition.foreign_keys:
        target = code_span(table_name((fk.ref_schema, fk.ref_table)))
        facts.append(
            f"foreign key ({code_list(fk.columns)}) to {target} ({code_list(fk.ref_columns)})"
        )
    facts += [f"check {code_span(check.expression)}" for check in partition.checks]
    for index in partition.indexes:
        kind = "unique index" if index.unique else "index"
        facts.append(f"{kind} {code_span(index.name)} on {code_list(index.keys)}")
    facts += [f"exclusion {code_span(x.name or '')}" for x in partition.exclusions]
    return facts


def _views(lock: Lock) -> str:
    parts = []
    for key, view in lock.database.views.items():
        facts = [view.kind]
        facts += [f"{name} = {code_span(value)}" for name, value in view.options]
        facts += [
            f"index {code_span(index.name)} on {code_list(index.keys)}" for index in view.indexes
        ]
        parts.append(
            f"#### {code_span(table_name(key))}\n\n{', '.join(facts)}\n\n"
            + code_block(view.query, "sql")
        )
    return "\n\n".join(["### Views", *parts]) if parts else ""


def _routines(lock: Lock) -> str:
    lines = []
    for routine in lock.database.routines.values():
        facts = [routine.kind, routine.language]
        if routine.returns:
            facts.append(f"returns {code_span(routine.returns)}")
        if not routine.procedure:
            facts.append(routine.volatility)
        if routine.security_definer:
            facts.append("security definer")
        facts += [f"{name} = {code_span(value)}" for name, value in routine.settings]
        name = table_name((routine.schema, routine.signature))
        lines.append(f"- {code_span(name)}: {', '.join(facts)}")
    return "\n".join(["### Functions and procedures", "", *lines]) if lines else ""


def _triggers(lock: Lock) -> str:
    lines = []
    for trigger in lock.database.triggers.values():
        events = " or ".join(trigger.events)
        when = f" when {code_span(trigger.when)}" if trigger.when else ""
        state = f" ({trigger.enabled})" if trigger.enabled != "origin" else ""
        table = table_name((trigger.schema, trigger.table))
        lines.append(
            f"- {code_span(trigger.name)} on {code_span(table)}: "
            f"{trigger.timing} {events}, for each {'row' if trigger.row else 'statement'}{when}, "
            f"executes {code_span(trigger.function)}{state}"
        )
    return "\n".join(["### Triggers", "", *lines]) if lines else ""


def _sequences(lock: Lock) -> str:
    lines = [
        f"- {code_span(table_name(key))}: {sequence.type}, from {sequence.start} by "
        f"{sequence.increment}"
        + (f", owned by {code_span('.'.join(sequence.owned_by[1:]))}" if sequence.owned_by else "")
        for key, sequence in lock.database.sequences.items()
    ]
    return "\n".join(["### Sequences", "", *lines]) if lines else ""


def _extensions(lock: Lock) -> str:
    lines = [
        f"- {code_span(extension.name)} in schema {code_span(extension.schema)}"
        + (f", version {code_span(extension.version)}" if extension.version else "")
        for extension in lock.database.extensions.values()
    ]
    return "\n".join(["### Extensions", "", *lines]) if lines else ""


def _security(lock: Lock) -> str:
    lines = [
        f"- {code_span(table_name(key))}: row-level security {state.state}"
        for key, state in lock.database.row_security.items()
    ]
    for policy in lock.database.policies.values():
        facts = [f"for {policy.command}", "permissive" if policy.permissive else "restrictive"]
        facts.append(f"to {code_list(policy.roles)}")
        if policy.using:
            facts.append(f"using {code_span(policy.using)}")
        if policy.check:
            facts.append(f"with check {code_span(policy.check)}")
        table = table_name((policy.schema, policy.table))
        lines.append(f"- policy {code_span(policy.name)} on {code_span(table)}: {', '.join(facts)}")
    return "\n".join(["### Row-level security", "", *lines]) if lines else ""


def _grants(lock: Lock) -> str:
    lines = []
    for grant in lock.database.grants.values():
        target = grant.object or grant.schema
        if grant.column:
            target += f".{grant.column}"
        option = f" (with grant option: {code_list(grant.grantable)})" if grant.grantable else ""
        where = " (global)" if grant.on == "default" and not grant.schema else ""
        held = code_list(grant.privileges) or "nothing"
        lines.append(
            f"- {held} on {grant.on}{where} {code_span(target)} to {code_span(grant.role)}{option}"
        )
    return "\n".join(["### Privileges", "", *lines]) if lines else ""
