"""Rules about the lock's waivers: one that expired, one that waives nothing.

Their findings depend on the day and on what the other rules found, so `check()` finds nothing
here: `schemalock.check.waivers.apply` reports them once every other rule has run (`verify`,
`lint` and `diff` call it), with the finding built by `about()` below.  Selecting or ignoring
them (`--ignore unused-waiver`) works as for any rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from schemalock.check.findings import Category, Finding, Severity
from schemalock.model import Waiver
from schemalock.rules.base import Context, Rule


def described(waiver: Waiver) -> str:
    """A waiver as messages name it: `waiver of extra-table on public.orgs`."""
    return f"waiver of {waiver.rule} on {waiver.object}"


class ExpiredWaiver(Rule):
    """A waiver's `expires` date has come: it waives nothing any more.

    ## What it checks
    Every waiver of the lock with an `expires:` date on or before today (the local date of the
    machine running schemalock). The findings it accepted are reported and counted again, and
    this warning points at the waiver's line.

    ## Why it matters
    An accepted exception is a debt with a date. Without the date being enforced, "temporary"
    waivers pile up and the lock stops saying anything; with it, the gate fails again when the
    promised fix is late, and the person who wrote the waiver has to look at it.

    ## Example
    `waivers: [{rule: extra-table, object: public.orgs, reason: consolidation pending,
    expires: 2027-03-01}]`, run on 2027-03-01 or later, while `public.orgs` still exists.

    ## Fix
    Do the work the waiver was waiting for and delete the waiver; or, if the exception still
    stands, give it a new date (and a reason that says why), which shows in review.
    """

    code, name = "SL007", "expired-waiver"
    severity, category = Severity.WARNING, Category.LOCK
    needs_database = False

    def check(self, context: Context) -> Iterator[Finding]:
        return iter(())  # reported by check.waivers.apply, which knows the day

    def about(self, waiver: Waiver, today: date) -> Finding:
        assert waiver.expires is not None
        return self.finding(
            f"{described(waiver)} expired on {waiver.expires.isoformat()} "
            f"({waiver.reason}): what it accepted counts again",
            line=waiver.line,
            expected=waiver.expires.isoformat(),
            actual=today.isoformat(),
        )


class UnusedWaiver(Rule):
    """A waiver matched no finding, or names no rule.

    ## What it checks
    Every waiver that has not expired accepts at least one finding of the run, and its `rule`
    is a rule code, a code prefix, a rule name or a category (`regression`, `data`, ...). A
    waiver is only judged when a rule it names ran: one for a data rule under `--no-data`, for
    a rule left out by `--select` or `--ignore`, for a check that was inconclusive, or for a
    regression outside `schemalock diff`, is not unused. Like ruff's RUF100 for `noqa`
    comments.

    ## Why it matters
    A waiver that accepts nothing is either stale (the problem was fixed, and the waiver would
    silently accept it if it came back) or wrong (a typo in the rule or the object, so the
    finding it was meant for still fails the gate, or worse, a broad glob waits to hide a new
    one).

    ## Example
    `{rule: extra-table, object: public.orgs, reason: consolidation pending}` after `orgs` was
    dropped; `{rule: extra-tabel, ...}`; `{rule: extra-table, object: orgs, ...}` (objects are
    schema-qualified: `public.orgs`).

    ## Fix
    Delete the waiver, or correct its `rule` or `object` (`schemalock verify --format json`
    shows each finding's rule, schema, table, column and constraint).
    """

    code, name = "SL008", "unused-waiver"
    severity, category = Severity.WARNING, Category.LOCK
    needs_database = False

    def check(self, context: Context) -> Iterator[Finding]:
        return iter(())  # reported by check.waivers.apply, which sees every rule's findings

    def about(self, waiver: Waiver, known_rule: bool) -> Finding:
        if not known_rule:
            message = (
                f"{described(waiver)} names no rule: {waiver.rule!r} is neither a rule code, "
                "code prefix, name nor category (see `schemalock rules`)"
            )
        else:
            message = f"{described(waiver)} matched no finding ({waiver.reason})"
        return self.finding(message, line=waiver.line)
