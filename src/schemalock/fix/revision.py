"""A plan as an Alembic revision: operation objects rendered by Alembic's own machinery
(`render_python_code`, our operations' registered renderers) into the script directory's own
template (`ScriptDirectory.generate_revision`), on top of its current head."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from alembic.autogenerate import render_python_code
from alembic.operations import MigrateOperation, ops

from schemalock import files
from schemalock.errors import UsageError
from schemalock.fix import environment
from schemalock.fix import operations as fo
from schemalock.fix.options import Timeouts as Timeouts
from schemalock.fix.partition_ops import CreatePartition
from schemalock.fix.plan import Plan
from schemalock.fix.proofs import lossy
from schemalock.model.expressions import is_literal
from schemalock.model.names import qualified, quote

IMPORTS = "from sqlalchemy.dialects import postgresql"


def upgrade_ops(plan: Plan, guard_sql: str, timeouts: Timeouts) -> list[MigrateOperation]:
    steps: list[MigrateOperation] = [
        # First: the check below reads definitions, which waits for a table's lock.
        *_timeouts(timeouts.lock, timeouts.statement),
        fo.Comment("Refuse to run on a schema other than the one this plan was made for."),
        fo.Sql(guard_sql),
    ]
    for step in plan.ordered():
        steps.append(fo.Comment(step.title))
        if step.long:
            steps.append(fo.Sql(f"SET statement_timeout = {fo.literal(timeouts.long)}"))
        steps += step.ops
        if step.long:
            steps.append(fo.Sql(f"SET statement_timeout = {fo.literal(timeouts.statement)}"))
    return steps


def _timeouts(lock: str, statement: str) -> list[MigrateOperation]:
    return [
        fo.Sql(f"SET lock_timeout = {fo.literal(lock)}"),
        fo.Sql(f"SET statement_timeout = {fo.literal(statement)}"),
    ]


def downgrade_ops(plan: Plan, timeouts: Timeouts) -> list[MigrateOperation]:
    """The steps undone in reverse order, under the same lock_timeout (and the long statement
    timeout throughout).  A step that cannot be undone stops the downgrade before anything
    runs, saying why; so do the checks that refuse to drop a table or a column holding data,
    all of them run before the first step."""
    # A constraint the plan adds and drops again (the proof of SET NOT NULL) is gone already.
    transient = {
        op.constraint_name
        for s in plan.steps
        for op in s.ops
        if isinstance(op, ops.DropConstraintOp)
    }
    # An index a constraint adopted goes with the constraint.
    adopted = {
        op.index for s in plan.steps for op in s.ops if isinstance(op, fo.AddConstraintUsingIndex)
    }
    undone: list[MigrateOperation] = []
    checks: list[MigrateOperation] = []
    for step in reversed(plan.ordered()):
        for op in reversed(step.ops):
            if isinstance(op, ops.CreateCheckConstraintOp) and op.constraint_name in transient:
                continue
            if _builds(op, adopted):
                continue
            checks += _drop_guards(op)
            undone.append(_reverse(op))
    lost = [op for op in undone if isinstance(op, fo.Irreversible)]
    if lost:
        return [fo.Irreversible("; ".join(op.reason for op in lost))]
    kept = [op for op in undone if not isinstance(op, fo.Nothing)]
    if not kept:
        return [fo.Nothing()]
    return [*_timeouts(timeouts.lock, timeouts.long), *checks, *kept]


def downgrade_checks(plan: Plan) -> list[str]:
    """What the downgrade checks before it runs, for the revision's docstring."""
    return [
        guard.what
        for step in plan.steps
        for operation in step.ops
        for guard in _drop_guards(operation)
    ]


