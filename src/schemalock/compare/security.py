"""Row-level security and policies of two databases, compared.

Row-level security is compared for each table the live database has and the lock declares
(under `tables:` or `row_security:`): a table other than the lock says is its table's own
finding (missing-table, extra-table), not a row-security one.  USING and WITH CHECK are
compared on PostgreSQL's parse trees (`model.expressions`): the catalog's casts and
parentheses are no difference.  The lock's `database.ignore` leaves out the policies of an
ignored table.
"""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.compare import differences as d
from schemalock.compare.pairs import ignored
from schemalock.model import Database, LockSettings, expressions
from schemalock.model.policies import Policy, RowSecurity


def security_differences(
    lock: Database, live: Database, settings: LockSettings
) -> Iterator[d.Difference]:
    yield from _row_security(lock, live, settings)
    yield from _policies(lock, live, settings)


def _row_security(lock: Database, live: Database, settings: LockSettings) -> Iterator[d.Difference]:
    declared = {*lock.tables, *lock.row_security}
    for key in sorted(declared & live.tables.keys()):
        if ignored(*key, settings.ignore):
            continue
        want = lock.row_security.get(key) or RowSecurity(*key, enabled=False)
        have = live.row_security.get(key) or RowSecurity(*key, enabled=False)
        if (want.enabled, want.forced) != (have.enabled, have.forced):
            table = lock.tables.get(key)
            line = want.line or (table.line if table else settings.section_line("row_security"))
            yield d.RowSecurityChanged(
                subject=d.Subject("row-level security", key[0], key[1]),
                line=line,
                lock=want,
                live=have,
            )


def _policies(lock: Database, live: Database, settings: LockSettings) -> Iterator[d.Difference]:
    line = settings.section_line("row_security")
    for key, wanted in lock.policies.items():
        if ignored(key[0], key[1], settings.ignore):
            continue
        subject = d.Subject("policy", *key)
        found = live.policies.get(key)
        if found is None:
            yield d.MissingPolicy(subject=subject, line=wanted.line, lock=wanted)
        elif aspects := policy_aspects(wanted, found):
            yield d.PolicyChanged(
                subject=subject, line=wanted.line, lock=wanted, live=found, aspects=aspects
            )
    for key, found in live.policies.items():
        if key not in lock.policies and not ignored(key[0], key[1], settings.ignore):
            yield d.ExtraPolicy(subject=d.Subject("policy", *key), line=line, live=found)


def policy_aspects(want: Policy, have: Policy) -> frozenset[str]:
    """Which of POLICY_ASPECTS differ between two policies of one name on one table."""
    aspects = set()
    if want.command != have.command:
        aspects.add("command")
    if want.permissive != have.permissive:
        aspects.add("mode")
    if set(want.roles) != set(have.roles):
        aspects.add("roles")
    if not expressions.same(want.using, have.using):
        aspects.add("using")
    if not expressions.same(want.check, have.check):
        aspects.add("with check")
    return frozenset(aspects)
