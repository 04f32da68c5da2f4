"""A plan as an Alembic revision: operation objects rendered by Alembic's own machinery
(`render_python_code`, our operations' registered renderers) into the script directory's own
template (`ScriptDirectory.generate_revision`), on top of its current head."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from alembic.autogenerate import render_python_code
from alembic.operations import MigrateOperation, ops

from schemalock.fix import operations as fo
from schemalock.fix.planner import Plan

IMPORTS = "from sqlalchemy.dialects import postgresql"


@dataclass(frozen=True)
class Timeouts:
    lock: str = "5s"  # every step: a lock not granted in time fails the step, not the app
    statement: str = "60s"
    long: str = "1h"  # index builds, VALIDATE, rewrites: longer, under the same lock_timeout


def upgrade_ops(plan: Plan, guard_sql: str, timeouts: Timeouts) -> list[MigrateOperation]:
    steps: list[MigrateOperation] = [
        fo.Comment("Refuse to run on a schema other than the one this plan was made for."),
        fo.Sql(guard_sql),
        fo.Sql(f"SET lock_timeout = {fo.literal(timeouts.lock)}"),
        fo.Sql(f"SET statement_timeout = {fo.literal(timeouts.statement)}"),
    ]
    for step in plan.ordered():
        steps.append(fo.Comment(step.title))
        if step.long:
            steps.append(fo.Sql(f"SET statement_timeout = {fo.literal(timeouts.long)}"))
        steps += step.ops
        if step.long:
            steps.append(fo.Sql(f"SET statement_timeout = {fo.literal(timeouts.statement)}"))
    return steps


def downgrade_ops(plan: Plan) -> list[MigrateOperation]:
    """The steps undone in reverse order; a step that cannot be undone stops the downgrade
    before anything runs, saying why."""
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
    for step in reversed(plan.ordered()):
        for op in reversed(step.ops):
            if isinstance(op, ops.CreateCheckConstraintOp) and op.constraint_name in transient:
                continue
            if _builds(op, adopted):
                continue
            undone.append(_reverse(op))
    lost = [op for op in undone if isinstance(op, fo.Irreversible)]
    if lost:
        return [fo.Irreversible("; ".join(op.reason for op in lost))]
    return [op for op in undone if not isinstance(op, fo.Nothing)] or [fo.Nothing()]


def _builds(op: MigrateOperation, indexes: set[str]) -> bool:
    """Whether `op` (or the autocommit block it is) only builds indexes among `indexes`."""
    inner = op.ops if isinstance(op, fo.AutocommitBlock) else [op]
    return bool(inner) and all(
        isinstance(o, ops.CreateIndexOp) and o.index_name in indexes for o in inner
    )


def _reverse(op: MigrateOperation) -> MigrateOperation:
    if isinstance(op, ops.DropConstraintOp):
        return fo.Nothing()  # only ever a helper check the plan added itself
    if isinstance(op, fo.AutocommitBlock):
        inner = [_reverse(o) for o in reversed(op.ops)]
        kept = [o for o in inner if not isinstance(o, fo.Nothing)]
        lost = [o for o in inner if isinstance(o, fo.Irreversible)]
        return lost[0] if lost else fo.AutocommitBlock(kept) if kept else fo.Nothing()
    try:
        return op.reverse()
    except (NotImplementedError, ValueError) as error:
        return fo.Irreversible(f"{type(op).__name__}: {error}")


def render(operations: list[MigrateOperation], downgrade: bool = False) -> str:
    container = ops.DowngradeOps(ops=operations) if downgrade else ops.UpgradeOps(ops=operations)
    return render_python_code(container)


def message(plan: Plan, summary: str) -> str:
    """The revision's docstring: the summary, then every hazard of the plan."""
    hazards = plan.hazards or ["none: only brief catalog locks, each under lock_timeout"]
    lines = [summary, "", "Hazards:", *(f"- {h}" for h in hazards)]
    if plan.notes:
        lines += ["", "Left for a person:", *(f"- {n}" for n in plan.notes)]
    return "\n".join(lines)


def write(directory: Path, plan: Plan, summary: str, guard_sql: str, timeouts: Timeouts) -> Path:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(directory))
    heads = script.get_heads()
    with contextlib.redirect_stdout(io.StringIO()):  # Alembic's "Generating ...": we say it
        created = script.generate_revision(
            _revision_id(),
            summary,  # the file name's slug comes from it: the hazards go in below
            head=heads[0] if heads else "base",
            refresh=True,
            upgrades=render(upgrade_ops(plan, guard_sql, timeouts)),
            downgrades=render(downgrade_ops(plan), downgrade=True),
            imports="" if IMPORTS in _template(directory) else IMPORTS,
        )
    assert created is not None
    path = Path(created.path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(summary, message(plan, summary), 1), encoding="utf-8")
    return path


def _revision_id() -> str:
    from alembic.util import rev_id

    return str(rev_id())


def _template(directory: Path) -> str:
    template = directory / "script.py.mako"
    return template.read_text(encoding="utf-8") if template.is_file() else ""