def _drop_guards(op: MigrateOperation) -> list[fo.Guard]:
    """Checks that refuse the downgrade of `op` while it would drop data written since: a
    created table with rows, an added column with values other than its default."""
    if isinstance(op, ops.CreateTableOp):
        table = qualified(op.schema or "public", op.table_name)
        return [_dropping(f"EXISTS (SELECT 1 FROM {table})", f"table {table}")]
    if isinstance(op, CreatePartition):
        return [_dropping(f"EXISTS (SELECT 1 FROM {op.target})", f"partition {op.target}")]
    if isinstance(op, ops.AddColumnOp):
        if op.column.computed is not None:
            return []  # computed from the other columns: nothing of its own is lost
        table = qualified(op.schema or "public", op.table_name)
        name = quote(op.column.name)
        written = f"{name} IS NOT NULL"
        default = op.column.server_default
        if op.column.identity is not None:
            written = "true"  # numbered by the database: every value is one of its own
        elif default is not None:
            text = str(getattr(default, "arg", default))
            # Only a literal can be told from data written since: `now()` at the downgrade is
            # not the value the rows got at the upgrade.
            written = f"{name} IS DISTINCT FROM ({text})" if is_literal(text) else "true"
        return [_dropping(f"EXISTS (SELECT 1 FROM {table} WHERE {written})", f"{table}.{name}")]
    if isinstance(op, fo.ConvertColumnType):
        table = qualified(op.schema, op.table)
        value = f"c.{quote(op.column)}"
        changed = lossy(value, op.to_type, op.from_type)
        return [
            fo.Guard(
                f"EXISTS (SELECT 1 FROM {table} AS c WHERE {value} IS NOT NULL AND {changed})",
                f"the downgrade stops before changing anything: converting "
                f"{table}.{quote(op.column)} back to {op.from_type} would change values "
                "(cut short or rounded)",
                f"{table}.{quote(op.column)} converted back to {op.from_type}",
            )
        ]
    if isinstance(op, fo.AddSerialColumn):
        table = qualified(op.schema, op.table)
        return [_dropping(f"EXISTS (SELECT 1 FROM {table})", f"{table}.{quote(op.column)}")]
    return []


def _dropping(condition: str, what: str) -> fo.Guard:
    message = (
        f"the downgrade stops before changing anything: it would drop {what}, which holds data"
    )
    return fo.Guard(condition, message, what)


def _builds(op: MigrateOperation, indexes: set[str]) -> bool:
    """Whether `op` (or the autocommit block it is) only builds indexes among `indexes`."""
    inner = op.ops if isinstance(op, fo.AutocommitBlock) else [op]
    return bool(inner) and all(
        isinstance(o, ops.CreateIndexOp) and o.index_name in indexes for o in inner
    )


def _reverse(op: MigrateOperation) -> MigrateOperation:
    if isinstance(op, ops.DropConstraintOp):
        return fo.Nothing()  # only ever a helper check the plan added itself
    if isinstance(op, ops.DropIndexOp):
        return fo.Nothing()  # only ever an INVALID index, which served no query
    if isinstance(op, ops.RenameTableOp):
        return ops.RenameTableOp(op.new_table_name, op.table_name, schema=op.schema)
    if isinstance(op, ops.AlterColumnOp) and op.modify_name:
        # Alembic's own reverse() of a rename keeps the new name.
        return ops.AlterColumnOp(
            op.table_name, op.modify_name, schema=op.schema, modify_name=op.column_name
        )
    if isinstance(op, fo.AutocommitBlock):
        inner = [_reverse(o) for o in reversed(op.ops)]
        kept = [o for o in inner if not isinstance(o, fo.Nothing)]
        lost = [o for o in inner if isinstance(o, fo.Irreversible)]
        if lost:
            return lost[0]
        if all(isinstance(o, fo.Comment) for o in kept):  # a block of comments is no block
            text = "\n".join(o.text for o in kept if isinstance(o, fo.Comment))
            return fo.Comment(text) if text else fo.Nothing()
        return fo.AutocommitBlock(kept)
    try:
        return op.reverse()
    except (NotImplementedError, ValueError) as error:
        return fo.Irreversible(f"{type(op).__name__}: {error}")


def render(operations: list[MigrateOperation], downgrade: bool = False) -> str:
    from alembic.runtime.migration import MigrationContext

    container = ops.DowngradeOps(ops=operations) if downgrade else ops.UpgradeOps(ops=operations)
    # PostgreSQL's renderer: without it an array's element type renders without its module
    # (`postgresql.ARRAY(Text())`), a NameError when the revision runs.
    # Named parameters: SQL text is compiled as written (the default paramstyle doubles each
    # `%`, which a revision would then run as `%%`).
    context = MigrationContext.configure(
        dialect_name="postgresql", dialect_opts={"paramstyle": "named"}
    )
    return render_python_code(container, migration_context=context)


