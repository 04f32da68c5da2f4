"""Row-level security and policies of two locks, judged from the comparison stage's
differences (the new lock in the lock's role, as in `schema`): tenant isolation is a promise,
so row-level security turned off or no longer forced, a policy removed, and a policy widened
(made permissive, opened to PUBLIC, a condition dropped) are regressions; row-level security
turned on and a policy added are progress; other policy changes are neutral."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.compare import differences as d
from schemalock.guard.changes import Change, Kind
from schemalock.guard.schema import Sides, about, handles
from schemalock.model import names
from schemalock.model.policies import PUBLIC, Policy


def _policy(x: d.Difference) -> str:
    subject = x.subject
    table = names.qualified(subject.schema, subject.table)
    return f"policy {names.quote(subject.name or '')} on {table}"


@handles(d.RowSecurityChanged)
def _row_security(x: d.RowSecurityChanged, sides: Sides) -> Iterator[Change]:
    new, old = x.lock, x.live
    weaker = (old.enabled and not new.enabled) or (old.forced and not new.forced)
    table = names.qualified(new.schema, new.table)
    yield about(
        x,
        Kind.REGRESSION if weaker else Kind.PROGRESS,
        f"row-level security of {table}: {old.state} -> {new.state}",
        x.line,
        before=old.state,
        after=new.state,
    )


@handles(d.MissingPolicy)
def _added(x: d.MissingPolicy, sides: Sides) -> Iterator[Change]:
    yield about(x, Kind.PROGRESS, f"{_policy(x)} added", x.line, constraint=x.lock.name)


@handles(d.ExtraPolicy)
def _removed(x: d.ExtraPolicy, sides: Sides) -> Iterator[Change]:
    yield about(
        x,
        Kind.REGRESSION,
        f"{_policy(x)} removed",
        x.live.line,
        in_base=True,
        constraint=x.live.name,
    )


@handles(d.PolicyChanged)
def _changed(x: d.PolicyChanged, sides: Sides) -> Iterator[Change]:
    aspects = ", ".join(a for a in d.POLICY_ASPECTS if a in x.aspects)
    kind = Kind.REGRESSION if widened(old=x.live, new=x.lock) else Kind.NEUTRAL
    yield about(x, kind, f"{_policy(x)}: {aspects} changed", x.line, constraint=x.lock.name)


def widened(old: Policy, new: Policy) -> bool:
    """Whether the new policy lets more through: restrictive made permissive, PUBLIC added,
    or a condition the old one had dropped."""
    return (
        (not old.permissive and new.permissive)
        or (PUBLIC in new.roles and PUBLIC not in old.roles)
        or (old.using is not None and new.using is None)
        or (old.check is not None and new.check is None)
    )