def message(plan: Plan, summary: str, undo: list[MigrateOperation] | None = None) -> str:
    """The revision's docstring: the summary, every hazard of the plan, and what its
    downgrade would drop; `undo`: the plan's `downgrade_ops`, if made already (under any
    timeouts: they do not change whether it can be undone)."""
    hazards = plan.hazards or ["none: only brief catalog locks, each under lock_timeout"]
    lines = [summary, "", "Hazards:", *(f"- {h}" for h in hazards)]
    if undo is None:
        undo = downgrade_ops(plan, Timeouts())
    checks = downgrade_checks(plan)
    if len(undo) == 1 and isinstance(undo[0], fo.Irreversible):
        lines += ["", f"Downgrade: not possible: {undo[0].reason}"]
    elif checks:
        lines += ["", "The downgrade refuses to run while it would lose data here:"]
        lines += [f"- {check}" for check in checks]
    if plan.notes:
        lines += ["", "Left for a person:", *(f"- {n}" for n in plan.notes)]
    if plan.refusals:
        lines += ["", "Left out: the data or the database forbids these steps:"]
        lines += [f"- {refusal}" for refusal in plan.refusals]
        lines += [f"- {line}" for line in plan.left_out]
    return "\n".join(lines)


def python_docstring(text: str) -> str:
    """`text` written so that, between the template's triple quotes, Python reads it back
    exactly: it holds names from the lock and the database, and a `\"\"\"` in one would close
    the docstring and run what follows when Alembic loads the revision.  Backslashes, a quote
    beside another (or last), and characters that are not printable are escaped; the rest,
    line breaks included, reads as written."""
    if "\\" not in text and '"' not in text and text.replace("\n", "").isprintable():
        return text  # nothing to escape (the usual case): no walk through every character
    out: list[str] = []
    for index, char in enumerate(text):
        following = text[index + 1 : index + 2]
        if char == "\\":
            out.append("\\\\")
        elif char == '"' and following in ('"', ""):
            out.append('\\"')
        elif char == "\n" or char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])  # \x1b, \r, \u2028: as Python spells it
    return "".join(out)


def write(directory: Path, plan: Plan, summary: str, guard_sql: str, timeouts: Timeouts) -> Path:
    """Write the revision into the environment at `directory` (a script location), or into a
    fresh one made there with it if the folder is missing or empty.  The file is complete
    before it lands and lands at once: no reader and no interruption ever sees part of it,
    and a fresh environment appears with its revision or not at all."""
    upgrades = render(upgrade_ops(plan, guard_sql, timeouts))
    undo = downgrade_ops(plan, timeouts)  # reversing an index builds SQLAlchemy objects: once
    downgrades = render(undo, downgrade=True)
    docstring = python_docstring(message(plan, summary, undo))
    if environment.is_fresh(directory):
        with environment.creating(directory) as staging:
            name, text = _generate(staging, summary, upgrades, downgrades)
            files.write_text(staging / "versions" / name, text.replace(summary, docstring, 1))
        return directory / "versions" / name
    name, text = _generate(directory, summary, upgrades, downgrades)
    path = directory / "versions" / name
    path.parent.mkdir(exist_ok=True)  # as Alembic would (an environment without versions/)
    if os.path.lexists(path):  # a revision id drawn twice: never written over
        raise UsageError(f"{path} exists already: run `schemalock fix` again")
    files.write_text(path, text.replace(summary, docstring, 1))
    return path


def _generate(directory: Path, summary: str, upgrades: str, downgrades: str) -> tuple[str, str]:
    """The revision's file name and text, from the environment's own template on top of its
    head.  Alembic writes the file itself, so it writes it into a scratch folder of its own
    (an extra version location), which nobody else reads."""
    import tempfile

    from alembic.script import ScriptDirectory

    with tempfile.TemporaryDirectory(prefix="schemalock-revision-") as scratch:
        script = ScriptDirectory(
            str(directory), version_locations=[str(directory / "versions"), scratch]
        )
        heads = script.get_heads()
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # Alembic's "Generating ...": ours
                created = script.generate_revision(
                    _revision_id(),
                    summary,  # the file name's slug comes from it: the hazards go in afterwards
                    head=heads[0] if heads else "base",
                    version_path=scratch,
                    upgrades=upgrades,
                    downgrades=downgrades,
                    imports="" if IMPORTS in _template(directory) else IMPORTS,
                )
        except OSError as error:  # the scratch folder: a full disk, a file size limit
            raise UsageError(
                f"{directory}: cannot write the revision: {error.strerror or error}"
            ) from None
        assert created is not None
        generated = Path(created.path)
        return generated.name, generated.read_text(encoding="utf-8")


def _revision_id() -> str:
    from alembic.util import rev_id

    return str(rev_id())


def _template(directory: Path) -> str:
    template = directory / "script.py.mako"
    return template.read_text(encoding="utf-8") if template.is_file() else ""
